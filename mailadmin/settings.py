"""mailadmin settings: one module, read from the environment.

No environment at all gives the embedded default: SQLite next to the project, Celery tasks run
eagerly in-process, DEBUG on (served on localhost only), e-mail printed to the console.
Production differs only by environment variables; see the configuration table in README.md.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if not raw:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw else default


# The embedded default is the only mode where DEBUG may be on and the secret may be a dev one.
EMBEDDED = not _env("DATABASE_URL")
DEBUG = _env_bool("DEBUG", EMBEDDED)
SECRET_KEY = _env("SECRET_KEY") or (
    "embedded-dev-only-" + "x" * 40 if EMBEDDED else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set.")

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if EMBEDDED else "")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "mailadmin.apps.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # request.htmx, and the htmx script (vendored in its wheel) served from our static files.
    "django_htmx",
    "django_otp",
    # Passkeys: its user handles, checks, JS and JS catalogue; the credentials are its model too.
    "django_otp_webauthn",
    "axes",
    "auditlog",
    "tenants",
    "notifications",
    "accounts",
    "security",
    "activity",
    "alerts",
    "retention",
    "people",
    "me",
    "mailadmin",
]

MIDDLEWARE = [
    "mailadmin.middleware.RequestIdMiddleware",  # first: every log line and the 500 page carry it
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mailadmin.middleware.HtmxSignInRedirectMiddleware",  # an expired session reloads the page
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tenants.middleware.TenantMiddleware",
    "security.sessions.middleware.SessionPolicyMiddleware",
    "mailadmin.middleware.SignedInNoStoreMiddleware",  # Cache-Control: no-store when signed in
    "activity.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mailadmin.urls"
WSGI_APPLICATION = "mailadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mailadmin.context_processors.console",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if EMBEDDED:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _env("MAILADMIN_SQLITE_PATH") or str(BASE_DIR / "var" / "mailadmin.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
else:
    DATABASES = {
        "default": dj_database_url.parse(
            _env("DATABASE_URL"), conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
]
# Argon2 first: new and re-hashed passwords use it; the others only verify old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Operators (Django admin) use these; tenant people get their tenant's policy instead
# (security.policies.password.validators.password_validators_for).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "display_name")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "signin"
INVITATION_TTL_HOURS = _env_int("MAILADMIN_INVITATION_TTL_HOURS", 72)
# Password recovery (security.recovery): how long a reset link works, and requests per hour
# per address (beyond it nothing is sent; the page is the same) and per IP (beyond it a 429).
PASSWORD_RESET_TTL_MINUTES = _env_int("MAILADMIN_PASSWORD_RESET_TTL_MINUTES", 60)
PASSWORD_RESET_PER_ADDRESS_PER_HOUR = _env_int("MAILADMIN_PASSWORD_RESET_PER_ADDRESS_PER_HOUR", 3)
PASSWORD_RESET_PER_IP_PER_HOUR = _env_int("MAILADMIN_PASSWORD_RESET_PER_IP_PER_HOUR", 20)

# --- Sessions and cookies -------------------------------------------------------------------
SESSION_ENGINE = "security.sessions.store"  # the db engine, one statement per write
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
# Off only for plain-HTTP test servers (the browser tests); on in production.
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz and /readyz are probed over plain HTTP from inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Django 6's built-in Content Security Policy: everything from our own origin, nothing else.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Client IP (activity.clientip) ----------------------------------------------------------
# Number of reverse proxies in front of the app, and/or the networks they live in. With neither,
# REMOTE_ADDR is the client and X-Forwarded-For is ignored.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXY_CIDRS = [ipaddress.ip_network(c, strict=False) for c in _env_list("TRUSTED_PROXY_CIDRS")]

# --- Capture (activity.capture) ---------------------------------------------------------------
# Country lookup: a class with country(ip) -> "CC"; swap in a GeoIP2 City reader if you have one.
MAILADMIN_COUNTRY_RESOLVER = _env(
    "MAILADMIN_COUNTRY_RESOLVER", "activity.capture.country.IptoccCountryResolver"
)
# Parsed User-Agents kept per process (LRU, ~450 bytes each); real traffic repeats a few hundred.
MAILADMIN_UA_CACHE_SIZE = _env_int("MAILADMIN_UA_CACHE_SIZE", 16384)

# --- Field encryption -----------------------------------------------------------------------
# Comma-separated Fernet keys, newest first (MultiFernet). Independent of SECRET_KEY.
FIELD_ENCRYPTION_KEYS = _env_list("FIELD_ENCRYPTION_KEYS") or (
    ["Xo8gGk8g0mbJ6ae1mJ7k2tqKk2v2y3zJq2zvGJ3e6Ww="] if EMBEDDED else []
)

if not EMBEDDED:
    from django.core.exceptions import ImproperlyConfigured

    # Fail at start-up, not at the first request (400s) or the first MFA enrolment.
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DATABASE_URL is set.")
    if not FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DATABASE_URL is set.")

# --- Lockout (django-axes); per-tenant limits come from security.policies.lockout -------------
AXES_ENABLED = _env_bool("AXES_ENABLED", True)
# Per tenant (security.policies.lockout; defaults 5 failures, 15 minutes, never permanent).
AXES_FAILURE_LIMIT = "security.signin.lockout.failure_limit"
AXES_COOLOFF_TIME = "security.signin.lockout.cooloff"
# Each attempt keeps its own expiry: one tenant's short cool-off must not clear another's locks.
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "security.signin.lockout.username_from_request"
AXES_CLIENT_IP_CALLABLE = "activity.clientip.client_ip_for_axes"
AXES_LOCKOUT_CALLABLE = "security.signin.lockout.lockout_response"
AXES_VERBOSE = False

# --- Audit trail (django-auditlog) ----------------------------------------------------------
AUDITLOG_LOGENTRY_MODEL = "activity.AuditLogEntry"
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_INCLUDE_ALL_MODELS = False
# auditlog's own LogEntry is swapped out for activity.AuditLogEntry; its migrations would still
# create (and never clean) an unused table, so the app runs unmigrated and creates nothing.
MIGRATION_MODULES = {"auditlog": None}

# --- OTP --------------------------------------------------------------------------------------
OTP_TOTP_ISSUER = _env("OTP_TOTP_ISSUER", "mailadmin")

# --- Cache, Redis and Celery ----------------------------------------------------------------
REDIS_URL = _env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis outage must cost a request milliseconds, not a hang.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Beat writes this key every minute; /readyz reports stale beat when it is older than 3 minutes.
BEAT_HEARTBEAT_MAX_AGE = _env_int("BEAT_HEARTBEAT_MAX_AGE", 180)

# --- E-mail -----------------------------------------------------------------------------------
if _env("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _env("EMAIL_HOST"),
                "port": _env_int("EMAIL_PORT", 587),
                "username": _env("EMAIL_HOST_USER"),
                "password": _env("EMAIL_HOST_PASSWORD"),
                "use_tls": _env_bool("EMAIL_USE_TLS", True),
                # A slow mail server must not hold a request or a worker for long.
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", "mailadmin <no-reply@localhost>")
# Absolute links in e-mails (invitations) are built from this. Embedded, it follows the port the
# console is served on (`make run PORT=8301` sets MAILADMIN_PORT), so the links open it.
PUBLIC_BASE_URL = (
    _env("PUBLIC_BASE_URL") or f"http://127.0.0.1:{_env_int('MAILADMIN_PORT', 8000) if EMBEDDED else 8000}"
).rstrip("/")

# --- Passkeys (django-otp-webauthn; accounts/mfa/passkeys.py) -----------------------------------
# A passkey is bound to the relying-party id (a domain, never an IP address: browsers refuse
# 127.0.0.1) and accepted only from the allowed origins. Both follow PUBLIC_BASE_URL when it is an
# https address; otherwise (the embedded default, plain-HTTP test servers) http://localhost on the
# served port, the one plain-HTTP origin browsers treat as secure. Changing the id later makes
# every registered passkey useless.
def _passkey_origin() -> str:
    parts = urlsplit(PUBLIC_BASE_URL)
    if parts.scheme == "https" and parts.hostname:
        try:
            ipaddress.ip_address(parts.hostname)
        except ValueError:
            return f"https://{parts.netloc}"
    return f"http://localhost:{parts.port or _env_int('MAILADMIN_PORT', 8000)}"


OTP_WEBAUTHN_ALLOWED_ORIGINS = _env_list("OTP_WEBAUTHN_ALLOWED_ORIGINS") or [_passkey_origin()]
OTP_WEBAUTHN_RP_ID = (_env("OTP_WEBAUTHN_RP_ID")
                      or urlsplit(OTP_WEBAUTHN_ALLOWED_ORIGINS[0]).hostname or "localhost")
OTP_WEBAUTHN_RP_NAME = _env("OTP_WEBAUTHN_RP_NAME", "mailadmin")
# A passkey is a second factor after the password, never a way to sign in without one: the
# sign-in pipeline (security/signin/passkeys.py) runs every policy first.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "accounts.mfa.passkeys.PasskeyHelper"
OTP_WEBAUTHN_TIMEOUT_SECONDS = 120

# --- Retention (activity.lifetime: the policy; retention/: sweeps, holds, reports) ---------------
# Personal activity is visible for visible_days, then in a grey zone until purge_days, then purged.
# A tenant's purge_days stays between the floor (six months, what network-log rules commonly
# require) and the ceiling; the audit trail has its own retention with its own floor.
RETENTION_DEFAULT_VISIBLE_DAYS = 90
RETENTION_DEFAULT_PURGE_DAYS = 180
RETENTION_MIN_PURGE_DAYS = _env_int("RETENTION_MIN_PURGE_DAYS", 180)
RETENTION_MAX_PURGE_DAYS = _env_int("RETENTION_MAX_PURGE_DAYS", 730)
RETENTION_DEFAULT_AUDIT_DAYS = 365
RETENTION_MIN_AUDIT_DAYS = _env_int("RETENTION_MIN_AUDIT_DAYS", 180)
# The nightly sweep (retention/sweep.py): rows per DELETE batch and the pause between batches
# (short transactions, so sign-ins never wait long on its locks); the share of its wall time it
# works (percent; after each unit of work it rests in proportion); how long a partition DROP may
# wait for the record's parent table before the day is left for the batches; and its time budget,
# below the task's time limit (retention/tasks.py), after which it stops and resumes the next night.
RETENTION_SWEEP_BATCH_SIZE = _env_int("RETENTION_SWEEP_BATCH_SIZE", 5000)
RETENTION_SWEEP_PAUSE_MS = _env_int("RETENTION_SWEEP_PAUSE_MS", 20)
RETENTION_SWEEP_DUTY = _env_int("RETENTION_SWEEP_DUTY", 20)
RETENTION_SWEEP_LOCK_TIMEOUT_MS = _env_int("RETENTION_SWEEP_LOCK_TIMEOUT_MS", 500)
RETENTION_SWEEP_BUDGET_SECONDS = _env_int("RETENTION_SWEEP_BUDGET_SECONDS", 25 * 60)

# --- Alerts (alerts/) ---------------------------------------------------------------------------
# The detector (alerts.detect) runs in the worker every ALERTS_DETECT_INTERVAL_SECONDS (beat);
# embedded (eager Celery, no beat) it runs in process right after a sign-in or export commits.
ALERTS_DETECT_EAGER = _env_bool("ALERTS_DETECT_EAGER", CELERY_TASK_ALWAYS_EAGER)
ALERTS_DETECT_INTERVAL_SECONDS = float(_env("ALERTS_DETECT_INTERVAL_SECONDS", "2"))
ALERTS_DETECT_BATCH_SIZE = _env_int("ALERTS_DETECT_BATCH_SIZE", 2000)
# Rows that commit this long after a higher id are still detected (see alerts.detect).
ALERTS_DETECT_LOOKBACK_SECONDS = _env_int("ALERTS_DETECT_LOOKBACK_SECONDS", 120)
# An alert about a sign-in older than this (the detector catching up after an outage, or judging
# an existing install's history the first time) e-mails nobody at once: it waits on the alerts
# page and in the digest, so nobody is asked "Was this you?" about last month.
ALERTS_NOTIFY_MAX_AGE_HOURS = _env_int("ALERTS_NOTIFY_MAX_AGE_HOURS", 24)
# Optional GeoIP2 / GeoLite2 City database (.mmdb) for city-precise impossible travel; without
# it places are country centroids (alerts/data).
MAILADMIN_GEOIP2_CITY_DB = _env("MAILADMIN_GEOIP2_CITY_DB")

# --- Notifications (notifications/: the outbox and webhooks) -------------------------------------
# Embedded there is no beat: outbox rows are delivered in process right after their transaction
# commits. With a worker and beat, the beat task delivers them and no request ever sends.
NOTIFICATIONS_DELIVER_ON_COMMIT = _env_bool("NOTIFICATIONS_DELIVER_ON_COMMIT",
                                            CELERY_TASK_ALWAYS_EAGER)
# 40 attempts with the backoff below keep trying for about a day (a mail outage overnight loses
# nothing); then the row is marked failed and shows so in the e-mail log.
NOTIFICATIONS_MAX_ATTEMPTS = _env_int("NOTIFICATIONS_MAX_ATTEMPTS", 40)
NOTIFICATIONS_RETRY_BASE_SECONDS = _env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 30)
NOTIFICATIONS_RETRY_MAX_SECONDS = _env_int("NOTIFICATIONS_RETRY_MAX_SECONDS", 3600)
# A claimed row whose worker died is due again after this; longer than a batch of slow sends.
NOTIFICATIONS_LEASE_SECONDS = _env_int("NOTIFICATIONS_LEASE_SECONDS", 300)
WEBHOOKS_TIMEOUT_SECONDS = _env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
# Operator switches for receivers on a private network; off, webhooks reach only public https.
WEBHOOKS_ALLOW_HTTP = _env_bool("WEBHOOKS_ALLOW_HTTP", False)
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = _env_bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)

# --- People import (people/imports: CSV upload, dry-run preview, apply) -------------------------
# The most data rows one file may hold, and its largest size; a bigger file is refused whole.
PEOPLE_IMPORT_MAX_ROWS = _env_int("PEOPLE_IMPORT_MAX_ROWS", 100_000)
PEOPLE_IMPORT_MAX_BYTES = _env_int("PEOPLE_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# Rows judged or applied per transaction (the unit a killed worker's successor resumes after).
PEOPLE_IMPORT_BATCH_ROWS = _env_int("PEOPLE_IMPORT_BATCH_ROWS", 1000)
# Embedded (eager Celery, no beat): run the preview and apply in process once the request commits.
PEOPLE_IMPORT_RUN_ON_COMMIT = _env_bool("PEOPLE_IMPORT_RUN_ON_COMMIT", CELERY_TASK_ALWAYS_EAGER)

# --- Mail clients (security/mailauth) ---
# Dovecot's auth-policy endpoint (/mailauth/policy): empty secret = the endpoint answers 404.
# Dovecot sends it as ``auth_policy_server_api_header = X-API-Key:<secret>``.
MAILADMIN_MAIL_POLICY_SECRET = _env("MAILADMIN_MAIL_POLICY_SECRET")
# Where the mail servers call from (the request's own peer address, never a forwarded header).
MAILADMIN_MAIL_POLICY_NETWORKS = _env_list("MAILADMIN_MAIL_POLICY_NETWORKS", "127.0.0.1/32,::1/128")
# When deciding fails (the database is away): let mail sign-ins through (open) or refuse them.
MAILADMIN_MAIL_POLICY_FAIL_OPEN = _env_bool("MAILADMIN_MAIL_POLICY_FAIL_OPEN", False)
# Longest tarpit delay (seconds) for a mail client past the soft lockout threshold; 0 = off.
MAILADMIN_MAIL_TARPIT_MAX_SECONDS = _env_int("MAILADMIN_MAIL_TARPIT_MAX_SECONDS", 15)

# --- I18N -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Every user-facing string is marked for translation; a language is listed here only once its
# catalogue under locale/ exists, so nobody can pick a language that silently stays English.
# Each language is named in itself, so a person who cannot read the current one finds theirs.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static -----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(_env("STATIC_ROOT") or BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line names the request it was written for (mailadmin.middleware: the X-Request-ID the
    # response and the 500 page carry), "-" outside one.
    "filters": {"request_id": {"()": "mailadmin.middleware.RequestIdLogFilter"}},
    "formatters": {"console": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "console"}},
    "root": {"handlers": ["console"], "level": _env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Must pass every demo person's password policy (seed_demo refuses one that does not): no word
# of a demo person's or company's name ("admin", "acme"…), at least 12 characters.
DEMO_PASSWORD = _env("MAILADMIN_DEMO_PASSWORD", "Demo-console-2026!")
