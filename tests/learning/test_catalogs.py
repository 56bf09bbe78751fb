"""The French, Arabic and English catalogs are complete: every string marked in the code and the
templates is translated (the failure lists what is not), placeholders survive translation, and
the committed .mo files are what the .po files compile to. `make messages` refreshes them."""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from tests.processes import ROOT

LANGS = ("fr", "ar", "en")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


def catalog(lang: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalog_entry_is_translated_and_not_fuzzy(lang):
    po = catalog(lang)
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated and not fuzzy, (
        f"{lang}: {len(untranslated)} untranslated, {len(fuzzy)} fuzzy. Translate them in "
        f"locale/{lang}/LC_MESSAGES/django.po then run `make messages`:\n  " + "\n  ".join(untranslated + fuzzy)
    )


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_their_placeholders(lang):
    broken = [
        e.msgid
        for e in catalog(lang)
        if e.msgstr and sorted(PLACEHOLDER.findall(e.msgid)) != sorted(PLACEHOLDER.findall(e.msgstr))
    ]
    assert not broken, f"{lang}: placeholders differ in: {broken}"


@pytest.mark.parametrize("lang", LANGS)
def test_committed_mo_files_match_their_po_sources(lang, tmp_path):
    source = ROOT / "locale" / lang / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(source / "django.po")], check=True)
    with open(compiled, "rb") as fresh, open(source / "django.mo", "rb") as committed:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(committed)._catalog, (
            f"locale/{lang}/LC_MESSAGES/django.mo is stale: run `make messages`"
        )


def test_every_marked_string_is_in_the_catalogs(tmp_path):
    """Extract the strings again from a copy of the source and list those the catalogs lack."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", "node_modules", "var", ".git", "test-artifacts", "__pycache__", "tests")
    shutil.copytree(ROOT, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location", "--ignore=bench"],
        cwd=copy, check=True, capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.local",
             "KAFAAT_VAR_DIR": str(tmp_path / "var")},
    )  # fmt: skip
    # A msgid is known in each of its contexts (pgettext): "Code" as an identifier is not "Code" as programming.
    fresh = {
        (e.msgctxt or "", e.msgid)
        for e in polib.pofile(str(copy / "locale/fr/LC_MESSAGES/django.po"))
        if not e.obsolete
    }
    known = {(e.msgctxt or "", e.msgid) for e in catalog("fr") if e.translated()}
    missing = [f"{ctxt}: {msgid}" if ctxt else msgid for ctxt, msgid in sorted(fresh - known)]
    assert not missing, (
        f"{len(missing)} marked strings are not translated yet; run `make messages` and translate:\n  "
        + "\n  ".join(missing)
    )


def test_arabic_catalog_has_arabic_plural_rules():
    assert catalog("ar").metadata["Plural-Forms"].startswith("nplurals=6")
    assert Path(ROOT / "locale/ar/LC_MESSAGES/django.mo").exists()


def test_arabic_tells_a_code_identifier_from_programming_code_and_a_verification_code():
    with translation.override("ar"):
        words = [translation.pgettext(c, "Code") for c in ("identifier", "programming", "verification")]
    assert words == ["الرمز", "برمجة", "رمز التحقق"]
