"""The hash of API client secrets: HMAC-SHA256 under a server key, for secrets only.

A user's password is guessable, so it gets a slow, memory-hard hash (Argon2) that makes each guess
expensive. An API client's secret is not: it is 128 random characters from 62 (about 760 bits,
services/clients.py), so nobody can guess it, fast hash or slow; what a slow hash buys there is
only a way for anyone to make the server spend 0.8 s of CPU and 100 MiB per wrong secret. The
keyed hash (the key never sits in the database) also means a stolen database alone does not allow
checking candidate secrets at all. The comparison is constant-time."""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


def _keys() -> list[str]:
    # A dedicated key survives a rotation of SECRET_KEY; without it, SECRET_KEY and its fallbacks.
    if settings.API_CLIENT_SECRET_KEY:
        return [settings.API_CLIENT_SECRET_KEY]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _digest(key: str, salt: str, secret: str) -> str:
    key = hashlib.sha256(b"kafaat.integrations.client-secret" + key.encode()).digest()
    return hmac.new(key, f"{salt}${secret}".encode(), hashlib.sha256).hexdigest()


class HmacSha256ClientSecretHasher(BasePasswordHasher):
    """`hmac_sha256$<salt>$<hex digest>`: for client secrets only (OAUTH2_PROVIDER's
    CLIENT_SECRET_HASHER); never the first of PASSWORD_HASHERS, so no user password gets it."""

    algorithm = "hmac_sha256"
    # Every verification, right or wrong secret, known or unknown client id (tests count them).
    verifications = 0

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        return f"{self.algorithm}${salt}${_digest(_keys()[0], salt, password)}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        type(self).verifications += 1
        decoded = self.decode(encoded)
        matches = [constant_time_compare(_digest(key, decoded["salt"], password), decoded["hash"]) for key in _keys()]
        return any(matches)

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"]),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded):
        return False

    def harden_runtime(self, password, encoded):
        pass
