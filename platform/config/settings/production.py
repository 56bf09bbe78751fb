"""Production: PostgreSQL, a real broker, HTTPS. Refuses to start without a real SECRET_KEY."""

from django.core.exceptions import ImproperlyConfigured

from config.mail_url import mailer_from_env

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = False
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

WHITENOISE_USE_FINDERS = False  # production serves what `collectstatic` gathered, with hashed names
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# __Host- cookies: HTTPS only, this host only, whole site (no subdomain can set or read them).
SESSION_COOKIE_NAME = "__Host-kafaat_session"
CSRF_COOKIE_NAME = "__Host-kafaat_csrf"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Mail: SMTP on localhost:25 unless EMAIL_URL (or the older EMAIL_* variables) says otherwise.
MAILERS = {"default": mailer_from_env(env, default_url="smtp://localhost:25")}
