"""Test settings: PostgreSQL (DATABASE_URL) and a real broker (CELERY_BROKER_URL), never eager."""

import environ

from .base import *  # noqa: F403
from .base import CELERY_BEAT_SCHEDULE, CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, env

SECRET_KEY = env.str("SECRET_KEY", default="test-only-secret-key-not-for-production-" + "x" * 20)
DEBUG = False
# Argon2 is the real hasher; tests that check it say so. The rest go fast.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "integrations.hashers.HmacSha256ClientSecretHasher",
]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Tests count in memory unless they say otherwise (CACHE_URL; a test of the shared counters starts
# processes with the database cache): query counts stay those of the code under test.
CACHES = {"default": environ.Env.cache_url_config(env.str("CACHE_URL", default="locmemcache://"))}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    CACHES["default"]["BACKEND"] = "config.cache.DatabaseCache"
# Tests share one database with worker subprocesses: no persistent connections in the test process.
# (A benchmark's worker keeps them, as in production: CONN_MAX_AGE in its environment.)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
ALLOWED_HOSTS = ["*"]
# Grading faults play out in seconds: a short lease, a sweep every second, a low attempt cap.
# Worker subprocesses of a test may be given other values through the same variables.
GRADING_LEASE_SECONDS = env.int("GRADING_LEASE_SECONDS", default=6)
GRADING_SWEEP_INTERVAL_SECONDS = env.int("GRADING_SWEEP_INTERVAL_SECONDS", default=1)
GRADING_QUEUED_RESEND_SECONDS = env.int("GRADING_QUEUED_RESEND_SECONDS", default=3)
GRADING_MAX_ATTEMPTS = env.int("GRADING_MAX_ATTEMPTS", default=3)
GRADING_UNAVAILABLE_RETRIES = env.int("GRADING_UNAVAILABLE_RETRIES", default=2)
GRADING_UNAVAILABLE_BACKOFF_SECONDS = env.int("GRADING_UNAVAILABLE_BACKOFF_SECONDS", default=1)
CELERY_BEAT_SCHEDULE["grading-sweep-stuck-submissions"]["schedule"] = float(GRADING_SWEEP_INTERVAL_SECONDS)
CELERY_BEAT_SCHEDULE["grading-sweep-stuck-submissions"]["options"] = {"expires": float(GRADING_SWEEP_INTERVAL_SECONDS)}
if "visibility_timeout" in CELERY_BROKER_TRANSPORT_OPTIONS:
    # Look for messages past their visibility timeout every 2 s (kombu's default is ~100 s), so a
    # test with a short CELERY_VISIBILITY_TIMEOUT sees a redelivery when there is one.
    CELERY_BROKER_TRANSPORT_OPTIONS |= {"unacked_restore_interval": 2, "unacked_restore_throttle": 1}
# Tests read English unless they ask for another language (Accept-Language, cookie, override):
# the platform's default stays French, whose catalog would otherwise translate every assertion.
LANGUAGE_CODE = "en"
# The suite's webhook receivers are real servers on 127.0.0.1, which production refuses; tests of
# the refusal turn this off. Worker subprocesses read the same settings.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=True)
LTI_ALLOW_HTTP = env.bool("LTI_ALLOW_HTTP", default=True)  # the test LMS serves http://localhost
LTI_SCORE_RETRY_BASE_SECONDS = env.int("LTI_SCORE_RETRY_BASE_SECONDS", default=1)
# The token endpoint's limits count per address, and every test client is 127.0.0.1: tests of the
# throttle set their own rates.
INTEGRATIONS_TOKEN_RATE = env.str("INTEGRATIONS_TOKEN_RATE", default="100000/min")
INTEGRATIONS_TOKEN_FAILURE_RATE = env.str("INTEGRATIONS_TOKEN_FAILURE_RATE", default="100000/min")
