"""Template rules a page-level checker can miss: a button or link with visible text is named by that
text (WCAG 2.5.3, label in name), never by an aria-label that says something else ("↑ Haut"
named "Monter")."""

import re

from tests.processes import ROOT

OPENING = re.compile(r"<(button|a)\b([^>]*)>(.*?)</\1>", re.S)


def _visible_text(inner: str) -> str:
    inner = re.sub(r"<span[^>]*aria-hidden=\"true\"[^>]*>.*?</span>", "", inner, flags=re.S)
    inner = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|<[^>]+>", "x", inner, flags=re.S)  # template output counts as text
    return inner.strip()


def test_no_button_or_link_with_visible_text_is_renamed_by_an_aria_label():
    renamed = [
        f"{path.relative_to(ROOT)}: {m.group(0)[:120]}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for m in OPENING.finditer(path.read_text())
        if "aria-label=" in m.group(2) and _visible_text(m.group(3))
    ]
    assert not renamed, renamed
