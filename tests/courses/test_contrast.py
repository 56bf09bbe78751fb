"""Contrast of the colours the stylesheets set (WCAG 2.1 AA): lesson code reads at 4.5:1 or more
on every background a code block sits on, and the focus ring is 3:1 or more (1.4.11) on the light
page and on the dark header."""

import re

import pytest

from tests.processes import ROOT

CSS = ROOT / "static" / "css"
PAGE_BACKGROUNDS = ["#fbfbfa", "#ffffff"]  # --bg, white boxes (.essay, the course outline)
CODE_BACKGROUNDS = ["#f3f4f6", "#f8f8f8", "#eef4fb", "#edf6ef", "#fdf6e7"]  # pre, .highlight, lesson boxes
HEADER = "#0d2c4a"


def _luminance(colour: str) -> float:
    h = colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _var(css: str, name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{3,6}})", css).group(1)


def test_the_contrast_formula_matches_wcags_reference_values():
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#767676", "#fff") == pytest.approx(4.54, abs=0.01)


def test_every_colour_of_lesson_code_reads_at_4_5_to_1_on_its_backgrounds():
    rules = re.findall(r"\.highlight \.(\w+) \{ color: (#[0-9a-fA-F]{3,6})", (CSS / "pygments.css").read_text())
    assert len(rules) > 40
    low = {
        (cls, colour, bg): round(contrast(colour, bg), 2)
        for cls, colour in rules
        if cls != "w"  # whitespace: no text to read
        for bg in CODE_BACKGROUNDS
        if contrast(colour, bg) < 4.5
    }
    assert not low, low


def test_the_focus_ring_stands_out_3_to_1_on_the_light_page_and_the_dark_header():
    css = (CSS / "kafaat.css").read_text()
    assert re.search(r"a:focus[^{]*\{ outline: 3px solid var\(--focus\)", css)
    assert re.search(r"\.site-header :focus \{ outline-color: var\(--focus-on-dark\)", css)
    on_light, on_dark = _var(css, "focus"), _var(css, "focus-on-dark")
    for bg in PAGE_BACKGROUNDS:
        assert contrast(on_light, bg) >= 3, (on_light, bg)
    assert contrast(on_dark, HEADER) >= 3
    assert "#f2a900; outline-offset" not in (CSS / "code_editor.css").read_text()
