"""Settings for the test suite: development defaults (the emulator on, dev keys), fast hashing.

Production-mode behaviour is tested by running ``manage.py check`` in a subprocess with DEBUG off.
"""

import os

os.environ.setdefault("DEBUG", "True")
os.environ.pop("SALESFORCE_CLIENT_ID", None)  # the emulator's connected app, whatever the shell says

from vcc_portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file (live-server threads share it), one per test process so parallel runs never collide.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(BASE_DIR / f"test_db_{os.getpid()}.sqlite3")  # noqa: F405

# Client.login() authenticates without a request, which django-axes refuses; the throttling tests turn
# it back on (tests/test_login_throttle.py).
AXES_ENABLED = False

# Tasks run in-process; the tests that run a real worker process configure the queue themselves.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
