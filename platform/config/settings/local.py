"""Embedded mode for one machine (`make run`): a secret key generated once into var/, and debug
off unless DEBUG=true, so a bad address shows the site's own 404 page, not Django's list of every
URL pattern (static files are served by WhiteNoise either way)."""

import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DEBUG", default=False)

if not SECRET_KEY:  # noqa: F405
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / ".secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(64))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
LTI_ALLOW_HTTP = env.bool("LTI_ALLOW_HTTP", default=True)  # a local LMS on http://localhost can register
