"""The instructor's assignment preview is the learner's page (same body template, same learner
form), and its "try it" grades an answer with the kind's real grader while storing nothing."""

import dataclasses
import re
from types import SimpleNamespace

import lxml.html
import pytest
from django.urls import reverse

from assessment import kinds
from courses.models import Assignment
from grading.models import GradeRecord, Submission
from kernel.models import OutboxEvent
from learning.models import Notification
from tests.factories import CourseFactory, ModuleFactory, UserFactory, enroll, make_quiz
from tests.grading.helpers import CODE_SPEC, ESSAY_SPEC, FLAG_SPEC, make_assignment
from tests.twofactor import login_with_2fa

RIGHT_CODE = "def solve(a, b):\n    return a + b\n"


@pytest.fixture
def world(db):
    course = CourseFactory(code="prev-1", status="published")
    module = ModuleFactory(course=course, position=1)
    instructor, learner = UserFactory(), UserFactory()
    course.instructors.add(instructor)
    enroll(learner, course)
    return SimpleNamespace(course=course, module=module, instructor=instructor, learner=learner)


def _assignment(world, kind: str) -> Assignment:
    if kind == "quiz":
        return make_quiz(module=world.module, points=10)
    spec = {"code": CODE_SPEC, "flag": FLAG_SPEC, "essay": ESSAY_SPEC}[kind]
    return make_assignment(kind, spec, course=world.course, points=10)


def _preview_url(assignment: Assignment) -> str:
    return reverse("courses:author-assignment-preview", kwargs={"code": assignment.course.code, "pk": assignment.pk})


def _learner_url(assignment: Assignment) -> str:
    return reverse("courses:assignment", kwargs={"code": assignment.course.code, "pk": assignment.pk})


def _answer_form(html: bytes):
    """The page's answer form (not the staff forms)."""
    forms = lxml.html.fromstring(html).xpath("//form[@class='answer']")
    assert len(forms) == 1
    return forms[0]


def _fields(html: bytes) -> list[tuple]:
    """Every control of the answer form: (tag, name, type, value of a choice, text of a textarea,
    id of its label's target), CSRF token aside."""
    form = _answer_form(html)
    out = []
    for el in form.xpath(".//input|.//textarea|.//select"):
        if el.get("name") == "csrfmiddlewaretoken":
            continue
        kind = el.get("type", el.tag)
        value = el.get("value") if kind in {"radio", "checkbox"} else None
        text = el.text_content() if el.tag == "textarea" else None
        out.append((el.tag, el.get("name"), kind, value, text))
    return sorted(out, key=repr)


def _section(html: bytes) -> str:
    """The kind's section (code tests, essay rubric) and the prompt, whitespace folded."""
    doc = lxml.html.fromstring(html)
    parts = doc.xpath("//section[@class='tests' or @class='rubric']") + doc.xpath("//div[@class='prompt']")
    return " ".join(" ".join(lxml.html.tostring(p, encoding="unicode").split()) for p in parts)


def _get(client, user, url):
    client.logout()
    login_with_2fa(client, user)
    return client.get(url)


def _nothing_stored():
    assert not Submission.objects.exists()
    assert not GradeRecord.objects.exists()
    assert not Notification.objects.exists()
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize("kind", ["quiz", "code", "flag", "essay"])
def test_the_preview_renders_the_learners_form_and_section(client, world, kind):
    assignment = _assignment(world, kind)
    learner_page = _get(client, world.learner, _learner_url(assignment))
    preview_page = _get(client, world.instructor, _preview_url(assignment))
    assert learner_page.status_code == preview_page.status_code == 200
    learner_fields, preview_fields = _fields(learner_page.content), _fields(preview_page.content)
    assert learner_fields and preview_fields == learner_fields
    assert _section(preview_page.content) == _section(learner_page.content)
    form = _answer_form(preview_page.content)
    for control in form.xpath(".//input[@type='text']|.//textarea"):  # a label names each box (axe: label)
        assert form.xpath(f".//label[@for='{control.get('id')}']")


def test_the_essay_preview_shows_the_rubric_and_the_text_box(client, world):
    essay = _assignment(world, "essay")
    page = _get(client, world.instructor, _preview_url(essay))
    doc = lxml.html.fromstring(page.content)
    criteria = doc.xpath("//section[@class='rubric']//section[@class='criterion']/h3")
    assert [c.text_content() for c in criteria] == ["Argument", "Sources"]
    assert [f[:3] for f in _fields(page.content)] == [("textarea", "text", "textarea")]
    assert doc.xpath("//section[@class='rubric']//p[@class='hint']")  # the word limits


