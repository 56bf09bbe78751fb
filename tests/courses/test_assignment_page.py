"""The assignment page's frame, whatever the kind: the common settings, the kind's builder or its
source (YAML) tab, switching between them with the unsaved work carried over, row operations that
save nothing, and refusals on the field they name. A small builder for the flag kind stands in for
the real ones (tests/assessment test each builder), so a change of a builder cannot hide a fault
of the frame."""

import dataclasses

import pytest
from django import forms
from django.template import Template
from django.urls import reverse

from assessment import kinds
from courses.models import Assignment
from tests.factories import CourseFactory, ModuleFactory, UserFactory
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db


class FlagRows(forms.Form):
    """A builder after the contract (assessment/kinds/base.py): the flag, and a list of hint rows
    that the "add" row operation grows."""

    template_name = Template(
        '<div id="builder">{{ builder.flag.errors }}{{ builder.flag }}'
        "{% for h in builder.hint_fields %}{{ h }}{% endfor %}"
        '<button name="builder_action" value="add">add</button></div>'
    )
    flag = forms.CharField(required=False)
    rows = forms.IntegerField(widget=forms.HiddenInput, initial=0, required=False)

    def __init__(self, data=None, files=None, *, spec=None, context=None):
        if data is None and spec is not None:
            data = None
            initial = {"flag": spec.get("flag", ""), "rows": len(spec.get("hints", []))}
        else:
            initial = {}
        super().__init__(data, files, initial=initial)
        count = int((data or {}).get("rows") or initial.get("rows") or 0)
        if data is not None and data.get("builder_action") == "add":
            count += 1
        self.count = count
        for i in range(count):
            self.fields[f"hint_{i}"] = forms.CharField(required=False)
        self.context = context

    @property
    def hint_fields(self):
        return [self[f"hint_{i}"] for i in range(self.count)]

    @classmethod
    def data_from_spec(cls, spec):
        data = {"flag": spec.get("flag", ""), "rows": str(len(spec.get("hints", [])))}
        data.update({f"hint_{i}": h["text"] for i, h in enumerate(spec.get("hints", []))})
        return data

    def edit_action(self):
        if self.data.get("builder_action") == "add":
            self.data = self.data.copy()
            self.data["rows"] = str(self.count)
            return True
        return False

    def to_spec(self):
        spec = {"flag": self.cleaned_data["flag"]}
        hints = [self.cleaned_data[f"hint_{i}"] for i in range(self.count) if self.cleaned_data.get(f"hint_{i}")]
        if hints:
            spec["hints"] = [{"text": h} for h in hints]
        return spec

    def add_spec_error(self, exc):
        self.add_error("flag" if exc.path.startswith("flag") else None, exc.message)


@pytest.fixture
def flag_builder(monkeypatch):
    monkeypatch.setitem(kinds.KINDS, "flag", dataclasses.replace(kinds.KINDS["flag"], builder=FlagRows))


@pytest.fixture
def world(client):
    course = CourseFactory(code="frame-1", status="draft")
    module = ModuleFactory(course=course, position=1)
    instructor = UserFactory()
    course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    url = reverse("courses:author-assignment-new", kwargs={"code": course.code, "module_pk": module.pk})
    return {"course": course, "module": module, "url": url + "?kind=flag"}


SETTINGS = {"kind": "flag", "title": "Find the leak", "points": "10", "pass_percent": "75", "is_required": "on",
            "late_penalty_per_day": "0", "prompt_markdown": "Read the log."}  # fmt: skip


def test_a_kind_with_a_builder_opens_on_the_builder_and_saves_what_it_builds(client, world, flag_builder):
    page = client.get(world["url"]).content.decode()
    assert 'id="builder"' in page and 'name="spec_text"' not in page
    response = client.post(world["url"], {**SETTINGS, "flag": "FLAG{x}", "rows": "0"})
    assert response.status_code == 302
    assignment = Assignment.objects.get(course=world["course"])
    assert str(assignment.pass_threshold) == "0.750" and assignment.title == "Find the leak"
    assert assignment.current_version.spec["flag_hash"].startswith("sha256$")  # prepared by the kind


def test_a_row_operation_re_renders_with_the_new_row_and_saves_nothing(client, world, flag_builder):
    response = client.post(world["url"], {**SETTINGS, "flag": "FLAG{x}", "rows": "0", "builder_action": "add"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="hint_0"' in page and 'value="FLAG{x}"' in page  # the row is added, the typing kept
    assert not Assignment.objects.exists()


def test_a_row_operation_before_the_title_is_typed_shows_no_error(client, world, flag_builder):
    response = client.post(world["url"], {**SETTINGS, "title": "", "flag": "", "rows": "0", "builder_action": "add"})
    assert response.status_code == 200 and 'role="alert"' not in response.content.decode()


def test_switching_to_the_source_and_back_carries_the_unsaved_work(client, world, flag_builder):
    response = client.post(
        world["url"], {**SETTINGS, "flag": "FLAG{y}", "rows": "1", "hint_0": "Look at line 3", "switch": "source"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'name="spec_text"' in page
    assert "FLAG{y}" in page and "Look at line 3" in page and not Assignment.objects.exists()
    source = "flag: FLAG{z}\nhints:\n- text: Look at line 4\n  after_wrong: 1\n"
    response = client.post(world["url"], {**SETTINGS, "spec_text": source, "switch": "builder"})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="builder"' in page
    assert 'value="FLAG{z}"' in page and 'value="Look at line 4"' in page and not Assignment.objects.exists()


def test_a_source_that_does_not_parse_stays_on_the_source_with_the_line_and_a_french_hint(client, world, flag_builder):
    client.cookies["django_language"] = "fr"
    response = client.post(world["url"], {**SETTINGS, "spec_text": "hints:\n- text: a\n -b\n", "switch": "builder"})
    page = response.content.decode()
    assert response.status_code == 400 and 'name="spec_text"' in page
    assert "Ligne 3, colonne 2" in page and "indentation" in page


def test_the_kinds_refusal_lands_on_the_builder_field_and_nothing_is_saved(client, world, flag_builder):
    response = client.post(world["url"], {**SETTINGS, "flag": "", "rows": "0"})
    assert response.status_code == 400
    assert 'id="builder"' in response.content.decode() and not Assignment.objects.exists()


def test_a_settings_error_keeps_the_builder_rows_and_saves_nothing(client, world, flag_builder):
    response = client.post(world["url"], {**SETTINGS, "pass_percent": "150", "flag": "F", "rows": "1", "hint_0": "h"})
    page = response.content.decode()
    assert response.status_code == 400 and 'value="h"' in page and not Assignment.objects.exists()


def test_an_unknown_kind_is_a_404_page_and_a_400_post(client, world):
    assert client.get(world["url"].replace("kind=flag", "kind=wormhole")).status_code == 404
    assert client.post(world["url"], {**SETTINGS, "kind": "wormhole", "spec_text": "a: 1"}).status_code == 400


def test_a_full_pass_mark_is_shown_as_100_not_in_exponent_form(client, world, flag_builder):
    client.post(world["url"], {**SETTINGS, "pass_percent": "100", "flag": "F", "rows": "0"})
    assignment = Assignment.objects.get(course=world["course"])
    edit = reverse("courses:author-assignment-edit", kwargs={"code": world["course"].code, "pk": assignment.pk})
    page = client.get(edit).content.decode()
    assert 'name="pass_percent" value="100"' in page and "1E+2" not in page
