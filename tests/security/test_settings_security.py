"""Production settings pass `check --deploy`; every response carries the security headers; CSRF
is enforced on pages; uploads are size-limited and type-checked."""

import json
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kernel.uploads import UploadValidator
from tests.factories import UserFactory
from tests.processes import ROOT, base_env

PROD = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k3y-" + "".join(chr(97 + i % 26) for i in range(60)),
    "ALLOWED_HOSTS": "kafaat.example.ma",
}


def test_production_settings_pass_check_deploy_with_no_warning():
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=base_env(**PROD), capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
    assert "WARNINGS" not in out.stdout + out.stderr


def test_production_responses_carry_hsts_csp_nosniff_and_referrer_policy_and_secure_cookies():
    code = (
        "import django, json; django.setup(); from django.test import Client; from django.conf import settings; "
        "r = Client().get('/healthz', secure=True, HTTP_HOST='kafaat.example.ma'); "
        "print(json.dumps({**dict(r.headers), 'cookie_secure': settings.SESSION_COOKIE_SECURE, "
        "'csrf_secure': settings.CSRF_COOKIE_SECURE, 'redirect': settings.SECURE_SSL_REDIRECT}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base_env(**PROD), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    headers = json.loads(out.stdout.strip().splitlines()[-1])
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["cookie_secure"] and headers["csrf_secure"] and headers["redirect"]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("courses:catalogue"))
    csp = response.headers["Content-Security-Policy"]
    for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'"]:  # fmt: skip
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert b'"allowEval": false' in response.content


@pytest.mark.django_db
def test_csrf_is_enforced_on_pages():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("accounts:deletion-request")).status_code == 403
    assert client.post(reverse("accounts:login"), {"username": user.email, "password": "x"}).status_code == 403


def test_uploads_over_the_size_limit_are_refused_naming_the_file():
    validator = UploadValidator(kinds={"pdf"}, max_bytes=100)
    with pytest.raises(ValidationError) as exc:
        validator(SimpleUploadedFile("big.pdf", b"%PDF-1.7 " + b"x" * 200))
    assert exc.value.code == "file_too_large" and "big.pdf" in str(exc.value)


@pytest.mark.parametrize(
    ("name", "content", "ok"),
    [
        ("notes.pdf", b"%PDF-1.7 hello", True),
        ("photo.pdf", b"\x89PNG\r\n\x1a\n....", False),  # a PNG named .pdf
        ("script.pdf", b"<script>alert(1)</script>", False),  # HTML is not a PDF
        ("roster.csv", "id,name\n1,Ana\u00efs\n".encode(), True),
        ("roster.csv", b"\x00\x01\x02binary", False),
        ("archive.zip", b"PK\x03\x04rest", True),
    ],
)
def test_uploads_are_type_checked_by_content(name, content, ok):
    validator = UploadValidator(kinds={"pdf", "csv", "zip"})
    if ok:
        validator(SimpleUploadedFile(name, content))
    else:
        with pytest.raises(ValidationError) as exc:
            validator(SimpleUploadedFile(name, content))
        assert exc.value.code == "file_type"
