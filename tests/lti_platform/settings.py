"""Settings of the standalone test platform: no database, no apps, no middleware (no CSRF: the
tool posts its deep-linking response here cross-site, as to any LMS)."""

import secrets

DEBUG = False
SECRET_KEY = secrets.token_urlsafe(32)
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
ROOT_URLCONF = "tests.lti_platform.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
TEMPLATES: list = []
USE_TZ = True
TIME_ZONE = "UTC"
# Errors go to the subprocess log (test-artifacts/lti-platform-<port>.log), not to e-mail.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "INFO"},
        "lti_platform": {"handlers": ["stderr"], "level": "INFO"},
    },
}
