"""`make run` starts right: debug pages only when asked for, the site's own error pages, static
files served by WhiteNoise, and the demo logins printed in a frame once the web server answers
(scripts/demo_banner.py, started by scripts/run.sh)."""

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.processes import ROOT, base_env, free_port

BANNER = ROOT / "scripts" / "demo_banner.py"


def _settings_debug(**env) -> bool:
    code = "import config.wsgi, json; from django.conf import settings; print(json.dumps(settings.DEBUG))"
    environ = base_env(DJANGO_SETTINGS_MODULE="config.settings.local", **env)
    if "DEBUG" not in env:
        environ.pop("DEBUG", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_embedded_settings_serve_without_debug_pages_unless_debug_is_asked_for(tmp_path):
    assert _settings_debug(KAFAAT_VAR_DIR=tmp_path) is False
    assert _settings_debug(KAFAAT_VAR_DIR=tmp_path, DEBUG="true") is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title"), [("fr", "Page introuvable"), ("ar", "الصفحة غير موجودة"), ("en", "Page not found")]
)
def test_a_bad_address_shows_the_site_s_404_page_not_django_s_url_list(client, settings, language, title):
    assert settings.DEBUG is False
    response = client.get("/no-such-page/", headers={"accept-language": language})
    page = response.content.decode()
    assert response.status_code == 404
    assert title in page and 'class="site-header"' in page and "/static/css/kafaat.css" in page
    assert "URLconf" not in page and "admin/" not in page


@pytest.mark.parametrize(
    ("language", "title", "direction"),
    [("fr", "Une erreur est survenue", "ltr"), ("ar", "حدث خطأ", "rtl"), ("en", "Something went wrong", "ltr")],
)
def test_the_500_page_looks_like_the_site_in_each_language_without_touching_the_database(language, title, direction):
    request = RequestFactory().get("/")
    with translation.override(language):
        page = server_error(request).content.decode()
    assert title in page
    assert f'lang="{language}" dir="{direction}"' in page
    assert "/static/css/kafaat.css" in page and 'class="site-header"' in page


def test_whitenoise_serves_a_vendored_static_file_with_debug_off(client, settings):
    assert settings.DEBUG is False
    response = client.get("/static/css/kafaat.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"".join(response.streaming_content).strip()
    assert "Content-Security-Policy" in response.headers  # WhiteNoise answers below the CSP middleware


# --- The framed block ------------------------------------------------------------------------


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        status = 200 if self.path == "/readyz" else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _banner(logins, port: int, *extra: str) -> subprocess.Popen:
    args = [sys.executable, str(BANNER), "--url", f"http://127.0.0.1:{port}", "--file", str(logins),
            "--settle", "0", "--interval", "0.1", *extra]  # fmt: skip
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_demo_logins_are_printed_in_a_frame_only_once_the_web_server_answers(tmp_path):
    logins = tmp_path / "demo-logins.txt"
    logins.write_text("Kafaat is running at http://127.0.0.1:8761/\n  learner  learner@kafaat.local  pw1\n")
    port = free_port()
    proc = _banner(logins, port, "--timeout", "30")
    try:
        time.sleep(1.5)
        assert proc.poll() is None  # still waiting: nothing answers on the port yet
        server = ThreadingHTTPServer(("127.0.0.1", port), _Ready)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    server.shutdown()
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("╔") and lines[-1].startswith("╚")
    assert all(line.startswith("║") and line.endswith("║") for line in lines[1:-1])
    assert len({len(line) for line in lines}) == 1  # a rectangle
    assert any("learner@kafaat.local  pw1" in line for line in lines)
    assert any(str(logins) in line for line in lines)


def test_the_banner_gives_up_quietly_when_the_servers_are_gone(tmp_path):
    logins = tmp_path / "demo-logins.txt"
    logins.write_text("x\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    proc = _banner(logins, free_port(), "--parent", str(dead.pid), "--timeout", "30")
    out, _err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == ""
