"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vcc_portal.settings")

application = get_asgi_application()

from vcc_portal.startup import fail_on_configuration_errors  # noqa: E402  (needs the app registry)

fail_on_configuration_errors()
