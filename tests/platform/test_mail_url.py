"""The mail backend comes from one URL, EMAIL_URL; SMTP options reach the SMTP backend only."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from config.mail_url import mailer_from_url
from tests.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parents[2]


def send_one(settings, url: str) -> None:
    settings.MAILERS = {"default": mailer_from_url(url)}
    assert mail.send_mail("Hello", "Body text", "no-reply@kafaat.local", ["learner@univ.example.ma"]) == 1


def test_smtp_url_sends_through_a_real_smtp_server(settings):
    server = SmtpServer().start()
    try:
        send_one(settings, f"smtp://sis%40univ:p%40ss@127.0.0.1:{server.port}/?timeout=5")
    finally:
        server.stop()
    (message,) = server.messages
    assert message["To"] == "learner@univ.example.ma" and message["Subject"] == "Hello"


def test_file_url_writes_each_mail_into_the_folder(settings, tmp_path):
    send_one(settings, f"file://{tmp_path}")
    (written,) = list(tmp_path.iterdir())
    assert "Subject: Hello" in written.read_text()


def test_locmem_and_console_urls_take_no_smtp_options(settings, capsys):
    assert mailer_from_url("locmem://") == {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    send_one(settings, "locmem://")
    assert [m.subject for m in mail.outbox] == ["Hello"]
    send_one(settings, "console://")
    assert "Subject: Hello" in capsys.readouterr().out


def test_smtp_urls_parse_credentials_tls_and_ssl():
    assert mailer_from_url("smtp://sis%40univ:p%40ss@mail.example.ma:587/?tls=1")["OPTIONS"] == {
        "host": "mail.example.ma",
        "port": 587,
        "username": "sis@univ",
        "password": "p@ss",
        "use_tls": True,
        "use_ssl": False,
    }
    smtps = mailer_from_url("smtps://mail.example.ma")["OPTIONS"]
    assert smtps["port"] == 465 and smtps["use_ssl"] and not smtps["use_tls"]


@pytest.mark.parametrize(
    ("url", "says"),
    [("http://mail.example.ma", "unknown scheme"), ("file://", "needs a folder"), ("smtps://h/?tls=1", "not both")],
)
def test_a_bad_email_url_is_refused_with_a_clear_message(url, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        mailer_from_url(url)


def _production_sendtestemail(tmp_path, **env_vars):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("EMAIL_") and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 30 + "abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "KAFAAT_VAR_DIR": str(tmp_path / "var"),
        **env_vars,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "sendtestemail", "learner@univ.example.ma"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_sends_with_a_non_smtp_backend_from_email_url(tmp_path):
    mails = tmp_path / "mails"
    done = _production_sendtestemail(tmp_path, EMAIL_URL=f"file://{mails}")
    assert done.returncode == 0, done.stderr
    assert len(list(mails.iterdir())) == 1


def test_production_still_reads_the_older_email_backend_variable(tmp_path):
    # It used to get SMTP's host and port too, and failed every mail ("Unknown options").
    done = _production_sendtestemail(tmp_path, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    assert done.returncode == 0, done.stderr
    assert "learner@univ.example.ma" in done.stdout
