"""The portal's own settings plus the benchmark's baseline view; used only by ``make bench``.

Every value comes from ``vcc_portal.settings`` (so from the same environment as a deployment); the only
additions are the ``bench`` app and a root URLconf that mounts ``/_bench/baseline/``. No deployment
names this module, so the baseline never exists outside a benchmark run.
"""

from vcc_portal.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
