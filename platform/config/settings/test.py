"""Test settings: PostgreSQL (DATABASE_URL) and a real broker (CELERY_BROKER_URL), never eager."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = env.str("SECRET_KEY", default="test-only-secret-key-not-for-production-" + "x" * 20)
DEBUG = False
# Argon2 is the real hasher; tests that check it say so. The rest go fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Tests share one database with worker subprocesses: no persistent connections in the test process.
DATABASES["default"]["CONN_MAX_AGE"] = 0
ALLOWED_HOSTS = ["*"]
GRADING_STUCK_AFTER_SECONDS = 5
# Tests read English unless they ask for another language (Accept-Language, cookie, override):
# the platform's default stays French, whose catalog would otherwise translate every assertion.
LANGUAGE_CODE = "en"
# The suite's webhook receivers are real servers on 127.0.0.1, which production refuses; tests of
# the refusal turn this off. Worker subprocesses read the same settings.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=True)
