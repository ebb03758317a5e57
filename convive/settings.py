"""All of Convive's settings, read once from environment variables.

With nothing set you get a development setup: SQLite in WAL mode under ``var/``, an in-memory
channel layer and cache, console e-mail. Production sets ``DATABASE_URL`` (PostgreSQL),
``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DEBUG=false``; nothing else changes
(``docs/deploy.md``).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from convive.config import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("CONVIVE_DATA_DIR", str(BASE_DIR / "var")))

DEV_SECRET_KEY = "convive-development-only-secret-key-do-not-use-in-production"  # noqa: S105
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY to a long random value when DEBUG is false.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",  # ASGI runserver (websockets for the command-centre console)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",  # serves the API docs (Swagger UI) from our own static files, not a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "convive.core",
    "convive.accounts",
    "convive.territories",
    "convive.institutions",
    "convive.justice",
    "convive.reports",
    "convive.open311",
    "convive.units",
    "convive.incidents",
    "convive.devices",
    "convive.analytics",
    "convive.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "convive.core.overload.OverloadMiddleware",  # sheds report intake beyond capacity: 503
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "convive.accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "convive.urls"
ASGI_APPLICATION = "convive.asgi.application"
WSGI_APPLICATION = "convive.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "convive" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "convive.accounts.context_processors.roles",
            ],
        },
    },
]

# --- Databases ------------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "convive.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", "") or f"sqlite:///{SQLITE_PATH}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN, so that
    # writers queue instead of failing, which is what select_for_update gives on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and each statement prepared after this many uses on a
    # connection: PostgreSQL stops parsing and planning the same few statements again (a third of
    # its work per report). Off when empty, the default: PgBouncer in transaction mode before
    # 1.21 cannot keep prepared statements.
    _prepare_threshold = env_int("DB_PREPARE_THRESHOLD", -1)
    if _prepare_threshold >= 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=_prepare_threshold
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache ---------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A read timeout above channels_redis's 5 s blocking read (redis-py's default equals
            # it, and an idle console's read then fails now and then); more than redis-py's 100
            # connections for the moments when hundreds of consoles leave at once.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 1000}]
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "convive",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts and security ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "core:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# django-axes: lock a username (from any address) and an address (for any username) after
# repeated failures; the lock lifts after the cool-off. Answers 429 with our template.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # no table of every login's address and user agent (least data)
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Client addresses the rate limits never apply to (convive/core/ratelimit.py); empty by default.
RATE_LIMIT_TRUSTED_ADDRESSES = frozenset(env_list("RATE_LIMIT_TRUSTED_ADDRESSES", []))
AXES_CLIENT_IP_CALLABLE = "convive.accounts.network.client_ip"

OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Convive")
# Staff sessions are short; citizens keep theirs for two weeks unless they log out.
STAFF_SESSION_SECONDS = env_int("STAFF_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HTTPS = env_bool("SECURE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# A strict Content-Security-Policy: every script, style, font and image comes from this site;
# no inline script or style attribute. Map tiles (a later setting) are the only foreign origin.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
# Shown on the map whenever tiles are (tile servers' licences ask for it); plain text.
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
_tile_origin = "/".join(MAP_TILE_URL.split("/")[:3]) if MAP_TILE_URL.startswith("http") else ""
_tile_origin = _tile_origin.replace("{s}.", "*.")  # Leaflet's {s} subdomains → a CSP wildcard
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *([_tile_origin] if _tile_origin else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation: Spanish first, English complete ---------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", "Español"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "convive" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "America/Bogota")

# --- Static files and uploads --------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "convive" / "static"]  # the site-wide stylesheet, icon, scripts
# Development serves static files from the apps (WhiteNoise finders); production collects them.
_static_root = env_str("STATIC_ROOT", "" if DEBUG else str(BASE_DIR / "staticfiles"))
STATIC_ROOT = Path(_static_root) if _static_root else None
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Convive <no-reply@convive.localhost>")

# --- Outside systems ------------------------------------------------------------------------------
# Text messages to citizens: Console (prints), Null (keeps in memory), or a vendor backend.
SMS_BACKEND = env_str("SMS_BACKEND", "convive.integrations.sms.console.ConsoleSmsBackend")
# Country calling code put in front of local numbers (57 Colombia, 52 Mexico); "" = none.
SMS_DEFAULT_CALLING_CODE = env_str("SMS_DEFAULT_CALLING_CODE", "")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)
# Twilio (SMS_BACKEND=convive.integrations.sms.twilio.TwilioSmsBackend).
SMS_TWILIO_ACCOUNT_SID = env_str("SMS_TWILIO_ACCOUNT_SID", "")
SMS_TWILIO_AUTH_TOKEN = env_str("SMS_TWILIO_AUTH_TOKEN", "")
SMS_TWILIO_FROM = env_str("SMS_TWILIO_FROM", "")
SMS_TWILIO_API_BASE = env_str("SMS_TWILIO_API_BASE", "https://api.twilio.com")
# The public address of the site, for links in e-mails and SMS (tracking pages, QR codes).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# The number to call when someone is in danger (shown with a call button before an SOS): the
# default, and per city as "city-slug=number" pairs (Bogotá 123, Mexico City 911).
EMERGENCY_NUMBER = env_str("EMERGENCY_NUMBER", "123")
EMERGENCY_NUMBERS = dict(
    pair.split("=", 1) for pair in env_list("EMERGENCY_NUMBERS", []) if "=" in pair
)
# How often the page of an SOS asks whether the command centre's response moved (seconds).
REPORT_LIVE_SECONDS = env_int("REPORT_LIVE_SECONDS", 20)

# --- Command centre -------------------------------------------------------------------------------
# A unit whose last position is older than this is placed at its home territory when units are
# recommended for an incident (the reason says so).
UNIT_POSITION_MAX_AGE_MINUTES = env_int("UNIT_POSITION_MAX_AGE_MINUTES", 10)

# --- Devices: street panic buttons, AVL over MQTT (docs/integrations.md) -------------------------
# How far a panic button's clock may be from the server's: a press sent further away is refused.
PANIC_MAX_CLOCK_SKEW_SECONDS = env_int("PANIC_MAX_CLOCK_SKEW_SECONDS", 30)
# The broker ``convive mqtt_listen`` reads: mqtt://[user:password@]host[:port], mqtts:// for TLS.
MQTT_URL = env_str("MQTT_URL", "mqtt://127.0.0.1:1883")
MQTT_TOPIC_PREFIX = env_str("MQTT_TOPIC_PREFIX", "convive")
# A fixed client id with a persistent session (clean_session false): the broker keeps QoS 1
# messages for the listener while it is restarting.
MQTT_CLIENT_ID = env_str("MQTT_CLIENT_ID", "convive-listener")

# --- API ------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50

# --- Load shedding (convive/core/overload.py), per server process ---------------------------------
# Report intake requests that run at once (0 turns shedding off), how many more may wait for a
# turn, and for how long; beyond that they are answered 503 with Retry-After at once.
OVERLOAD_MAX_IN_FLIGHT = env_int("OVERLOAD_MAX_IN_FLIGHT", 2)
OVERLOAD_MAX_WAITING = env_int("OVERLOAD_MAX_WAITING", 16)
OVERLOAD_QUEUE_MS = env_int("OVERLOAD_QUEUE_MS", 500)

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}
