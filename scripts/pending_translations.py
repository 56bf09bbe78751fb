"""Fill the fr/ar/en catalogs from locale/pending/*.json, then compile them (run by
`make messages` after makemessages). Parallel work adds its translations as one JSON file each,
so that no two branches edit the same lines of the .po files:

    {"Add a question": {"fr": "Ajouter une question", "ar": "أضف سؤالًا", "en": "Add a question"},
     "%(n)s question": {"plural": "%(n)s questions", "fr": ["...", "..."], "ar": [6 forms], "en": [...]}}

An entry already translated in a catalog is overwritten by the JSON (the JSON is the newer word).
Once merged, the JSON files may be deleted: the .po files hold the translations."""

import json
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("fr", "ar", "en")


def main() -> int:
    pending = {}
    for path in sorted((ROOT / "locale" / "pending").glob("*.json")):
        try:
            pending.update(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            sys.stderr.write(f"{path.relative_to(ROOT)}:{exc.lineno}: {exc.msg}\n")
            return 1
    filled = 0
    for lang in LANGS:
        po_path = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
        po = polib.pofile(str(po_path))
        for entry in po:
            item = pending.get(entry.msgid)
            if item is None or lang not in item:
                continue
            value = item[lang]
            if entry.msgid_plural:
                forms = value if isinstance(value, list) else [value]
                entry.msgstr_plural = {i: f for i, f in enumerate(forms)}
            else:
                entry.msgstr = value if isinstance(value, str) else value[0]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            # Both, or polib writes a lone `#| msgid_plural` that msgfmt rejects as a syntax error.
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
            filled += 1
        po.save(str(po_path))
    sys.stdout.write(f"pending translations: {filled} entries filled from locale/pending/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
