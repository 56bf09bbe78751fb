"""The OAuth 2 token endpoint (/o/token/, client credentials), in process through Django's test
client: ms per call for the right secret, a wrong secret for a known client id, and an unknown
client id, under the keyed fast hash (hmac_sha256); then a wrong secret for a client whose secret
is still hashed the old way (Argon2, as before), for comparison. The throttle is lifted."""

import base64
import logging
import statistics
import time

import django

django.setup()
logging.getLogger("django.request").setLevel(logging.ERROR)

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

from accounts.models import Organization  # noqa: E402
from bench.common import figure  # noqa: E402
from integrations.services.clients import api_client_create  # noqa: E402

N = 200


def call(http, client_id, secret, expect):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    resp = http.post("/o/token/", {"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"})
    assert resp.status_code == expect, resp.content
    return resp


def timed(http, client_id, secret, expect, n=N) -> float:
    call(http, client_id, secret, expect)  # warm-up
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call(http, client_id, secret, expect)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    org, _ = Organization.objects.get_or_create(slug="bench-token", defaults={"name": "Bench token"})
    creds = api_client_create(organization=org, name="bench", scopes=["catalog:read"])
    http = Client()
    hashers = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "integrations.hashers.HmacSha256ClientSecretHasher",
    ]
    with override_settings(
        INTEGRATIONS_TOKEN_RATE="1000000/min", INTEGRATIONS_TOKEN_FAILURE_RATE="1000000/min", PASSWORD_HASHERS=hashers
    ):
        print(f"token endpoint, client credentials (median of {N} calls)")
        figure("right secret (hmac_sha256)", f"{timed(http, creds.client_id, creds.client_secret, 200):.1f}", "ms")
        figure("wrong secret, known client id", f"{timed(http, creds.client_id, 'wrong', 401):.1f}", "ms")
        figure("unknown client id", f"{timed(http, 'no-such-client-id', 'wrong', 401):.1f}", "ms")
        legacy = api_client_create(organization=org, name="legacy", scopes=["catalog:read"])
        app = Application.objects.get(client_id=legacy.client_id)
        app.client_secret = make_password(legacy.client_secret, hasher="argon2")
        app.save()
        figure(
            "wrong secret, old Argon2-hashed secret", f"{timed(http, legacy.client_id, 'wrong', 401, n=10):.1f}", "ms"
        )
    Application.objects.filter(name__startswith="bench-token").delete()
    org.delete()


if __name__ == "__main__":
    main()
