"""Settings for the VCC CRM Admin portal.

Every value comes from the environment through one ``environ.Env`` object (an optional ``.env`` file
beside ``manage.py`` is honoured). Production values have no defaults: a missing one is recorded in
``MISSING_REQUIRED_SETTINGS`` and reported by the ``crm_admin`` configuration system check, which stops
``runserver``, ``migrate`` and the WSGI/ASGI start-up with a message naming the variable.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from csp.constants import NONE, SELF

from vcc_portal.loopback import is_loopback_http

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)
MISSING_REQUIRED_SETTINGS: list[str] = []


def _required(name: str, dev_default: str) -> str:
    """Read a variable that production must set; in DEBUG fall back to a development-only value."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    MISSING_REQUIRED_SETTINGS.append(name)
    return ""


def _dev_fernet_key(label: str) -> str:
    """Derive a fixed Fernet key for development; never used with DEBUG off."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"vcc-dev-only:{label}".encode()).digest()).decode()


# The check refuses to start without a real key; this throwaway value only lets the check run.
SECRET_KEY = _required("SECRET_KEY", "django-insecure-dev-only-key-vcc-crm-admin-never-in-production") or (
    "unset-" + base64.b64encode(hashlib.sha256(str(BASE_DIR).encode()).digest()).decode()
)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# The public origin of the portal. The OAuth redirect URI is built from it, never from the Host header
# (RFC 6749 §3.1.2; checklist A5).
SITE_URL: str = (_required("SITE_URL", "http://127.0.0.1:8000") or "https://unset.invalid").rstrip("/")
SALESFORCE_CALLBACK_PATH = "/crm-admin/salesforce/callback/"
SALESFORCE_REDIRECT_URI = SITE_URL + SALESFORCE_CALLBACK_PATH

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_tasks",
    "axes",
    "crm_admin",
    "support",
    # The status API (/api/v1/); "ninja" serves its docs page's Swagger UI from our own static files.
    "ninja",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the 429 page
]

# --- Login throttling (django-axes; checklist F1) ---------------------------------------------------
# Failures are counted in the database, so every app server sees them. A username and a client address
# are each locked after the limit, whether or not the username exists (the error never says which).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that loads a request's user and permissions in one query (vcc_portal/auth.py).
    "vcc_portal.auth.PermissionsWithUserBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success clears only its own username's failures: axes' own reset also clears the client address's,
# which lets a holder of one account interleave valid logins with guesses at others (issue 11).
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "vcc_portal.login_throttle.UsernameResetDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "vcc_portal.client_ip.client_ip"
# How many reverse proxies in front of the portal append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

ROOT_URLCONF = "vcc_portal.urls"
WSGI_APPLICATION = "vcc_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_admin.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Checklist G2: select_for_update() is a no-op on SQLite; IMMEDIATE transactions take the write lock
    # at BEGIN so check-then-insert serialises, and the timeout makes contenders wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
# --- Database connections (README "Running at scale") ------------------------------------------------
# Opening a PostgreSQL connection costs more than a whole cheap page, so production keeps each worker's
# connection open (checked before reuse, replaced after CONN_MAX_AGE seconds). DATABASE_POOL switches to
# psycopg's connection pool instead (Django's OPTIONS["pool"]; PostgreSQL only, checked at start-up).
DATABASE_POOL: bool = env.bool("DATABASE_POOL", default=False)
if DATABASE_POOL:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
else:
    # Django's development server starts a thread per request, which defeats persistent connections.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Per-process memory by default; set CACHE_URL (e.g. redis://127.0.0.1:6379/1) to share one cache between
# app servers. Nothing cached is a secret or the only copy of anything.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Sessions live in the database; with a cache every app server shares (Redis, Memcached) they are read
# through it, saving a query per request. Never through a per-process cache: a session ended in one
# worker (logout, a new login) would stay alive in the others' copies.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if any(kind in CACHES["default"]["BACKEND"].lower() for kind in ("redis", "memcached"))
    else "django.contrib.sessions.backends.db"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "crm_admin:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic writes and WhiteNoise serves from in production (a start-up check names a missing
# collectstatic).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# In development (and tests) WhiteNoise serves straight from the finders; in production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security headers and cookies (checklist C1-C4) -------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"  # the CRM Admin page and the popup pages override it
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # not Strict: the OAuth callback is a cross-site top-level GET
CSRF_COOKIE_SAMESITE = "Lax"
# Scripts read the token from the page's form (static/js/crm_admin.js), never from the cookie (checklist C3).
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Preloading commits the whole domain to HTTPS in browsers' lists: the operator's decision
    # (README "Deploying"), so check --deploy does not insist on it.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# --- Token encryption --------------------------------------------------------------------------------
# Comma list of Fernet keys: the first encrypts, all decrypt (cryptography MultiFernet).
TOKEN_ENCRYPTION_KEYS: list[str] = [
    key.strip()
    for key in _required("TOKEN_ENCRYPTION_KEYS", _dev_fernet_key("token-encryption")).split(",")
    if key.strip()
]

# --- Salesforce ----------------------------------------------------------------------------------------
SALESFORCE_CLIENT_ID_RAW = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_EMULATOR: bool = env.bool("SALESFORCE_EMULATOR", default=DEBUG and not SALESFORCE_CLIENT_ID_RAW)


def _other_loopback(url: str) -> str:
    """Swap 127.0.0.1 and localhost so the emulator is a different origin from the portal, like Salesforce."""
    parts = urlsplit(url)
    host, _, port = parts.netloc.partition(":")
    swap = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(host, host)
    return urlunsplit(parts._replace(netloc=swap + (f":{port}" if port else "")))


if SALESFORCE_EMULATOR:
    # The emulator's seeded connected app (salesforce_emulator/seed.py); development values only.
    SALESFORCE_EMULATOR_URL = env.str(
        "SALESFORCE_EMULATOR_URL", default=_other_loopback(SITE_URL) + "/_emulator/salesforce"
    ).rstrip("/")
    SALESFORCE_CLIENT_ID = SALESFORCE_CLIENT_ID_RAW or "3MVG9emulatorVccCrmAdminConsumerKey"
    SALESFORCE_CLIENT_SECRET = env.str("SALESFORCE_CLIENT_SECRET", default="emulator-consumer-secret")
    _production_default = SALESFORCE_EMULATOR_URL + "/production"
    _sandbox_default = SALESFORCE_EMULATOR_URL + "/sandbox"
else:
    SALESFORCE_EMULATOR_URL = ""
    SALESFORCE_CLIENT_ID = SALESFORCE_CLIENT_ID_RAW
    SALESFORCE_CLIENT_SECRET = env.str("SALESFORCE_CLIENT_SECRET", default="")
    for _name in ("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"):
        if not globals()[_name]:
            MISSING_REQUIRED_SETTINGS.append(_name)
    _production_default = "https://login.salesforce.com"
    _sandbox_default = "https://test.salesforce.com"

SALESFORCE_PRODUCTION_LOGIN_URL: str = env.str("SALESFORCE_PRODUCTION_LOGIN_URL", default=_production_default).rstrip(
    "/"
)
SALESFORCE_SANDBOX_LOGIN_URL: str = env.str("SALESFORCE_SANDBOX_LOGIN_URL", default=_sandbox_default).rstrip("/")
SALESFORCE_API_VERSION: str = env.str("SALESFORCE_API_VERSION", default="62.0")
SALESFORCE_REQUIRED_PERMISSIONS: list[str] = env.list(
    "SALESFORCE_REQUIRED_PERMISSIONS", default=["PermissionsApiEnabled", "PermissionsEditTask"]
)
# Checklist H1: requests has no default timeout.
SALESFORCE_CONNECT_TIMEOUT = env.float("SALESFORCE_CONNECT_TIMEOUT", default=5.0)
SALESFORCE_READ_TIMEOUT = env.float("SALESFORCE_READ_TIMEOUT", default=15.0)

if SALESFORCE_EMULATOR:
    INSTALLED_APPS.append("salesforce_emulator")

# --- Content Security Policy (django-csp; checklist C1) ----------------------------------------------
# The link start form POSTs to us and we redirect to Salesforce, so its hosts belong in form-action.
_salesforce_origins = sorted(
    {
        urlunsplit(urlsplit(url)._replace(path="", query="", fragment=""))
        for url in (SALESFORCE_PRODUCTION_LOGIN_URL, SALESFORCE_SANDBOX_LOGIN_URL)
    }
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *_salesforce_origins],
    }
}

# --- Background work (Django's tasks API through the django-tasks backport) -------------------------
# The database queue survives restarts and serves workers on several machines (`manage.py run_worker`).
# Redis instead is configuration alone: TASKS_BACKEND=django_tasks_rq.RQBackend and TASKS_REDIS_URL.
DATABASE_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"
REDIS_TASKS_BACKEND = "django_tasks_rq.RQBackend"
TASKS = {"default": {"BACKEND": env.str("TASKS_BACKEND", default=DATABASE_TASKS_BACKEND)}}
INSTALLED_APPS.append("django_tasks_db")
if TASKS["default"]["BACKEND"] == REDIS_TASKS_BACKEND:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": env.str("TASKS_REDIS_URL", default="redis://127.0.0.1:6379/0")}}

# --- Link health, revoke retries, access tokens (crm_admin.services.health, revokes, grants) ---------
HEALTH_CHECK_INTERVAL = timedelta(seconds=env.int("HEALTH_CHECK_INTERVAL_SECONDS", default=6 * 60 * 60))
# Temporary failures (timeout, 5xx, rate limit) flip a link to "needs attention" only after this long.
HEALTH_CHECK_GRACE_PERIOD = timedelta(seconds=env.int("HEALTH_CHECK_GRACE_SECONDS", default=24 * 60 * 60))
HEALTH_CHECK_RETRY_INTERVAL = timedelta(seconds=env.int("HEALTH_CHECK_RETRY_SECONDS", default=15 * 60))
REVOKE_RETRY_BASE = timedelta(seconds=env.int("REVOKE_RETRY_BASE_SECONDS", default=5))
REVOKE_RETRY_MAX = timedelta(seconds=env.int("REVOKE_RETRY_MAX_SECONDS", default=60 * 60))
# Salesforce sends no expires_in (reference §3); introspection tells the expiry, else this conservative
# lifetime applies: 15 minutes is the shortest session timeout an org can set.
SALESFORCE_ACCESS_TOKEN_TTL = timedelta(seconds=env.int("SALESFORCE_ACCESS_TOKEN_TTL_SECONDS", default=15 * 60))

# --- Email (health notices to account admins, sent by the worker) -----------------------------------
# EMAIL_URL e.g. smtp+tls://user:password@smtp.example.com:587 (django-environ's email URL).
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="VCC CRM Admin <no-reply@localhost>")

# --- Logging: our own log calls never carry tokens, codes, state or secrets (checklist E5) -----------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "vcc_portal.logging.RedactQuerySecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        "server": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # runserver's access log prints request lines, the OAuth callback's code and state included.
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "urllib3": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        "requests_oauthlib": {"level": "WARNING"},
    },
}


if DEBUG and any(is_loopback_http(url) for url in (SALESFORCE_PRODUCTION_LOGIN_URL, SALESFORCE_SANDBOX_LOGIN_URL)):
    # oauthlib refuses plain-HTTP token URLs; a Salesforce stand-in on this machine (the emulator) is HTTP.
    # Only with DEBUG on and a loopback login URL: the configuration check refuses every other http:// URL.
    import os

    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
