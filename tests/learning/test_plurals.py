"""Counts agree with their nouns in every language: "1 cours terminé", "2 cours terminés", and the
six Arabic forms (0, 1, 2, 3-10, 11-99, 100+). Templates count with `{% blocktranslate count %}`,
Python with ngettext, and no Arabic plural entry uses one text for all six forms."""

import re

import polib
import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import ngettext

from assessment.kinds.base import AnswerRefused
from assessment.kinds.essay.answer import validate_answer
from tests.processes import ROOT

COURSES_COMPLETE = (
    "{% load i18n %}{% blocktranslate count done=done with total=total %}{{ done }} of {{ total }} courses complete"
    "{% plural %}{{ done }} of {{ total }} courses complete{% endblocktranslate %}"
)


def _render(source: str, lang: str, **context) -> str:
    with translation.override(lang):
        return Template(source).render(Context(context))


def _essay_refusal(lang: str, words: int) -> str:
    with translation.override(lang), pytest.raises(AnswerRefused) as exc:
        validate_answer({"min_words": 50}, {"text": " ".join(["mot"] * words)})
    return str(exc.value.message)


def _rules(lang: str, n: int) -> str:
    rules = {"INACTIVE_DAYS": n, "OVERDUE_ASSIGNMENTS": n, "FAILING_REQUIRED": n}
    with translation.override(lang):
        return render_to_string("analytics/_rules.html", {"rules": rules})


def test_french_counts_agree_with_one_and_with_two():
    assert _render(COURSES_COMPLETE, "fr", done=1, total=3) == "1 cours terminé sur 3"
    assert _render(COURSES_COMPLETE, "fr", done=2, total=3) == "2 cours terminés sur 3"
    assert "compte 1 mot ;" in _essay_refusal("fr", 1)
    assert "compte 2 mots ;" in _essay_refusal("fr", 2)
    assert "depuis 1 jour " in _rules("fr", 1) and "depuis 2 jours " in _rules("fr", 2)


def test_the_dashboard_and_the_catalogue_count_courses_and_required_assignments():
    for name in ("learning/dashboard.html", "courses/catalogue.html"):
        source = (ROOT / "templates" / name).read_text()
        assert "{% blocktranslate count done=" in source
        assert "courses complete{% plural %}" in source
    dashboard = (ROOT / "templates/learning/dashboard.html").read_text()
    assert "required assignments passed{% plural %}" in dashboard
    with translation.override("fr"):
        one = ngettext("%(done)s of %(total)s required assignments passed",
                       "%(done)s of %(total)s required assignments passed", 1) % {"done": 1, "total": 4}  # fmt: skip
    assert one == "1 devoir obligatoire réussi sur 4"


def test_arabic_uses_its_dual_its_plural_and_its_counted_singular():
    two, three, eleven = (_essay_refusal("ar", n) for n in (2, 3, 11))
    assert len({two, three, eleven}) == 3, (two, three, eleven)
    assert "كلمتين" in two and "كلمات" in three and "كلمة" in eleven
    with translation.override("ar"):
        hidden = [
            ngettext("One hidden test also runs.", "%(n)s hidden tests also run.", n) % {"n": n} for n in (2, 3, 11)
        ]
    assert hidden == ["يُشغَّل أيضًا اختباران مخفيان.", "يُشغَّل أيضًا 3 اختبارات مخفية.", "يُشغَّل أيضًا 11 اختبارًا مخفيًا."]
    courses = [_render(COURSES_COMPLETE, "ar", done=n, total=20) for n in (2, 3, 11)]
    assert len(set(courses)) == 3, courses


def test_no_arabic_plural_entry_uses_one_text_for_all_six_forms():
    po = polib.pofile(str(ROOT / "locale/ar/LC_MESSAGES/django.po"))
    same = [e.msgid for e in po if e.msgid_plural and not e.obsolete and len(set(e.msgstr_plural.values())) == 1]
    assert not same, same


BLOCK = re.compile(r"{%\s*blocktranslate([^%]*)%}(.*?){%\s*endblocktranslate\s*%}", re.S)
COUNTED = re.compile(r"{{\s*(\w+)\s*}}\s+(?:[\w-]+\s+){0,2}?(\w+s)\b")
# Not whole numbers, which ngettext cannot choose a form for: a median of days (3.5) and points (12.50).
NOT_COUNTS = {
    ("analytics/course.html", "d"),
    ("analytics/path.html", "d"),
    ("assessment/_assignment_body.html", "points"),
    ("integrations/lti_deep_link.html", "points"),
}


def test_no_template_writes_a_count_before_a_fixed_plural():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = str(path.relative_to(ROOT / "templates"))
        for block in BLOCK.finditer(path.read_text()):
            if "count" in block.group(1).split():
                continue
            for hit in COUNTED.finditer(block.group(2)):
                variable = hit.group(1)
                if (name, variable) in NOT_COUNTS or variable in ("org", "name"):
                    continue
                found.append(f"{name}: {hit.group(0)}")
    assert not found, found


def test_python_messages_count_with_ngettext_not_with_a_parenthesised_s():
    from grading.messages import failure_text, late_text

    late = {"percent": "10", "deduction": "1.00"}
    with translation.override("fr"):
        assert late_text({**late, "days": 1}).startswith("Soumis avec 1 jour de retard")
        assert late_text({**late, "days": 2}).startswith("Soumis avec 2 jours de retard")
    with translation.override("ar"):
        assert len({late_text({**late, "days": n}) for n in (2, 3, 11)}) == 3
        assert len({failure_text("attempts_exhausted", attempts=n) for n in (2, 3, 11)}) == 3
    marked = re.compile(r"""_\(\s*["'][^"']*\(s\)""")
    sources = [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    found = [str(p.relative_to(ROOT)) for p in sources if marked.search(p.read_text())]
    assert not found, found


APPS = ("kernel", "accounts", "assessment", "courses", "grading", "certificates", "learning", "analytics",
        "integrations", "privacy")  # fmt: skip
