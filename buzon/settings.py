"""Buzón settings: one file, read from the environment through typed helpers (buzon/env.py).

BUZON_ENV selects the profile: `development` (the default, what `make run` uses), `test`
(set by the pytest plugin buzon.testing) or `production`, which refuses to start without its
secrets and serves cookies only over HTTPS.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from buzon.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_required,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BUZON_VAR_DIR", str(BASE_DIR / "var")))

ENV = env_choice("BUZON_ENV", "development", ("development", "test", "production"))
PRODUCTION = ENV == "production"
TESTING = ENV == "test"

DEBUG = env_bool("DJANGO_DEBUG", default=False)
if DEBUG and PRODUCTION:
    raise ImproperlyConfigured("DJANGO_DEBUG=true is not allowed with BUZON_ENV=production")
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", dev_dir=VAR_DIR / "secrets", generate=not PRODUCTION)
# Encrypts private files at rest (constancias carry the only copy of a new password).
FILE_ENCRYPTION_KEY = env_secret(
    "BUZON_FILE_ENCRYPTION_KEY", dev_dir=VAR_DIR / "secrets", generate=not PRODUCTION
)

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required in production")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# A form sent after its session ended gets the site's own page, not Django's technical one.
CSRF_FAILURE_VIEW = "ui.views.csrf_failure"
# Absolute base URL printed in documents (QR codes on constancias point here).
PORT = env_int("PORT", 8000, minimum=1)
# Printed on every constancia and QR code for good, so production must say it explicitly.
PUBLIC_BASE_URL = (
    env_required("BUZON_PUBLIC_BASE_URL")
    if PRODUCTION
    else env_str("BUZON_PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}")
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_countries",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # the API docs page's Swagger UI from our own static files, not a CDN
    "buzon",  # project-wide set-up (buzon/apps.py)
    # Buzón, by domain
    "ui",
    "accounts",
    "people",
    "procedures",
    "legaltime",
    "evidence",
    "mailboxes",
    "corrections",
    "payments",
    "alerts",
    "api",
    "agency",  # before backoffice: its permission must exist when the groups are ensured
    "backoffice",
    "verification",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ui.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.AbsoluteSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "buzon.urls"
WSGI_APPLICATION = "buzon.wsgi.application"

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
                "ui.context_processors.agency",
                "mailboxes.context_processors.unread",
            ],
        },
    },
]

# --- Database: SQLite under var/ by default, DATABASE_URL selects PostgreSQL -------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "buzon.sqlite3"),
            # Kept open between requests, as PostgreSQL's: a fresh connection per request
            # starts with an empty page cache (measured: ~13% slower batch deposits).
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # WAL lets the web server and the task worker read while the other writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory: in-memory SQLite shares its cache with table locks and
            # ignores the busy timeout, so concurrency tests would see errors production never
            # does.
            # One file per process, so parallel runs never share it.
            "TEST": {"NAME": str(VAR_DIR / f"test-buzon-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity and access -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: a locked-out identity or IP is refused before any password hash is computed.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "accounts.hashers.BuzonArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
if TESTING:
    # Fast hashing for the suite; tests that are about hashing switch back explicitly.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "mailbox:home"

# Throttling (django-axes): per identity and per IP, checked before any hash is computed.
AXES_HANDLER = "accounts.throttling.BuzonAxesHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("BUZON_LOGIN_FAILURES_PER_IDENTITY", 5, minimum=1)
BUZON_LOGIN_FAILURES_PER_IP = env_int("BUZON_LOGIN_FAILURES_PER_IP", 30, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("BUZON_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = False
# Behind N reverse proxies, the client is the Nth address from the right of X-Forwarded-For.
# With no proxy the header is ignored: a client could forge it to escape the per-IP limit.
BUZON_TRUSTED_PROXY_COUNT = env_int("BUZON_TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
# A lockout ends on time even if someone keeps trying: otherwise anyone who knows a document
# number could keep its owner out indefinitely.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_SENSITIVE_PARAMETERS = ["password", "doc_number"]

# Sessions: 15 minutes idle (the cookie is refreshed on every request), 8 hours absolute.
SESSION_COOKIE_AGE = env_int("BUZON_SESSION_IDLE_SECONDS", 15 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ENGINE = "accounts.sessions"
SESSION_ABSOLUTE_SECONDS = env_int("BUZON_SESSION_ABSOLUTE_SECONDS", 8 * 3600, minimum=60)
SECURE_COOKIES = env_bool("BUZON_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("BUZON_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("BUZON_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "es-pe"
LANGUAGES = [("es-pe", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/Lima"
USE_TZ = True

# --- Files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it; WhiteNoise warns when it is missing
WHITENOISE_USE_FINDERS = not PRODUCTION
PRIVATE_MEDIA_ROOT = VAR_DIR / "private"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    # Never served directly: files here are read by views that check permissions first.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if ENV != "test"
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# The credentials copy of a constancia can be downloaded by the officer who issued it for
# this long; then it is purged (procedures.actions.purge_expired_credentials).
BUZON_CREDENTIALS_PICKUP_HOURS = env_int("BUZON_CREDENTIALS_PICKUP_HOURS", 24, minimum=1)

# --- Legal time (legaltime app) -----------------------------------------------------------
# When a deposited notification takes effect: on_deposit | next_business_day |
# on_opening_or_after_business_days:N | on_opening_or_after_calendar_days:N
BUZON_NOTIFICATION_POLICY = env_str("BUZON_NOTIFICATION_POLICY", "on_deposit")
if not re.fullmatch(
    r"on_deposit|next_business_day|on_opening_or_after_(business|calendar)_days:[1-9][0-9]*",
    BUZON_NOTIFICATION_POLICY,
):
    raise ImproperlyConfigured(
        "BUZON_NOTIFICATION_POLICY must be on_deposit, next_business_day, "
        "on_opening_or_after_business_days:N or on_opening_or_after_calendar_days:N, "
        f"got {BUZON_NOTIFICATION_POLICY!r}"
    )
# Office hours for art. 18 (America/Lima): a deposit outside them counts from the next
# business day.
BUZON_BUSINESS_HOURS_START = env_str("BUZON_BUSINESS_HOURS_START", "08:30")
BUZON_BUSINESS_HOURS_END = env_str("BUZON_BUSINESS_HOURS_END", "16:30")

# --- Notifications ----------------------------------------------------------------------------
BUZON_ATTACHMENT_MAX_BYTES = env_int("BUZON_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
BUZON_ATTACHMENTS_PER_NOTIFICATION = env_int("BUZON_ATTACHMENTS_PER_NOTIFICATION", 10, minimum=1)

# --- Alerts ----------------------------------------------------------------------------------
BUZON_ALERT_MAX_ATTEMPTS = env_int("BUZON_ALERT_MAX_ATTEMPTS", 5, minimum=1)
BUZON_ALERT_RETRY_BASE_SECONDS = env_int("BUZON_ALERT_RETRY_BASE_SECONDS", 60, minimum=1)
DEFAULT_FROM_EMAIL = env_str(
    "BUZON_FROM_EMAIL", "Buzón Electrónico <no-responder@buzon.migraciones.gob.pe>"
)
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 15
if EMAIL_HOST or PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    # Development without a mail server: each message is a file under var/mail/.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
BUZON_SMS_BACKEND = env_str("BUZON_SMS_BACKEND", "alerts.sms.LoggingSmsBackend")
BUZON_SMS_URL = env_str("BUZON_SMS_URL", "")
BUZON_SMS_TOKEN = env_str("BUZON_SMS_TOKEN", "")
if PRODUCTION and BUZON_SMS_BACKEND == "alerts.sms.LoggingSmsBackend":
    # It would record SMS alerts as sent that never left, and write codes to the log.
    raise ImproperlyConfigured("BUZON_SMS_BACKEND must be a real provider in production")
if BUZON_SMS_BACKEND == "alerts.sms.HttpSmsBackend" and not (BUZON_SMS_URL and BUZON_SMS_TOKEN):
    raise ImproperlyConfigured("HttpSmsBackend needs BUZON_SMS_URL and BUZON_SMS_TOKEN")

# Attachments go to the filesystem (var/media) unless an S3-compatible bucket is configured.
BUZON_S3_BUCKET = env_str("BUZON_S3_BUCKET", "")
if BUZON_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUZON_S3_BUCKET,
            "endpoint_url": env_str("BUZON_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("BUZON_S3_REGION", "") or None,
            "access_key": env_str("BUZON_S3_ACCESS_KEY", ""),
            "secret_key": env_str("BUZON_S3_SECRET_KEY", ""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Background work ------------------------------------------------------------------------
# The database backend by default; with REDIS_URL, RQ over Redis so workers can run on several
# machines (`manage.py rqworker default --with-scheduler`, as many as you like). Tests run
# tasks inline unless REDIS_URL is set, which .ci/run does for a second pass.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}
    RQ = {"JOB_CLASS": "django_tasks_rq.backend.Job"}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TESTING:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Cache: shared by every web process, because rate limits count in it ---------------------
# Redis with REDIS_URL; otherwise a table in the database (`manage.py createcachetable`, which
# `make run` runs; test databases get it when they are created), with an atomic increment.
if REDIS_URL:
    CACHES: dict[str, dict[str, object]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "buzon",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "verification.ratelimit.AtomicDatabaseCache",
            "LOCATION": "buzon_cache",
            # Culling deletes live entries once it is full, so leave room for many clients.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# django-ratelimit: the client is found as for login throttling (BUZON_TRUSTED_PROXY_COUNT).
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "accounts.throttling.client_ip"
RATELIMIT_CACHE_PREFIX = "rl:"

# --- Public verification (/verificar/) -------------------------------------------------------
# Per client address and window: code lookups, and PDF uploads checked against the registry.
BUZON_VERIFY_WINDOW_MINUTES = env_int("BUZON_VERIFY_WINDOW_MINUTES", 10, minimum=1)
BUZON_VERIFY_LOOKUPS_PER_IP = env_int("BUZON_VERIFY_LOOKUPS_PER_IP", 30, minimum=1)
BUZON_VERIFY_UPLOADS_PER_IP = env_int("BUZON_VERIFY_UPLOADS_PER_IP", 10, minimum=1)
# The largest PDF that can be checked (it is hashed as it arrives and never stored).
BUZON_VERIFY_UPLOAD_MAX_BYTES = env_int(
    "BUZON_VERIFY_UPLOAD_MAX_BYTES", BUZON_ATTACHMENT_MAX_BYTES, minimum=1024
)

# --- The agency ------------------------------------------------------------------------------
AGENCY = {
    "name": env_str("BUZON_AGENCY_NAME", "Superintendencia Nacional de Migraciones"),
    "short_name": env_str("BUZON_AGENCY_SHORT_NAME", "MIGRACIONES"),
    "sector": env_str("BUZON_AGENCY_SECTOR", "Ministerio del Interior"),
    "address": env_str("BUZON_AGENCY_ADDRESS", "Av. España 734, Breña, Lima, Perú"),
    "website": env_str("BUZON_AGENCY_WEBSITE", "www.gob.pe/migraciones"),
    "info_email": env_str("BUZON_AGENCY_INFO_EMAIL", "informes@migraciones.gob.pe"),
}

# --- Evidence log (docs/evidence.md) ---------------------------------------------------------
# Lanes that concurrent transactions append to on PostgreSQL (SQLite always uses one).
BUZON_EVIDENCE_LANES = env_int("BUZON_EVIDENCE_LANES", 16, minimum=1)
# Ed25519 keyring for checkpoints: private keys (0600), public keys, and `current`.
BUZON_EVIDENCE_KEY_DIR = Path(env_str("BUZON_EVIDENCE_KEY_DIR", str(VAR_DIR / "keys")))
# How often the clock process seals a checkpoint (seal_evidence also seals on demand).
BUZON_CHECKPOINT_MINUTES = env_int("BUZON_CHECKPOINT_MINUTES", 15, minimum=1)
# Per account and hour: certificates issued on request, and evidence exports (evidence/limits.py).
BUZON_CERTIFICATES_PER_HOUR = env_int("BUZON_CERTIFICATES_PER_HOUR", 30, minimum=1)
BUZON_EXPORTS_PER_HOUR = env_int("BUZON_EXPORTS_PER_HOUR", 5, minimum=1)
# "¿Olvidaste la contraseña?": reset requests per identity and per client address, an hour;
# and per identity a day, so 5 tries at each SMS code cannot add up to hundreds of guesses.
BUZON_RECOVERY_PER_IDENTITY_PER_HOUR = env_int("BUZON_RECOVERY_PER_IDENTITY_PER_HOUR", 5, minimum=1)
BUZON_RECOVERY_PER_IDENTITY_PER_DAY = env_int("BUZON_RECOVERY_PER_IDENTITY_PER_DAY", 10, minimum=1)
BUZON_RECOVERY_PER_IP_PER_HOUR = env_int("BUZON_RECOVERY_PER_IP_PER_HOUR", 20, minimum=1)

# --- Agencia Digital and credential requests (agency/) --------------------------------------
# "Verificar" attempts per document and per client address, an hour; matched or not.
BUZON_AGENCY_PER_IDENTITY_PER_HOUR = env_int("BUZON_AGENCY_PER_IDENTITY_PER_HOUR", 5, minimum=1)
BUZON_AGENCY_PER_IP_PER_HOUR = env_int("BUZON_AGENCY_PER_IP_PER_HOUR", 20, minimum=1)
# Web credential requests per client address, an hour.
BUZON_REQUESTS_PER_IP_PER_HOUR = env_int("BUZON_REQUESTS_PER_IP_PER_HOUR", 5, minimum=1)
# The identity document attached to a web request: size, and pixels of a photo.
BUZON_REQUEST_DOCUMENT_MAX_BYTES = env_int(
    "BUZON_REQUEST_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024
)
BUZON_REQUEST_IMAGE_MAX_PIXELS = env_int("BUZON_REQUEST_IMAGE_MAX_PIXELS", 40_000_000, minimum=1)
# The officers' queue shows a request as late after this many business days.
BUZON_REQUEST_ANSWER_BUSINESS_DAYS = env_int("BUZON_REQUEST_ANSWER_BUSINESS_DAYS", 3, minimum=1)
# The SMTP receiver for the information mailbox's forwards (agency/smtp.py).
BUZON_SMTP_HOST = env_str("BUZON_SMTP_HOST", "127.0.0.1")
BUZON_SMTP_PORT = env_int("BUZON_SMTP_PORT", 2525, minimum=1)
# The parser reads 25 MB of a message (requests_mail.parser.MAX_RAW_BYTES); larger ones are
# refused at the SMTP door with 552, so the sender's server tells the sender.
BUZON_SMTP_MAX_BYTES = env_int("BUZON_SMTP_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)

# --- Agency API (api/) -------------------------------------------------------------------------
# Requests per minute per key (a token bucket: a full minute's worth may come at once), as
# GOV.UK Notify.
BUZON_API_REQUESTS_PER_MINUTE = env_int("BUZON_API_REQUESTS_PER_MINUTE", 3000, minimum=1)
# The largest JSON body an authenticated client may send (a batch of base64 PDFs: 1,000
# notifications with a 30 KB PDF each is about 41 MB). Web forms keep Django's 2.5 MB.
BUZON_API_MAX_BODY_BYTES = env_int("BUZON_API_MAX_BODY_BYTES", 64 * 1024 * 1024, minimum=1024)
# POST /procedures of a document Buzón holds, with identity data that do not match
# (api/probing.py): after this many refusals on one document, a client may not register that
# document for a day; after this many on any documents within an hour, it may not register any
# document Buzón holds for an hour. New documents are never held back.
BUZON_API_MISMATCHES_PER_DOCUMENT = env_int("BUZON_API_MISMATCHES_PER_DOCUMENT", 5, minimum=1)
BUZON_API_MISMATCH_DOCUMENT_HOURS = env_int("BUZON_API_MISMATCH_DOCUMENT_HOURS", 24, minimum=1)
BUZON_API_MISMATCHES_PER_CLIENT = env_int("BUZON_API_MISMATCHES_PER_CLIENT", 20, minimum=1)
BUZON_API_MISMATCH_CLIENT_MINUTES = env_int("BUZON_API_MISMATCH_CLIENT_MINUTES", 60, minimum=1)
# Webhooks (api/webhooks.py): attempts per delivery, the first retry's delay (doubling after),
# the HTTP timeout, and whether a callback URL may be plain http (never in production).
BUZON_WEBHOOK_MAX_ATTEMPTS = env_int("BUZON_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
BUZON_WEBHOOK_RETRY_BASE_SECONDS = env_int("BUZON_WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
BUZON_WEBHOOK_TIMEOUT_SECONDS = env_int("BUZON_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
BUZON_WEBHOOK_ALLOW_HTTP = ENV != "production" and env_bool("BUZON_WEBHOOK_ALLOW_HTTP", True)

# --- Answers inside the buzón (corrections/, payments/) --------------------------------------
# Files a person attaches to a correction answer: size of each, files per item.
BUZON_ANSWER_FILE_MAX_BYTES = env_int("BUZON_ANSWER_FILE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
BUZON_ANSWER_FILES_PER_ITEM = env_int("BUZON_ANSWER_FILES_PER_ITEM", 5, minimum=1)
# Files one web form may send: twice what the largest form takes (an answer to a correction
# request of corrections.rules.MAX_ITEMS = 20 observations, each with its files; an officer's
# deposit), so a person who selects too many still reaches the view and its message per
# observation. Past it Django stops reading the form and ui.views.bad_request() answers.
DATA_UPLOAD_MAX_NUMBER_FILES = 2 * max(
    100, 20 * BUZON_ANSWER_FILES_PER_ITEM, BUZON_ATTACHMENTS_PER_NOTIFICATION
)
# ClamAV: "unix:///run/clamav/clamd.ctl" or "tcp://127.0.0.1:3310"; empty turns scanning off.
BUZON_CLAMD_URL = env_str("BUZON_CLAMD_URL", "")
# Installment plans: reminder this many days before each due date; lapse after N missed.
BUZON_INSTALLMENT_REMINDER_DAYS = env_int("BUZON_INSTALLMENT_REMINDER_DAYS", 3, minimum=1)
BUZON_INSTALLMENT_MISSED_TO_LAPSE = env_int("BUZON_INSTALLMENT_MISSED_TO_LAPSE", 2, minimum=1)
# Business days a payment system has to confirm a payment after the last day an installment
# could be paid, before that installment counts as missed (flagged overdue, counted for the
# lapse): a payment at 21:00 on the due day is confirmed the next morning (payments/due.py).
BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS = env_int(
    "BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS", 2, minimum=0
)
# Where and how to pay, printed with every payment code.
BUZON_PAYMENT_INSTRUCTIONS = env_str(
    "BUZON_PAYMENT_INSTRUCTIONS",
    "Pague con el código de pago en Págalo.pe, en agentes y agencias del Banco de la Nación, "
    "o en la banca por internet de los bancos afiliados.",
)

# --- Signing and timestamping (evidence/pki.py, evidence/tsa.py) ----------------------------
# The agency's signing identity: signer.key.pem, signer.cert.pem and chain.pem in this
# directory. Outside production a development identity is generated there on first use.
BUZON_SIGNING_DIR = Path(env_str("BUZON_SIGNING_DIR", str(VAR_DIR / "signing")))
# An RFC 3161 time-stamping authority; empty means no timestamps.
BUZON_TSA_URL = env_str("BUZON_TSA_URL", "")
# PEM file(s), comma-separated, holding the root certificates the TSA's certificate chains to.
BUZON_TSA_TRUST_ROOTS = env_str("BUZON_TSA_TRUST_ROOTS", "")

# --- Logging: to stderr; passwords never reach a log (sensitive_post_parameters + no SQL log)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("BUZON_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "pikepdf": {"level": "WARNING"},
        # aiosmtpd logs every SMTP command, addresses included, at INFO.
        "mail.log": {"level": "WARNING"},
    },
}
