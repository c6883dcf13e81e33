"""WSGI entry point (gunicorn vcc_portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vcc_portal.settings")

application = get_wsgi_application()

from vcc_portal.startup import fail_on_configuration_errors  # noqa: E402  (needs the app registry)

fail_on_configuration_errors()