def test_the_code_preview_starts_the_editor_from_the_starter_code(client, world):
    code = _assignment(world, "code")
    page = _get(client, world.instructor, _preview_url(code))
    (textarea,) = _answer_form(page.content).xpath(".//textarea[@name='code']")
    assert textarea.text_content().strip() == CODE_SPEC["starter_code"].strip() and "code" in textarea.get("class")
    assert "t1" in _section(page.content) and "h1" not in _section(page.content)  # hidden tests stay hidden


def _try(client, world, assignment, data, *, user=None):
    login_with_2fa(client, user or world.instructor)
    page = client.get(_preview_url(assignment))
    action = _answer_form(page.content).get("action")
    assert action.startswith(_preview_url(assignment) + "?seed=")
    return client.post(action, data)


def _score(response) -> tuple[str, str]:
    (result,) = lxml.html.fromstring(response.content).xpath("//section[@id='try-result']")
    (score,) = result.xpath(".//p[@class='score']")
    return score.xpath("./strong")[0].get("data-score"), score.text_content().split("/")[-1].strip()


def test_try_it_grades_a_right_quiz_answer_and_stores_nothing(client, world):
    quiz = _assignment(world, "quiz")
    response = _try(client, world, quiz, {"q_q1": "a", "q_q2": ["a", "c"]})
    assert response.status_code == 200
    assert _score(response) == ("10.00", "10.00")
    assert response.content.count(b'class="ok"') == 2
    _nothing_stored()


def test_try_it_grades_a_wrong_quiz_answer_with_the_questions_feedback(client, world):
    quiz = _assignment(world, "quiz")
    response = _try(client, world, quiz, {"q_q1": "b", "q_q2": ["b"]})
    assert response.status_code == 200
    assert _score(response) == ("0.00", "10.00")
    assert "Count again." in response.content.decode()  # the question's own feedback, as a learner reads it
    _nothing_stored()


def test_try_it_runs_code_in_the_real_sandbox(client, world):
    code = _assignment(world, "code")
    right = _try(client, world, code, {"code": RIGHT_CODE})
    assert right.status_code == 200 and _score(right) == ("10.00", "10.00")
    assert "3 of 3 tests passed." in right.content.decode()
    assert b"hidden run: exit" in right.content  # the instructor reads the grader's staff log
    wrong = _try(client, world, code, {"code": "def solve(a, b):\n    return a - b\n"})
    assert _score(wrong) == ("0.00", "10.00") and "0 of 3 tests passed." in wrong.content.decode()
    _nothing_stored()


def test_try_it_says_so_when_the_sandbox_is_down(client, world, monkeypatch):
    code = _assignment(world, "code")
    monkeypatch.setenv("KAFAAT_SANDBOX_BWRAP", "/nonexistent/bwrap")  # the sandbox itself is broken here
    response = _try(client, world, code, {"code": RIGHT_CODE})
    assert response.status_code == 200
    (problem,) = lxml.html.fromstring(response.content).xpath("//section[@id='try-result']//p[@role='alert']")
    assert "sandbox is not available" in problem.text_content()
    _nothing_stored()


def test_try_it_says_so_when_the_grader_crashes(client, world, monkeypatch):
    ctf = _assignment(world, "flag")

    def crash(spec, answer):
        raise RuntimeError("boom")

    real = kinds.KINDS["flag"]
    broken = SimpleNamespace(**{f: getattr(real, f) for f in real.__dataclass_fields__})
    broken.grade = crash
    monkeypatch.setitem(kinds.KINDS, "flag", broken)
    response = _try(client, world, ctf, {"flag": "FLAG{s3cr3t}"})
    assert response.status_code == 200
    (problem,) = lxml.html.fromstring(response.content).xpath("//section[@id='try-result']//p[@role='alert']")
    assert "grader failed" in problem.text_content()
    _nothing_stored()


def test_try_it_grades_a_flag(client, world):
    ctf = _assignment(world, "flag")
    right = _try(client, world, ctf, {"flag": "FLAG{s3cr3t}"})
    assert _score(right) == ("10.00", "10.00") and "Right flag." in right.content.decode()
    wrong = _try(client, world, ctf, {"flag": "FLAG{nope}"})
    assert _score(wrong) == ("0.00", "10.00") and "Wrong flag." in wrong.content.decode()
    _nothing_stored()


