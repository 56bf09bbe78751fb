import json
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.processes import ROOT, base_env
from tests.twofactor import login_with_2fa


def _run(code: str, **env):
    environ = base_env(**env)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True)


def test_healthz_answers_200_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_200_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert {k: checks[k] for k in ("database", "broker")} == {"database": "ok", "broker": "ok"}
    assert "sandbox" in checks  # reported (grading), but never what makes readiness fail


READYZ = (
    "import django, json; django.setup(); from django.test import Client; "
    "r = Client().get('/readyz'); print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)
# The same probe as verified staff, on the test database (the test commits the staff user first).
READYZ_AS_STAFF = (
    "import django, json, sys; django.setup(); from django.test import Client; "
    "from accounts.models import User; from tests.twofactor import login_with_2fa; c = Client(); "
    "login_with_2fa(c, User.objects.get(email=sys.argv[1])); "
    "r = c.get('/readyz'); print(json.dumps({'status': r.status_code, 'body': r.json()}))"
)


def _readyz_in_a_process_with(code=READYZ, args=(), **env) -> dict:
    environ = base_env(DJANGO_SETTINGS_MODULE="config.settings.test", **env)
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_readyz_answers_503_naming_the_broker_when_it_is_down_and_nothing_more_to_anonymous_callers():
    result = _readyz_in_a_process_with(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert result["status"] == 503
    checks = result["body"]["checks"]
    assert result["body"]["status"] == "unavailable"
    assert {k: checks[k] for k in ("database", "broker")} == {"database": "ok", "broker": "failing"}
    assert set(checks) == {"database", "broker", "sandbox"} and checks["sandbox"] in {"ok", "failing"}
    assert "Connection refused" not in json.dumps(result["body"])


def test_readyz_answers_503_naming_the_database_when_it_is_down():
    result = _readyz_in_a_process_with(DATABASE_URL="postgres://postgres@127.0.0.1:1/nope")
    assert result["status"] == 503
    assert result["body"]["checks"] == {"database": "failing", "broker": "ok", "sandbox": "failing"}
    assert "OperationalError" not in json.dumps(result["body"])


READYZ_WITH_COOKIES = (
    "import django, json; django.setup(); from django.conf import settings; from django.test import Client; "
    "c = Client(); c.cookies[settings.SESSION_COOKIE_NAME] = 'a' * 32; "
    "r = c.get('/readyz'); h = c.get('/healthz'); "
    "print(json.dumps({'status': r.status_code, 'body': r.json(), 'healthz': h.status_code}))"
)


def test_readyz_answers_503_not_500_to_a_browser_with_a_session_while_the_database_is_down():
    """A session cookie makes the middlewares look the user up (language, two-factor): with the
    database down the probes must still answer, not raise."""
    result = _readyz_in_a_process_with(READYZ_WITH_COOKIES, DATABASE_URL="postgres://postgres@127.0.0.1:1/nope")
    assert result["status"] == 503
    assert result["body"]["checks"]["database"] == "failing"
    assert result["healthz"] == 200


@pytest.mark.django_db(transaction=True)
def test_readyz_shows_verified_staff_why_the_broker_is_down():
    from tests.factories import UserFactory
    from tests.processes import test_database_url

    staff = UserFactory(is_staff=True)
    result = _readyz_in_a_process_with(
        READYZ_AS_STAFF, args=[staff.email], DATABASE_URL=test_database_url(), CELERY_BROKER_URL="redis://127.0.0.1:1/0"
    )
    assert result["status"] == 503
    assert result["body"]["checks"]["database"] == "ok"
    assert "Connection refused" in result["body"]["checks"]["broker"]


@pytest.mark.django_db
def test_readyz_tells_only_verified_staff_about_the_sandbox_workers():
    from django.test import Client
    from django.utils import timezone

    from grading.models import SandboxHealth
    from tests.factories import UserFactory
    from tests.twofactor import login_with_password_only

    SandboxHealth.objects.create(
        hostname="grader-7.internal.chu-rabat.ma", is_ok=False, detail="bwrap: setting up uid map: Permission denied",
        checked_at=timezone.now(),
    )  # fmt: skip
    staff = UserFactory(is_staff=True)
    anonymous, learner, password_only, verified = Client(), Client(), Client(), Client()
    learner.force_login(UserFactory())
    login_with_password_only(password_only, staff)
    login_with_2fa(verified, staff)

    for caller in (anonymous, learner, password_only):
        response = caller.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"]["sandbox"] == "failing"
        assert b"grader-7" not in response.content and b"uid map" not in response.content
    detail = verified.get("/readyz").json()["checks"]["sandbox"]
    assert "grader-7.internal.chu-rabat.ma" in detail and "uid map" in detail


def test_with_nothing_set_the_platform_uses_sqlite_in_var_and_a_serverless_broker(tmp_path):
    code = (
        "import config.wsgi, json; from django.conf import settings; "
        "print(json.dumps([settings.DATABASES['default']['ENGINE'], str(settings.DATABASES['default']['NAME']),"
        " settings.CELERY_BROKER_URL, settings.DEBUG]))"
    )
    out = _run(code, DJANGO_SETTINGS_MODULE=None, DATABASE_URL=None, CELERY_BROKER_URL=None, SECRET_KEY=None,
               DEBUG=None, KAFAAT_VAR_DIR=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    engine, name, broker, debug = json.loads(out.stdout.strip().splitlines()[-1])
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "kafaat.sqlite3")
    assert broker == "filesystem://"
    assert (tmp_path / ".secret_key").exists()


@pytest.mark.parametrize("secret", [None, "", "short", "django-insecure-" + "x" * 60])
def test_production_settings_refuse_to_start_without_a_real_secret_key(secret):
    out = _run("import django; django.setup()", DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secret)
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_production_settings_start_with_a_real_secret_key():
    out = _run(
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k3y-" + "".join(chr(97 + i % 26) for i in range(60)),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.django_db
def test_an_unknown_url_gets_the_404_page_not_a_traceback(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_admin_is_there_for_staff(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="boss@example.org", password="x-long-password-1")
    assert client.get(reverse("admin:index")).status_code == 302
    client.force_login(staff)
    # Staff need a two-factor-verified session for the admin (accounts, issue 6).
    assert client.get(reverse("admin:index")).status_code == 302
    login_with_2fa(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200


def test_run_command_names_the_port_variable_when_the_port_is_taken():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run(
            ["bash", "scripts/run.sh"], cwd=ROOT, env=base_env(PORT=port), capture_output=True, text=True
        )
    assert out.returncode != 0
    assert f"port {port} is already in use" in out.stderr
    assert "PORT=" in out.stderr


def test_the_wsgi_application_loads_every_view_and_freezes_what_it_loaded():
    # A full garbage collection in a web worker walked every object Django and the views had
    # loaded: 233 ms inside a 10,000-row sync request. Frozen at load, they are not walked.
    code = (
        "import gc, sys, json; import config.wsgi; "
        "print(json.dumps([gc.get_freeze_count(), 'integrations.api.views' in sys.modules, "
        "'courses.views' in sys.modules, sum(map(len, (gc.get_objects(g) for g in range(3))))]))"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    frozen, api_views, course_views, tracked = json.loads(out.stdout.strip().splitlines()[-1])
    assert api_views and course_views  # the URLconf was loaded before the freeze
    assert frozen > 50_000 and tracked < frozen / 10, (frozen, tracked)
