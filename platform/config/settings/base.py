"""Settings shared by every mode. Everything that differs between machines comes from the
environment (django-environ); with nothing set, the platform runs on the embedded defaults:
SQLite in var/ and a Celery broker that needs no server."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.mail_url import mailer_from_env

BASE_DIR = Path(__file__).resolve().parents[3]
env = environ.Env()
VAR_DIR = Path(env.str("KAFAAT_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL, written into e-mails, certificates and signed credentials. Unset, it is
# this machine on PORT (the port `make run` serves), so links work on any port.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "kernel",
    "assessment",
    "accounts",
    "courses",
    "grading",
    "integrations",
    "certificates",
    "learning",
    "roster",
    "analytics",
    "privacy",
    # Accounts and security (issue 6): two-factor, login throttling.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, which answers static files itself: they get the CSP header too (an SVG
    # opened on its own is a document). It only sets a header, costing WhiteNoise nothing.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Static files, whatever DEBUG says (`make run` serves with DEBUG off): see STORAGES below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Right after OTPMiddleware: a session that has not passed two-factor acts as a learner's.
    "accounts.privilege.PrivilegeMiddleware",
    "learning.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After XFrameOptions: a browser session launched from an LMS may be framed by that LMS only.
    "integrations.lti_frame.LtiFrameMiddleware",
    "accounts.middleware.SecurityGateMiddleware",
    "accounts.middleware.AdminReadAuditMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Load-balancer probes (/healthz, /readyz) answer from the process alone: no middleware looks
# their caller up, since a session cookie would then cost a query and fail while the database is down.
KAFAAT_PROBE_PATHS = ("/healthz", "/readyz")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Embedded: SQLite in var/ (WAL, immediate transactions so writers queue instead of failing).
# Production and tests: DATABASE_URL=postgres://... (psycopg 3).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kafaat.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Persistent connections with health checks: a new connection per request costs ~10x.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "learning:dashboard"
LOGOUT_REDIRECT_URL = "courses:catalogue"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # API client secrets only (OAUTH2_PROVIDER's CLIENT_SECRET_HASHER): never first in this list.
    "integrations.hashers.HmacSha256ClientSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions live in the database (one row per session) so a user can see and end theirs.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Lax: our pages' cookies stay on our site. An LMS on another site (not *.same-university.ma)
# that frames Kafaat (LTI) needs "None" (HTTPS only: browsers drop SameSite=None without Secure).
SESSION_COOKIE_SAMESITE = env.str("SESSION_COOKIE_SAMESITE", default="Lax")
CSRF_COOKIE_SAMESITE = env.str("CSRF_COOKIE_SAMESITE", default=SESSION_COOKIE_SAMESITE)
CSRF_COOKIE_HTTPONLY = True
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out users before any password is checked (django-axes).
    "accounts.backends.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Throttling: this many failures (wrong password or wrong TOTP code) per e-mail address lock the
# account for AXES_COOLOFF_TIME; staff can unlock earlier (admin: Users -> "Unlock").
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Per address, not per IP: hospitals and campuses put many people behind one NAT address, and
# locking an IP would lock them all out (hence axes.W006 is silenced below).
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "accounts.backends.throttle_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Failures are not forgotten at a right password: otherwise someone holding the password could
# guess TOTP codes forever, logging in again between tries. They expire after the cool-off.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
# Two-factor (TOTP, django-otp) is required of staff, instructors and university admins on
# these path prefixes, and on any view decorated with accounts.decorators.require_verified_2fa.
KAFAAT_2FA_REQUIRED_PATHS = ["/admin/", "/author/", "/teach/", "/grading/", "/accounts/organization/"]
OTP_TOTP_ISSUER = "Kafaat"
# Privacy: the version of the privacy notice in force (texts in templates/accounts/privacy/).
# Raising it asks every user who consented to an older version to consent again.
KAFAAT_PRIVACY_NOTICE_VERSION = 1
# Retention (enforced by the beat task accounts.retention_enforce).
KAFAAT_EXPORT_TTL_HOURS = env.int("KAFAAT_EXPORT_TTL_HOURS", default=72)
KAFAAT_DELETION_GRACE_DAYS = env.int("KAFAAT_DELETION_GRACE_DAYS", default=14)
KAFAAT_INACTIVE_ACCOUNT_DAYS = env.int("KAFAAT_INACTIVE_ACCOUNT_DAYS", default=3 * 365)
# Audit of reads of another person's data: one entry per reader, action, learner and object per
# this many seconds (a page polled every second writes one). 0: an entry for every read.
KAFAAT_AUDIT_DEDUPE_SECONDS = env.int("KAFAAT_AUDIT_DEDUPE_SECONDS", default=600)
# Links sent by e-mail: e-mail verification and invitations expire after this long.
KAFAAT_EMAIL_LINK_MAX_AGE = env.int("KAFAAT_EMAIL_LINK_MAX_AGE", default=3 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)
# Uploads: nothing larger is kept in memory or accepted (see kernel/uploads.py for file checks).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
KAFAAT_UPLOAD_MAX_BYTES = env.int("KAFAAT_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# Course archives (courses/archive.py): the upload, its number of files, each file and all of them
# once inflated (counted while inflating), each YAML document in bytes and in nodes (PyYAML parses
# about 0.2 MB or 30,000 nodes a second). Archives inflating past COURSE_IMPORT_SYNC_MAX_BYTES are
# checked, then imported, by a worker (task courses.course_import, queue events) while the page
# shows progress.
COURSE_ARCHIVE_MAX_BYTES = env.int("COURSE_ARCHIVE_MAX_BYTES", default=10 * 1024 * 1024)
COURSE_ARCHIVE_MAX_ENTRIES = env.int("COURSE_ARCHIVE_MAX_ENTRIES", default=2000)
COURSE_ARCHIVE_MAX_ENTRY_BYTES = env.int("COURSE_ARCHIVE_MAX_ENTRY_BYTES", default=2 * 1024 * 1024)
COURSE_ARCHIVE_MAX_TOTAL_BYTES = env.int("COURSE_ARCHIVE_MAX_TOTAL_BYTES", default=20 * 1024 * 1024)
COURSE_ARCHIVE_MAX_YAML_BYTES = env.int("COURSE_ARCHIVE_MAX_YAML_BYTES", default=1024 * 1024)
COURSE_ARCHIVE_MAX_YAML_NODES = env.int("COURSE_ARCHIVE_MAX_YAML_NODES", default=50_000)
COURSE_IMPORT_SYNC_MAX_BYTES = env.int("COURSE_IMPORT_SYNC_MAX_BYTES", default=128 * 1024)
# A course's cover image (PNG or JPEG, kept in the database): the upload and the archive's entry.
COURSE_COVER_MAX_BYTES = env.int("COURSE_COVER_MAX_BYTES", default=1024 * 1024)

# --- Security headers (all modes; production adds HTTPS-only settings) ---------------------
# Content-Security-Policy (Django's own middleware): nothing from outside the server, no inline
# script, no inline style but the one CodeMirror writes, let in by the request's nonce (the code
# editor's media is rendered with {% csp_nonce_attr %}; a page that renders no nonce gets none in
# its header). htmx runs with allowEval false (its config meta tag in base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Languages ------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("ar", _("Arabic")), ("en", _("English"))]
# One way of writing dates per language, across the site (config/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Africa/Casablanca")
USE_I18N = True
USE_TZ = True

# --- Static files: vendored under static/, served by the web process (WhiteNoise) ------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Outside production, serve static files straight from static/ and the apps' static folders (no
# collectstatic needed, DEBUG on or off), as they are at start-up; DEBUG=true also picks up files
# edited while the server runs (WhiteNoise's autorefresh follows DEBUG).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- E-mail: console in embedded mode ---------------------------------------------------------
# One URL says where mail goes (README, Configuration): smtp://user:pass@host:587/?tls=1,
# smtps://..., console://, file:///path, locmem://. The older EMAIL_BACKEND/EMAIL_HOST... still work.
EMAIL_DEFAULT_URL = "console://"
MAILERS = {"default": mailer_from_env(env, default_url=EMAIL_DEFAULT_URL)}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kafaat <no-reply@kafaat.local>")

# --- Cache: shared by every process (the API's rate counters live here) -----------------------
# CACHE_URL (django-environ: redis://host:6379/1, dbcache://table, locmemcache://), else REDIS_URL,
# else the database cache (table kafaat_cache, created by `migrate`): a limit then holds across
# all web processes and hosts. A per-process cache lets N processes through N times the limit.
_cache_url = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="") or "dbcache://kafaat_cache"
CACHES = {"default": environ.Env.cache_url_config(_cache_url)}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    CACHES["default"]["BACKEND"] = "config.cache.DatabaseCache"  # with an atomic incr
    # Culling past MAX_ENTRIES (Django's default: 300) deletes live rows too, a rate counter among
    # them: keep it far above the counters a busy hour holds (expired rows go first anyway).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)

# Anonymous visitors' catalogue and course pages are kept this long in that cache (kernel/page_cache.py;
# a content change makes them stale: below). 0: always rendered.
KAFAAT_PAGE_CACHE_SECONDS = env.int("KAFAAT_PAGE_CACHE_SECONDS", default=300)
# How long a web process trusts the content version it read before it reads it again: a content
# change shows in the process that made it at once, in the others within this time. 0: every request.
KAFAAT_PAGE_VERSION_SECONDS = env.float("KAFAAT_PAGE_VERSION_SECONDS", default=1.0)

# --- Celery ---------------------------------------------------------------------------------
# Embedded: kombu's filesystem transport (no server). Production and tests: redis:// or amqp://.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
# THE RULE (README, Operations): every task's hard time limit is below the broker's redelivery
# deadline, so a running task is never handed to a second worker:
# - Redis gives an unacknowledged message to another consumer after `visibility_timeout`, running
#   or not; set deliberately to an hour, above every task's time_limit (the longest, exports and
#   retention, 1700 s). tests/platform/test_celery_rules.py fails on a task that breaks the rule.
# - RabbitMQ closes the channel of a consumer that holds a message longer than its
#   `consumer_timeout` (30 min by default, RABBITMQ_CONSUMER_TIMEOUT_SECONDS says what the broker
#   is configured with): the same rule holds against it.
# A dead worker's grading is not waiting for either: leases and the sweeper take it back.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
RABBITMQ_CONSUMER_TIMEOUT_SECONDS = env.int("RABBITMQ_CONSUMER_TIMEOUT_SECONDS", default=1800)
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    # kombu's Redis transport with a repair: a worker survives a Redis outage (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_DEFAULT_QUEUE = "grading"
CELERY_TASK_ROUTES = {
    "grading.submission_grade_code": {"queue": "sandbox"},
    "grading.*": {"queue": "grading"},
    # A big course import can run for minutes: keep it off the learners' grading queue.
    "courses.course_import": {"queue": "events"},
    "accounts.*": {"queue": "events"},
    "integrations.*": {"queue": "events"},
    "certificates.*": {"queue": "events"},
    "learning.*": {"queue": "events"},
    "analytics.*": {"queue": "events"},
    "kernel.*": {"queue": "events"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request must not hang when the broker is down: fail fast, the sweeper
# enqueues the work again later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a new PostgreSQL connection per task (most of a quiz grade's cost). Django's own rule applies
# instead (config/celery.py): CONN_MAX_AGE, health checks, and a connection an error left unusable
# is closed, around each task as around each request.
CELERY_DB_REUSE_MAX = 1_000_000_000
# --- Grading --------------------------------------------------------------------------------
# A worker that takes a submission (or a regrade item) holds it for a lease, which its heartbeat
# renews every third of the lease while the grader runs. The sweeper (beat, every
# GRADING_SWEEP_INTERVAL_SECONDS) sends again what is running with an expired lease (its worker
# died) and what was queued but not taken after GRADING_QUEUED_RESEND_SECONDS (a lost message, a
# broker outage), backing off as the row ages. A submission taken GRADING_MAX_ATTEMPTS times
# without a grade fails, with a reason staff see. Recovery from a dead worker or a broker outage
# is about lease + interval (under a minute with the defaults).
GRADING_LEASE_SECONDS = env.int("GRADING_LEASE_SECONDS", default=30)
# A job still pending this long after it was asked for (its message lost: broker down) is sent
# again by the beat's kernel.resend_pending (kernel/tasks.py).
KERNEL_RESEND_AFTER_SECONDS = env.int("KERNEL_RESEND_AFTER_SECONDS", default=300)
# Deferred event handlers (kernel.events: the learner's grade notification, course completion and
# its certificate) run in batches, about this long after the grade: the window a worker process
# gathers events in before its consumer task runs.
KERNEL_DEFERRED_BATCH_SECONDS = env.float("KERNEL_DEFERRED_BATCH_SECONDS", default=1.0)
GRADING_SWEEP_INTERVAL_SECONDS = env.int("GRADING_SWEEP_INTERVAL_SECONDS", default=10)
GRADING_QUEUED_RESEND_SECONDS = env.int("GRADING_QUEUED_RESEND_SECONDS", default=30)
GRADING_MAX_ATTEMPTS = env.int("GRADING_MAX_ATTEMPTS", default=5)
# A worker grading a quiz grades up to this many queued quizzes in the same transaction (one
# commit, a constant number of queries): a burst is graded as fast as the queue delivers it. 1
# grades each alone.
GRADING_BATCH_SIZE = env.int("GRADING_BATCH_SIZE", default=100)
# The sandbox itself failing (GraderUnavailable) is no attempt: the task retries this many times,
# BACKOFF seconds apart and doubling, then leaves the submission queued and tells staff.
GRADING_UNAVAILABLE_RETRIES = env.int("GRADING_UNAVAILABLE_RETRIES", default=3)
GRADING_UNAVAILABLE_BACKOFF_SECONDS = env.int("GRADING_UNAVAILABLE_BACKOFF_SECONDS", default=5)

CELERY_BEAT_SCHEDULE = {
    "grading-sweep-stuck-submissions": {
        "task": "grading.sweep_stuck_submissions",
        "schedule": float(GRADING_SWEEP_INTERVAL_SECONDS),
        # A sweep that waited longer than one interval is superseded by the next one.
        "options": {"expires": float(GRADING_SWEEP_INTERVAL_SECONDS)},
    },
    "learning-deadline-reminders": {"task": "learning.deadline_reminders", "schedule": 600.0},
    "certificates-sweep-missing": {"task": "certificates.sweep_missing", "schedule": 300.0},
    # Jobs whose message was lost (broker down when they were asked for: exports) are sent again.
    "kernel-resend-pending": {"task": "kernel.resend_pending", "schedule": 300.0},
    # Deferred event handlers whose consumer task was lost (broker down after the commit).
    "kernel-deferred-run": {"task": "kernel.deferred_run", "schedule": 10.0, "options": {"expires": 10.0}},
    # Privacy: erase accounts whose deletion grace period is over, expire old exports and
    # erase long-inactive accounts (issue 6).
    "accounts-retention-enforce": {
        "task": "accounts.retention_enforce",
        "schedule": 3600.0,
    },
}

# --- Gradebook and analytics (analytics/) --------------------------------------------------
# At-risk rules (README "Gradebook and analytics"): an active, not yet complete learner is at
# risk when ANY rule holds. Set a rule's threshold to 0 to switch it off.
ANALYTICS_AT_RISK = {
    # no submission in the course for this many days (counted from enrollment if none yet)
    "INACTIVE_DAYS": env.int("ANALYTICS_AT_RISK_INACTIVE_DAYS", default=14),
    # at least this many assignments past their due date with no submission
    "OVERDUE_ASSIGNMENTS": env.int("ANALYTICS_AT_RISK_OVERDUE_ASSIGNMENTS", default=2),
    # at least this many required assignments graded below the pass threshold, none passed
    "FAILING_REQUIRED": env.int("ANALYTICS_AT_RISK_FAILING_REQUIRED", default=1),
}
ANALYTICS_GRADEBOOK_PAGE_SIZE = 50
# Exports of more learners than this are built by a Celery task (analytics.export_build).
ANALYTICS_EXPORT_SYNC_MAX_ROWS = env.int("ANALYTICS_EXPORT_SYNC_MAX_ROWS", default=2000)
ANALYTICS_EXPORT_DIR = VAR_DIR / "exports"

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["integrations.api.parsers.ApiJSONParser"],
    "UNAUTHENTICATED_USER": None,
    # University API v1 (integrations/api): one error format, OpenAPI 3 from drf-spectacular.
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# Module and lesson positions are unique with a deferred constraint on PostgreSQL (so a reorder
# can swap them in one transaction); SQLite, in embedded mode only, has no deferrable constraints.
# The submissions' covering index (INCLUDE, for analytics' index-only scans on PostgreSQL) is a
# plain index there (W040): `make run` would print three warnings a newcomer cannot act on.
SILENCED_SYSTEM_CHECKS = ["models.W038", "models.W040", "axes.W006"]

# --- University API v1 (integrations) -------------------------------------------------------
# OAuth 2 client credentials (django-oauth-toolkit); a client's scopes are those of its ApiClient.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "catalog:read": "Read paths, courses and assignments",
        "enrollments:read": "Read this university's enrollments",
        "enrollments:write": "Sync this university's learners and enrollments",
        "grades:read": "Read this university's grades and completions",
        "webhooks:manage": "Manage this university's webhook subscriptions",
    },
    "SCOPES_BACKEND_CLASS": "integrations.api.auth.ApiClientScopes",
    # Client secrets are long and random: a keyed fast hash (integrations/hashers.py, README), and
    # the same hash work for an unknown client id as for a wrong secret (api/auth.py).
    "CLIENT_SECRET_HASHER": "hmac_sha256",
    "OAUTH2_VALIDATOR_CLASS": "integrations.api.auth.ApiClientOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("API_TOKEN_EXPIRE_SECONDS", default=3600),
    # RFC 9700 (OAuth 2.0 Security BCP): only the client-credentials grant is used, tokens travel
    # in the Authorization header only and are stored hashed; redirect URIs (unused) need https.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Named explicitly: the toolkit's swappable models resolve through these settings in migrations.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
# A full sync that would drop more than this share of the university's enrollments in the named
# courses is refused unless force=true.
INTEGRATIONS_SYNC_MAX_ROWS = env.int("INTEGRATIONS_SYNC_MAX_ROWS", default=10000)
# The body of one sync request: 10,000 rows at every field's maximum, names sent as \u escapes,
# are 17.6 MB; every other request keeps DATA_UPLOAD_MAX_MEMORY_SIZE (5 MiB).
INTEGRATIONS_SYNC_MAX_BODY_BYTES = env.int("INTEGRATIONS_SYNC_MAX_BODY_BYTES", default=20 * 1024 * 1024)
INTEGRATIONS_SYNC_MAX_DROP_SHARE = env.float("INTEGRATIONS_SYNC_MAX_DROP_SHARE", default=0.2)
# Requests per client (DRF throttle syntax); a refused request carries Retry-After.
INTEGRATIONS_API_RATE = env.str("INTEGRATIONS_API_RATE", default="600/min")
INTEGRATIONS_API_WRITE_RATE = env.str("INTEGRATIONS_API_WRITE_RATE", default="60/min")
# The token endpoint (/o/token/): requests per remote address, and failed client authentications
# per client id and per remote address; a refused request gets 429 with Retry-After.
INTEGRATIONS_TOKEN_RATE = env.str("INTEGRATIONS_TOKEN_RATE", default="120/min")
INTEGRATIONS_TOKEN_FAILURE_RATE = env.str("INTEGRATIONS_TOKEN_FAILURE_RATE", default="10/min")
# The key of the HMAC that hashes API client secrets; empty: SECRET_KEY (and SECRET_KEY_FALLBACKS).
# Set it to rotate SECRET_KEY without invalidating every client's secret.
API_CLIENT_SECRET_KEY = env.str("API_CLIENT_SECRET_KEY", default="")
# The cache alias holding the throttle counters: shared by every process (CACHES above).
INTEGRATIONS_THROTTLE_CACHE = env.str("INTEGRATIONS_THROTTLE_CACHE", default="default")
# Webhook delivery: exponential backoff from BASE seconds, capped, then the delivery is dead
# (replayable). 16 attempts with these defaults span more than a day.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=10)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=16)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Webhook targets whose name resolves to any non-public address (loopback, private, link-local,
# multicast, reserved, or one hidden in IPv6) are refused at subscription and at delivery (SSRF),
# unless this is set (tests, labs).
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)
# CA certificates webhook receivers' TLS certificates are checked against (a PEM file); empty:
# certifi's bundle. For a lab whose receiver has a certificate from an internal CA.
WEBHOOK_CA_BUNDLE = env.str("WEBHOOK_CA_BUNDLE", default="")
# LTI 1.3 (integrations.services.lti): the timeout of every call to a platform (key sets, tokens,
# scores, rosters, registration); score retries back off from BASE seconds, capped, then give up.
LTI_HTTP_TIMEOUT_SECONDS = env.float("LTI_HTTP_TIMEOUT_SECONDS", default=10.0)
LTI_SCORE_RETRY_BASE_SECONDS = env.int("LTI_SCORE_RETRY_BASE_SECONDS", default=10)
LTI_SCORE_RETRY_MAX_SECONDS = env.int("LTI_SCORE_RETRY_MAX_SECONDS", default=3600)
LTI_SCORE_MAX_ATTEMPTS = env.int("LTI_SCORE_MAX_ATTEMPTS", default=20)
# Platforms' URLs must be https://, unless this is set (a lab or the tests, on http://localhost).
LTI_ALLOW_HTTP = env.bool("LTI_ALLOW_HTTP", default=False)
# OneRoster zip limits (the spec sets none): whole upload, one entry, one field.
ONEROSTER_MAX_UPLOAD_BYTES = env.int("ONEROSTER_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
ONEROSTER_MAX_ENTRY_BYTES = env.int("ONEROSTER_MAX_ENTRY_BYTES", default=100 * 1024 * 1024)
# All entries read, inflated, together: bounds the work one package costs (5,000 users and 12,000
# enrollments inflate to about 1.3 MB).
ONEROSTER_MAX_TOTAL_BYTES = env.int("ONEROSTER_MAX_TOTAL_BYTES", default=400 * 1024 * 1024)
ONEROSTER_MAX_FIELD_CHARS = env.int("ONEROSTER_MAX_FIELD_CHARS", default=1024)
# A refused package lists this many errors (file, line, column) and counts the rest.
ONEROSTER_MAX_ERRORS = env.int("ONEROSTER_MAX_ERRORS", default=100)
# An API upload larger than this (or sent with background=true) is imported by a worker: the
# answer is 202 and the job's URL (integrations.OneRosterImportJob); a smaller one in the request.
ONEROSTER_INLINE_MAX_BYTES = env.int("ONEROSTER_INLINE_MAX_BYTES", default=256 * 1024)
CELERY_BEAT_SCHEDULE["integrations-webhooks-tick"] = {"task": "integrations.webhooks_tick", "schedule": 10.0}
CELERY_BEAT_SCHEDULE["integrations-lti-scores-tick"] = {"task": "integrations.lti_scores_tick", "schedule": 10.0}
CELERY_BEAT_SCHEDULE["integrations-invites-send"] = {"task": "integrations.invites_send", "schedule": 30.0}
# Invitations: a message the mail server refused (or could not take: down) is tried again after
# BASE seconds, doubling up to MAX, and is failed after MAX_ATTEMPTS tries (shown to staff and to
# the university, resent by hand). A worker claims a batch for CLAIM seconds, above the task's hard
# time limit (120 s), so a second worker never sends the same invitation twice.
INVITE_RETRY_BASE_SECONDS = env.int("INVITE_RETRY_BASE_SECONDS", default=60)
INVITE_RETRY_MAX_SECONDS = env.int("INVITE_RETRY_MAX_SECONDS", default=6 * 3600)
INVITE_MAX_ATTEMPTS = env.int("INVITE_MAX_ATTEMPTS", default=10)
INVITE_CLAIM_SECONDS = env.int("INVITE_CLAIM_SECONDS", default=300)
SPECTACULAR_SETTINGS = {
    "TITLE": "Kafaat university API",
    "DESCRIPTION": "Enrollment sync, grades and completions out, signed webhooks, OneRoster import.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["integrations.api.schema.only_api_v1"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/o/token/",
    "COMPONENT_SPLIT_REQUEST": True,
}