def test_try_it_says_an_essay_goes_to_review_with_its_word_count(client, world):
    essay = _assignment(world, "essay")
    response = _try(client, world, essay, {"text": "one two three four five"})
    assert response.status_code == 200
    (result,) = lxml.html.fromstring(response.content).xpath("//section[@id='try-result']")
    assert "This one has 5 words." in result.text_content() and not result.xpath(".//p[@class='score']")
    _nothing_stored()


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("flag", {"flag": ""}, "flag"),
        ("essay", {"text": "too short"}, "text"),  # below the rubric's 3 words: validate_answer refuses
        ("code", {"code": "   "}, "code"),
        ("quiz", {"q_q1": "z", "q_q2": ["a"]}, "q_q1"),  # not one of the choices
    ],
)
def test_a_bad_answer_gets_a_field_error_and_a_400(client, world, kind, data, field):
    assignment = _assignment(world, kind)
    response = _try(client, world, assignment, data)
    assert response.status_code == 400
    form = _answer_form(response.content)
    # the field's group: a question's fieldset, or a single input's labelled box
    (group,) = form.xpath(f".//*[self::fieldset or contains(@class, 'field')][.//*[@name='{field}']]")
    assert group.xpath(".//div[@class='errors'][@role='alert']")
    assert not lxml.html.fromstring(response.content).xpath("//section[@id='try-result']")
    _nothing_stored()


def test_an_empty_post_is_a_field_error_not_a_silent_page(client, world):
    ctf = _assignment(world, "flag")
    login_with_2fa(client, world.instructor)
    response = client.post(_preview_url(ctf), {})
    assert response.status_code == 400 and b'role="alert"' in response.content


@pytest.mark.parametrize("who", ["other_instructor", "learner"])
def test_another_instructor_or_a_learner_cannot_try_it(client, world, who):
    ctf = _assignment(world, "flag")
    user = world.learner
    if who == "other_instructor":
        user = UserFactory()
        CourseFactory(code="other-1").instructors.add(user)
    login_with_2fa(client, user)
    assert client.get(_preview_url(ctf)).status_code == 403
    assert client.post(_preview_url(ctf), {"flag": "FLAG{s3cr3t}"}).status_code == 403
    _nothing_stored()


def test_a_draft_courses_assignment_can_be_previewed_and_tried(client, world):
    world.course.status = "draft"
    world.course.save(update_fields=["status"])
    ctf = _assignment(world, "flag")
    assert _get(client, world.instructor, _preview_url(ctf)).status_code == 200
    assert _score(_try(client, world, ctf, {"flag": "FLAG{s3cr3t}"})) == ("10.00", "10.00")
    _nothing_stored()


def test_a_kind_that_draws_per_attempt_is_previewed_and_graded_on_one_draw(client, world, monkeypatch):
    """A Kind with attempt_spec(spec, seed): each preview gets a fresh seed, and the try is graded
    on the questions that seed drew (here: one question, chosen by the seed's last digit)."""
    quiz = _assignment(world, "quiz")
    seeds = []

    def attempt_spec(spec, seed):
        seeds.append(seed)
        question = spec["questions"][int(seed[-1], 16) % 2]
        return {**spec, "questions": [question]}

    real = kinds.KINDS["quiz"]
    drawing = dataclasses.replace(real, attempt_spec=attempt_spec)
    monkeypatch.setitem(kinds.KINDS, "quiz", drawing)
    login_with_2fa(client, world.instructor)
    for _ in range(4):
        client.get(_preview_url(quiz))
    assert len(set(seeds)) == 4  # a fresh draw on every preview
    page = client.get(_preview_url(quiz))
    (field,) = _fields(page.content)[:1]
    names = {f[1] for f in _fields(page.content)}
    assert len(names) == 1 and field[1] in {"q_q1", "q_q2"}
    answer = {"q_q1": "a"} if names == {"q_q1"} else {"q_q2": ["a", "c"]}
    response = client.post(_answer_form(page.content).get("action"), answer)
    assert response.status_code == 200 and _score(response) == ("10.00", "10.00")
    assert seeds[-1] == seeds[-2]  # graded on the draw it showed
    _nothing_stored()


def test_a_forged_seed_is_replaced_by_a_fresh_one(client, world):
    quiz = _assignment(world, "quiz")
    login_with_2fa(client, world.instructor)
    page = client.get(_preview_url(quiz) + "?seed=../../etc")
    assert "etc" not in _answer_form(page.content).get("action")


def test_the_code_preview_loads_the_learners_code_editor_with_the_csp_nonce_its_style_needs(client, world):
    code = _assignment(world, "code")
    response = _get(client, world.instructor, _preview_url(code))
    page = response.content.decode()
    # CodeMirror writes its layout into a <style>: the page's CSP lets it in by the nonce that
    # code_editor.js reads from its own <script> tag.
    nonce = re.search(r"style-src 'self' 'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'src="/static/vendor/codemirror6/editor.min.js" nonce="{nonce}" defer' in page
    assert f'src="/static/js/code_editor.js" nonce="{nonce}" defer' in page
    assert "'nonce-" not in response.headers["Content-Security-Policy"].split("style-src")[0]  # scripts: 'self' only


def test_a_preview_without_a_code_editor_has_no_nonce_in_its_csp(client, world):
    quiz = _assignment(world, "quiz")
    response = _get(client, world.instructor, _preview_url(quiz))
    assert "nonce" not in response.headers["Content-Security-Policy"]
