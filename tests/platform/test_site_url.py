"""The site's address (SITE_URL) follows the port `make run` serves on, unless it is set: every
absolute link (confirmation e-mails, the certificate's verification URL and QR code, the signed
credential's issuer and key ids) is built on it."""

import json
import subprocess
import sys

from tests.processes import ROOT, base_env

PRINT_ADDRESSES = (
    "import django, json; django.setup(); from django.conf import settings; from django.urls import reverse; "
    "from kernel.sites import absolute_url; "
    "from integrations.management.commands.seed_demo import Command; "
    "seed = Command().create_parser('manage.py', 'seed_demo').parse_args([]); "
    "print(json.dumps({'site_url': settings.SITE_URL, "
    "'verify': absolute_url(reverse('certificates:verify', args=['00000000-0000-0000-0000-000000000000'])), "
    "'issuer': absolute_url(reverse('certificates:issuer')), 'seed_demo': seed.base_url}))"
)


def _addresses(**env) -> dict:
    environ = base_env(DJANGO_SETTINGS_MODULE="config.settings.local", SECRET_KEY="x" * 50, **env)
    for key in ("SITE_URL", "PORT"):
        if key not in env:
            environ.pop(key, None)
    out = subprocess.run([sys.executable, "-c", PRINT_ADDRESSES], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_site_url_follows_port_when_it_is_not_set():
    addresses = _addresses(PORT="8301")
    assert addresses["site_url"] == "http://127.0.0.1:8301"
    assert addresses["verify"].startswith("http://127.0.0.1:8301/")
    assert addresses["issuer"].startswith("http://127.0.0.1:8301/")


def test_site_url_is_port_8000_with_neither_set():
    assert _addresses()["site_url"] == "http://127.0.0.1:8000"


def test_an_explicit_site_url_wins_over_port():
    addresses = _addresses(PORT="8301", SITE_URL="https://kafaat.example.ma")
    assert addresses["site_url"] == "https://kafaat.example.ma"
    assert addresses["verify"].startswith("https://kafaat.example.ma/")
    assert addresses["issuer"].startswith("https://kafaat.example.ma/")


def test_seed_demo_prints_the_site_url_by_default_not_port_8000():
    assert _addresses(PORT="8301")["seed_demo"] == "http://127.0.0.1:8301"


def test_run_sh_passes_the_same_address_to_every_process():
    """honcho gives the worker and beat ports of their own (PORT+100, +200): run.sh fixes SITE_URL
    once from the web port, so links written by the worker (certificates) point at the web."""
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert 'export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"' in script
    assert script.index("export SITE_URL") < script.index('honcho" start')
