"""Settings for chengguan, driven by the environment (see .env.example)."""

import json
import os
from pathlib import Path

import dj_database_url


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("CHENGGUAN_HOME", BASE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A per-installation key kept under var/, so that sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY") else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("BEHIND_TLS_PROXY")
# Reverse proxies in front of the app that append to X-Forwarded-For; the client's address
# for login throttling and rate limits is read through them (1 behind nginx).
PROXY_HOPS = envint("PROXY_HOPS", 1 if envbool("BEHIND_TLS_PROXY") else 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from its own static files, never from a CDN
    "chengguan.worktime",
    "chengguan.geo",
    "chengguan.org",
    "chengguan.catalog",
    "chengguan.assets",
    "chengguan.cases",
    "chengguan.demo",
    "chengguan.web",
    "chengguan.evaluation",
    "chengguan.open311",
    "chengguan.imports",
    "chengguan.notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chengguan.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = os.environ.get("ROOT_URLCONF", "chengguan.urls")
WSGI_APPLICATION = "chengguan.wsgi.application"

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
                "django.template.context_processors.i18n",
                "chengguan.web.context_processors.navigation",
            ]
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'chengguan.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at
        # BEGIN so that two writers queue instead of failing half-way with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a real database file too, never an in-memory one; one per test process.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_chengguan")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = ["chengguan.org.backends.ThrottledModelBackend"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: this many failures per username or address within the window locks them out.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = envint("LOGIN_FAILURE_WINDOW_SECONDS", 900)
API_TOKEN_DAYS = envint("API_TOKEN_DAYS", 30)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("FILE_STORAGE", "django.core.files.storage.FileSystemStorage"),
        # Options of that backend as JSON, e.g. for django-storages' S3Storage:
        # {"bucket_name": "photos", "endpoint_url": "https://s3.example", "region_name": "cn-east-1"}
        "OPTIONS": json.loads(os.environ.get("FILE_STORAGE_OPTIONS") or "{}"),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads: photos above this many bytes are refused with 413.
PHOTO_MAX_BYTES = envint("PHOTO_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = PHOTO_MAX_BYTES + 1024 * 1024
# A CJK TrueType font for PDF bulletins (.ttf/.ttc); unset: the usual system paths are searched.
PDF_FONT = os.environ.get("PDF_FONT") or None
# Open311: the city answering requests without jurisdiction_id (default: the first city created).
OPEN311_DEFAULT_JURISDICTION = os.environ.get("OPEN311_DEFAULT_JURISDICTION") or None
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Notifications (docs/notifications.md): senders per channel as JSON {"sms": "dotted.path", …};
# the defaults send e-mail through Django, POST JSON to webhooks and only log SMS.
NOTIFY_SENDERS = json.loads(os.environ.get("NOTIFY_SENDERS") or "{}")
NOTIFY_DEPARTMENT_WEBHOOK = os.environ.get("NOTIFY_DEPARTMENT_WEBHOOK", "")
NOTIFY_WEBHOOK_TOKEN = os.environ.get("NOTIFY_WEBHOOK_TOKEN", "")
NOTIFY_WEBHOOK_TIMEOUT = envint("NOTIFY_WEBHOOK_TIMEOUT", 10)
NOTIFY_MAX_ATTEMPTS = envint("NOTIFY_MAX_ATTEMPTS", 6)
NOTIFY_RETRY_SECONDS = envint("NOTIFY_RETRY_SECONDS", 60)
NOTIFY_LEASE_SECONDS = envint("NOTIFY_LEASE_SECONDS", 300)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chengguan@localhost")
# The public site's address, put in front of case links in messages (e.g. https://12319.example.gov.cn).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
# A reporter may say "not fixed" this many days after closure, at most this many times per case.
PUBLIC_DISPUTE_DAYS = envint("PUBLIC_DISPUTE_DAYS", 30)
PUBLIC_DISPUTE_LIMIT = envint("PUBLIC_DISPUTE_LIMIT", 3)
# Attempts to prove being the reporter, per address and per case, per hour.
PUBLIC_PROOF_PER_HOUR = envint("PUBLIC_PROOF_PER_HOUR", 20)

# The cache holds rate-limit counters, so every worker process must share it: a file cache under
# var/ on one machine; Redis (CACHE_BACKEND=django.core.cache.backends.redis.RedisCache,
# CACHE_LOCATION=redis://127.0.0.1:6379) when several machines serve the city.
CACHES = {
    "default": {
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.filebased.FileBasedCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", str(VAR_DIR / "cache")),
    }
}

# Where the real public data sets live (tests and the demo read them in place).
SHARED_DATA_DIR = Path(os.environ.get("SHARED_DATA_DIR", PROJECT_DIR.parent / "shared" / "data"))

# Unit-grid sequence digits (3 → 15-digit grid codes, 2 → 14-digit).
GRID_SEQUENCE_DIGITS = envint("GRID_SEQUENCE_DIGITS", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Public endpoints: requests per address per minute.
PUBLIC_RATE_PER_MINUTE = envint("PUBLIC_RATE_PER_MINUTE", 30)

# Map background tiles, e.g. a city's own tile server "https://tiles.example.gov.cn/{z}/{x}/{y}.png".
# Empty by default: maps draw the vector layers (districts, streets, communities, grids) alone,
# so they work offline.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
# The coordinate system of those tiles: wgs84, or gcj02 for most Chinese web maps (pages then
# send points picked on the map with crs=gcj02).
MAP_TILE_CRS = os.environ.get("MAP_TILE_CRS", "wgs84")
