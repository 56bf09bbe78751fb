"""The mail backend from one URL, EMAIL_URL (settings read it: nothing here imports Django's mail
package, which would load before the settings are done)."""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "config.mail.ReadableConsoleBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
SMTP_BACKEND = _BACKENDS["smtp"]
_TRUE = {"1", "true", "yes", "on"}


def mailer_from_url(url: str) -> dict:
    """A MAILERS entry from a URL. SMTP options go to the SMTP backend only (any other backend
    refuses them: "Unknown options 'host', 'port'").

        smtp://user:password@host:587/?tls=1   STARTTLS (user and password percent-encoded)
        smtps://user:password@host:465/        TLS from the first byte
        console://   file:///var/mail/kafaat   locmem://   dummy://
    Query options for SMTP: tls, ssl, timeout (seconds)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_URL: unknown scheme {scheme!r} in {url.split('@')[-1]!r}; use one of {', '.join(_BACKENDS)}."
        )
    config: dict = {"BACKEND": _BACKENDS[scheme]}
    if scheme == "file":
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured("EMAIL_URL: file:// needs a folder, e.g. file:///var/mail/kafaat.")
        config["OPTIONS"] = {"file_path": path}
    elif scheme in ("smtp", "smtps"):
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options = {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if scheme == "smtps" else 25),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "use_tls": query.get("tls", "").lower() in _TRUE,
            "use_ssl": scheme == "smtps" or query.get("ssl", "").lower() in _TRUE,
        }
        if options["use_tls"] and options["use_ssl"]:
            raise ImproperlyConfigured("EMAIL_URL: choose tls=1 (STARTTLS) or smtps:// (TLS), not both.")
        if "timeout" in query:
            options["timeout"] = float(query["timeout"])
        config["OPTIONS"] = options
    return config


def mailer_from_env(env, *, default_url: str) -> dict:
    """EMAIL_URL if set; else the older EMAIL_BACKEND / EMAIL_HOST... variables (SMTP options
    only for the SMTP backend); else `default_url`."""
    url = env.str("EMAIL_URL", default="")
    if url:
        return mailer_from_url(url)
    legacy_smtp = any(env.str(name, default="") for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER"))
    backend = env.str("EMAIL_BACKEND", default="")
    if not backend and not legacy_smtp:
        return mailer_from_url(default_url)
    backend = backend or SMTP_BACKEND
    if backend != SMTP_BACKEND:
        return {"BACKEND": backend}
    return {
        "BACKEND": backend,
        "OPTIONS": {
            "host": env.str("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=25),
            "username": env.str("EMAIL_HOST_USER", default=None),
            "password": env.str("EMAIL_HOST_PASSWORD", default=None),
            "use_tls": env.bool("EMAIL_USE_TLS", default=False),
        },
    }
