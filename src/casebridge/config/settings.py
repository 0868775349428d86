"""Django settings, read from the environment.

CASEBRIDGE_ENV selects the profile: ``development`` (default), ``test`` or
``production``. Production refuses to start with a missing or default secret key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
ENVIRONMENT = os.environ.get("CASEBRIDGE_ENV", "development")
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"CASEBRIDGE_ENV must be development, test or production, not {ENVIRONMENT!r}")
PRODUCTION = ENVIRONMENT == "production"

DATA_DIR = Path(os.environ.get("CASEBRIDGE_DATA_DIR", Path.cwd() / "var")).resolve()

DEVELOPMENT_SECRET_KEY = "casebridge-development-key-not-for-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 32 characters in production")

DEBUG = os.environ.get("DEBUG", "0") == "1" and not PRODUCTION
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "rules.apps.AutodiscoverRulesConfig",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "casebridge.accounts",
    "casebridge.audit",
    "casebridge.patients",
    "casebridge.cases",
    "casebridge.careplans",
    "casebridge.tasks",
    "casebridge.communications",
    "casebridge.clinical",
    "casebridge.interop",
    "casebridge.postacute",
    "casebridge.coverage",
    "casebridge.utilization",
    "casebridge.hospital",
    "casebridge.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "casebridge.web.limits.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "casebridge.accounts.middleware.ActorMiddleware",
    "casebridge.web.errors.DomainErrorMiddleware",
]

ROOT_URLCONF = "casebridge.config.urls"
WSGI_APPLICATION = "casebridge.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casebridge.web.context.navigation",
            ],
        },
    }
]


def _database_config() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        parsed = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        parsed = dj_database_url.parse(f"sqlite:///{DATA_DIR / 'casebridge.sqlite3'}")
    config: dict[str, Any] = dict(parsed)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run while one writer commits; IMMEDIATE transactions
        # take the write lock up front so concurrent writers wait instead of
        # failing with "database is locked" halfway through a transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536;"
            ),
        }
        config["CONN_MAX_AGE"] = 0 if ENVIRONMENT == "test" else 600
        config["TEST"] = {"NAME": os.environ.get("CASEBRIDGE_TEST_SQLITE")}  # None: in memory
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Server-side parameter binding lets psycopg prepare the statements a session runs again and
        # again (after DB_PREPARE_THRESHOLD runs), so PostgreSQL parses and plans them once per session
        # instead of once per run: on the HL7 feed that was a third of the database's CPU. Set it to
        # "off" where sessions are shared between clients (PgBouncer in transaction mode).
        threshold = os.environ.get("DB_PREPARE_THRESHOLD", "5")
        config["OPTIONS"] = {
            "server_side_binding": True,
            "prepare_threshold": None if threshold.lower() in ("", "off", "none") else int(threshold),
        }
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
if ENVIRONMENT == "test" and os.environ.get("CASEBRIDGE_FAST_HASHER", "1") == "1":
    # Argon2 is deliberately slow; tests that create hundreds of users use MD5.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "worklist"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling: this many failures per username (or per client
# address) within the window locks further attempts until the window passes.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))

SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: the age counts from the last request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Bodies above this size are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", str(5 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(DATA_UPLOAD_MAX_MEMORY_SIZE, DOCUMENT_MAX_BYTES + 1024 * 1024)
MEDIA_ROOT = Path(os.environ.get("CASEBRIDGE_MEDIA_ROOT", DATA_DIR / "media"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Web uploads import on a thread of the web process while the page shows progress; tests import
# inline (a thread cannot see a test's uncommitted rows), except those that exercise the thread.
FHIR_UPLOAD_IN_BACKGROUND = ENVIRONMENT != "test"

# Worker processes that validate a bulk import's next chunk while the importer writes the one before
# (interop/fhir/validation.py): one where there is a core to spare, none on a single core. 0 turns
# them off; imports then validate in their own process, with the same results. Tests turn it on
# where they exercise it, so that elsewhere which process validated never hangs on when a worker
# happened to be ready.
FHIR_VALIDATION_PROCESSES = int(
    os.environ.get(
        "CASEBRIDGE_FHIR_VALIDATION_PROCESSES", "1" if (os.cpu_count() or 1) > 1 and ENVIRONMENT != "test" else "0"
    )
)

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if ENVIRONMENT == "test"
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The FHIR API is mounted at "fhir/r4" without a trailing slash (FHIR base URLs have none), so its
# own routes start with "/"; Django's check for leading slashes does not apply to that layout.
SILENCED_SYSTEM_CHECKS = ["urls.W002"]
