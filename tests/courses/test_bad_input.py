"""Hostile input on the learner and authoring pages and the course import: form errors and 4xx,
never a 500, nothing written."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from courses.models import CourseImportJob
from tests.badinput import ENORMOUS, HUGE, NUL, _counts, _no_500, _refused  # noqa: F401
from tests.factories import CourseFactory, LessonFactory, ModuleFactory
from tests.twofactor import login_with_2fa

# --- courses (learner side) ---------------------------------------------------------------------


def test_learner_views_with_garbage(client, world):
    client.force_login(world["learner"])
    code = world["course"].code
    for pk in (0, 10**12, int(ENORMOUS)):
        _no_500(client.get(f"/courses/{code}/lessons/{pk}/"))
        _no_500(client.get(f"/courses/{code}/assignments/{pk}/"))
        _no_500(client.get(f"/submissions/{pk}/"))
        _no_500(client.get(f"/submissions/{pk}/status/"))
    lesson_url = reverse("courses:lesson", kwargs={"code": code, "pk": world["lesson"].pk})
    for data in ({}, {"done": NUL}, {"done": HUGE}, {"done": ["1", "0"]}):
        _no_500(client.post(lesson_url, data))
    for method in ("put", "delete", "patch"):
        assert _no_500(getattr(client, method)(lesson_url)).status_code == 405
    assert _no_500(client.get(reverse("courses:enroll", kwargs={"code": code}))).status_code == 405
    _no_500(client.post(reverse("courses:enroll", kwargs={"code": "no-such-course"})))


@pytest.mark.parametrize(
    "data",
    [
        {"csrfmiddlewaretoken": "x"},  # what a browser sends when nothing is chosen
        {"q_q1": "zzz", "q_q2": ["a", "zz"]},
        {"q_q1": NUL, "q_q2": NUL},
        {"q_q1": HUGE, "q_q2": [HUGE]},
        {"q_q1": ["a", "b"], "q_q2": "a"},
    ],
)
def test_quiz_answers_with_garbage_get_form_errors(client, world, data):
    client.force_login(world["learner"])
    before = _counts()
    url = reverse("courses:assignment", kwargs={"code": world["course"].code, "pk": world["quiz"].pk})
    response = _no_500(client.post(url, data))
    if response.status_code != 302:
        assert response.status_code == 400
        assert _counts() == before


# --- authoring ----------------------------------------------------------------------------------


@pytest.fixture
def author(client, world):
    login_with_2fa(client, world["instructor"])
    return client


@pytest.mark.parametrize(
    "data",
    [
        {"code": "", "title": "", "language": ""},
        {"code": "Not a slug!", "title": "T", "language": "en"},
        {"code": "c" * 65, "title": "T", "language": "en"},
        {"code": "new-1", "title": HUGE, "language": "en"},
        {"code": "new-1", "title": NUL, "language": "en"},
        {"code": "new-1", "title": "T", "language": "klingon"},
        {"code": "sweep-1", "title": "T", "language": "en"},
        {"code": "new-1", "title": "T", "language": "en", "summary": NUL},
    ],
)
def test_course_form_refuses_garbage(author, data):
    before = _counts()
    response = _no_500(author.post(reverse("courses:author-course-new"), data))
    assert response.status_code == 400
    assert _counts() == before


def test_authoring_posts_with_garbage(author, world):
    code = world["course"].code
    module, lesson = world["module"], world["lesson"]
    before = _counts()
    for data in ({}, {"title": HUGE}, {"title": NUL}):
        _no_500(author.post(reverse("courses:author-module-new", kwargs={"code": code}), data))
        _no_500(author.post(reverse("courses:author-module-edit", kwargs={"code": code, "pk": module.pk}), data))
        _no_500(author.post(reverse("courses:author-lesson-new", kwargs={"code": code, "module_pk": module.pk}), data))
        _no_500(author.post(reverse("courses:author-lesson-edit", kwargs={"code": code, "pk": lesson.pk}), data))
        _no_500(author.post(reverse("courses:author-course-edit", kwargs={"code": code}), data))
    for data in ({}, {"direction": "sideways"}, {"direction": NUL}, {"direction": HUGE}):
        _no_500(author.post(reverse("courses:author-module-move", kwargs={"code": code, "pk": module.pk}), data))
        _no_500(author.post(reverse("courses:author-lesson-move", kwargs={"code": code, "pk": lesson.pk}), data))
    for data in ({}, {"status": "gone"}, {"status": NUL}, {"status": HUGE}):
        _no_500(author.post(reverse("courses:author-status", kwargs={"code": code}), data))
    assert _counts() == before
    world["course"].refresh_from_db()
    assert world["course"].status == "published"
    # Another course's objects through this course's URL: not found.
    other = ModuleFactory(course=CourseFactory(code="theirs"), position=1)
    other_lesson = LessonFactory(module=other, position=1)
    edit = reverse("courses:author-lesson-edit", kwargs={"code": code, "pk": other_lesson.pk})
    assert _no_500(author.post(edit, {"title": "mine now"})).status_code == 404
    new = reverse("courses:author-lesson-new", kwargs={"code": code, "module_pk": other.pk})
    assert _no_500(author.post(new, {"title": "mine now"})).status_code == 404


# "Billion laughs": nine lines that expand to 10**9 strings once copied to JSON.
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)

QUIZ_YAML = (
    "questions:\n- id: q1\n  type: single\n  prompt: P\n  choices:\n  - {id: a, text: A}\n  - {id: b, text: B}\n"
    "  answer: [a]\n"
)


def _assignment_data(**over):
    data = {"title": "A", "kind": "quiz", "points": "10", "pass_percent": "50", "late_penalty_per_day": "0",
            "spec_text": QUIZ_YAML}  # fmt: skip
    data.update(over)
    return data


def test_the_assignment_editor_accepts_the_sweeps_baseline(author, world):
    url = reverse(
        "courses:author-assignment-new", kwargs={"code": world["course"].code, "module_pk": world["module"].pk}
    )
    data = _assignment_data(attempts_allowed="1000", late_cutoff_days="3650")
    assert author.post(url, data).status_code == 302


@pytest.mark.parametrize(
    "over",
    [
        {"spec_text": ""},
        {"spec_text": "questions: [unclosed"},
        {"spec_text": "{not json"},
        {"spec_text": "- a list\n- not a mapping\n"},
        {"spec_text": "just a string"},
        {"spec_text": "when: 2024-01-01\n"},
        {"spec_text": "[" * 5000 + "]" * 5000},
        {"spec_text": "a: &a [1, 2]\nb: [*a, *a, *a]\n" + "questions: 5\n"},
        {"spec_text": NUL},
        {"spec_text": LAUGHS},
        {"spec_text": QUIZ_YAML.replace("type: single", "type: single\n  points: .inf")},
        {"spec_text": QUIZ_YAML.replace("type: single", "type: single\n  points: .nan")},
        {"spec_text": "questions:\n- {id: q1, type: numeric, prompt: P, value: 1, tolerance: .inf}\n"},
        {"spec_text": QUIZ_YAML.replace("prompt: P", 'prompt: "P\\0"')},
        {"spec_text": '{"questions": [{"id": "q1", "type": "single", "prompt": "P\\u0000", "choices": []}]}'},
        {"spec_text": "questions: []\n"},
        {"spec_text": "questions:\n- id: q1\n  type: teleport\n"},
        {"spec_text": "questions:\n- {}\n"},
        {"spec_text": "questions:\n- id: [1]\n  prompt: {a: b}\n  choices: 7\n"},
        {"spec_text": HUGE},
        {"kind": "wormhole"},
        {"points": "-1"},
        {"points": "abc"},
        {"points": ENORMOUS},
        {"points": "NaN"},
        {"points": "Infinity"},
        {"pass_percent": "200"},
        {"attempts_allowed": "0"},
        {"attempts_allowed": ENORMOUS},
        {"attempts_allowed": str(2**31)},
        {"late_cutoff_days": str(2**31)},
        {"late_cutoff_days": "-3"},
        {"late_penalty_per_day": "101"},
        {"due_at": "tomorrow"},
        {"due_at": "99999-01-01 00:00"},
        {"title": HUGE},
        {"slug": "no spaces allowed"},
        {"competencies": ["abc", str(10**12)]},
    ],
)
def test_assignment_editor_refuses_garbage(author, world, over):
    before = _counts()
    url = reverse(
        "courses:author-assignment-new", kwargs={"code": world["course"].code, "module_pk": world["module"].pk}
    )
    response = _no_500(author.post(url, _assignment_data(**over)))
    assert response.status_code == 400, over
    assert _counts() == before


@pytest.mark.parametrize("kind", ["code", "flag", "essay"])
@pytest.mark.parametrize(
    "spec", ["{}", "flag: 5\n", "rubric: 5\n", "public_tests: 7\nreference_solution: 5\n", "entrypoint: [1]\n"]
)
def test_every_kind_refuses_a_broken_spec(author, world, kind, spec):
    before = _counts()
    url = reverse(
        "courses:author-assignment-new", kwargs={"code": world["course"].code, "module_pk": world["module"].pk}
    )
    response = _no_500(author.post(url, _assignment_data(kind=kind, spec_text=spec)))
    assert response.status_code == 400
    assert _counts() == before


def test_editing_an_assignment_with_garbage_keeps_its_version(author, world):
    quiz = world["quiz"]
    version = quiz.current_version_id
    url = reverse("courses:author-assignment-edit", kwargs={"code": world["course"].code, "pk": quiz.pk})
    for over in (
        {"spec_text": "questions: 5"},
        {"kind": "essay", "spec_text": "rubric: 5"},
        {"attempts_allowed": str(2**31)},
    ):
        _no_500(author.post(url, _assignment_data(**over)))
    quiz.refresh_from_db()
    assert quiz.current_version_id == version
    assert quiz.kind == "quiz"


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not a zip at all",
        b"PK\x03\x04" + b"\x00" * 100,
        _zip({}),
        _zip({"course.yaml": "format: kafaat-course/1\ncode: [unclosed\n"}),
        _zip({"course.yaml": "- a\n- list\n"}),
        _zip({"course.yaml": "format: kafaat-course/99\ncode: x\n"}),
        _zip({"course.yaml": "format: kafaat-course/1\n"}),
        _zip({"course.yaml": b"\xff\xfe\x00bad utf8"}),
        _zip({"course.yaml": "format: kafaat-course/1\ncode: Not A Slug\ntitle: T\nlanguage: en\nmodules: []\n"}),
        _zip({"course.yaml": "format: kafaat-course/1\ncode: ok-1\ntitle: T\nlanguage: xx\nmodules: 5\n"}),
        _zip(
            {
                "course.yaml": "format: kafaat-course/1\ncode: ok-1\ntitle: T\nlanguage: en\n"
                "modules:\n- title: M\n  lessons: [{title: L, file: ../../etc/passwd}]\n"
            }
        ),  # fmt: skip
        _zip({"course.yaml": "format: kafaat-course/1\ncode: sweep-1\ntitle: T\nlanguage: en\nmodules: []\n"}),
        _zip(
            {"course.yaml": "format: kafaat-course/1\ncode: ok-2\ntitle: T\nlanguage: en\nstatus: bogus\nmodules: []\n"}
        ),  # fmt: skip
        _zip(
            {
                "course.yaml": "format: kafaat-course/1\ncode: ok-3\ntitle: T\nlanguage: en\nmodules: []\n"
                "competencies: 5\n"
            }
        ),  # fmt: skip
        _zip(
            {
                "course.yaml": "format: kafaat-course/1\ncode: ok-4\ntitle: T\nlanguage: en\nmodules: []\n",
                "assignments/a.yaml": "format: kafaat-assignment/1\nkind: quiz\nmodule: 99\nspec: {}\n",
            }
        ),  # fmt: skip
        _zip({"course.yaml": "[" * 5000}),
        _zip({"course.yaml": LAUGHS}),
        _zip({"course.yaml": 'format: kafaat-course/1\ncode: ok-5\ntitle: "T\\0"\nlanguage: en\nmodules: []\n'}),
        _zip(
            {
                "course.yaml": "format: kafaat-course/1\ncode: ok-6\ntitle: T\nlanguage: en\n"
                "modules:\n- title: M\n  lessons: [{title: L, file: l.md}]\n",
                "l.md": "body \x00 NUL",
            }
        ),  # fmt: skip
    ],
)
def test_course_import_refuses_broken_archives(author, world, payload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _counts()
    upload = SimpleUploadedFile("c.zip", payload, content_type="application/zip")
    response = _no_500(author.post(reverse("courses:author-import"), {"archive": upload, "update": "on"}))
    assert response.status_code == 400
    assert _counts() == before
    world["course"].refresh_from_db()
    assert world["course"].title != "T"


def test_course_import_by_a_learner_and_without_a_file(client, world, author):
    before = _counts()
    _refused(author.post(reverse("courses:author-import"), {}), 400, "This field is required.")
    assert author.get(reverse("courses:author-import")).status_code == 200  # the upload form's page
    assert _counts() == before


@pytest.mark.parametrize("text", [LAUGHS, "[" * 5000, 'flag: "FLAG{\\0}"\n'])
def test_try_grader_refuses_hostile_yaml_with_a_message(tmp_path, text):
    from django.core.management import CommandError, call_command

    assignment, answer = tmp_path / "a.yaml", tmp_path / "answer.json"
    assignment.write_text(text)
    answer.write_text('{"flag": "x"}')
    with pytest.raises(CommandError, match="a.yaml"):
        call_command("try_grader", str(assignment), str(answer))


COURSE_YAML = "format: kafaat-course/1\ncode: ok-9\ntitle: T\nlanguage: en\nmodules:\n- title: M\n"


def _assignment_archive(**over) -> bytes:
    choices = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]
    question = {"id": "q1", "type": "single", "prompt": "P", "choices": choices, "answer": ["a"]}
    fields = {"format": "kafaat-assignment/1", "slug": "a", "title": "A", "kind": "quiz", "module": 1,
              "points": 10, "spec": {"questions": [question]}}  # fmt: skip
    fields.update(over)
    return _zip({"course.yaml": COURSE_YAML, "assignments/a.yaml": json.dumps(fields)})


@pytest.mark.parametrize(
    "payload",
    [
        _assignment_archive(attempts_allowed=2**31),
        _assignment_archive(late_policy={"cutoff_days": 2**31}),
        _assignment_archive(position=2**31),
        _assignment_archive(points=10**10),
        _assignment_archive(title="t" * 201),
        _zip(
            {
                "course.yaml": COURSE_YAML,
                "assignments/a.yaml": "format: kafaat-assignment/1\nslug: a\ntitle: A\n"
                "kind: quiz\nmodule: 1\npoints: 1\nspec:\n  questions:\n  - {id: q1, type: numeric, prompt: P, "
                "value: 1, tolerance: .inf}\n",
            }
        ),  # fmt: skip
        _zip(
            {
                "course.yaml": "format: kafaat-course/1\ncode: ok-9\ntitle: T\nlanguage: en\nmodules:\n- title: M\n",
                "assignments/a.yaml": "format: kafaat-assignment/1\nslug: a\ntitle: A\n"
                "kind: quiz\nmodule: 1\npoints: .nan\nspec: {questions: []}\n",
            }
        ),  # fmt: skip
        _zip({"course.yaml": COURSE_YAML.replace("title: T", "title: " + "t" * 201)}),
        _zip({"course.yaml": COURSE_YAML.replace("title: M", "title: " + "m" * 201)}),
    ],
)
def test_course_import_refuses_values_its_columns_cannot_hold(author, world, payload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _counts()
    upload = SimpleUploadedFile("c.zip", payload, content_type="application/zip")
    response = _no_500(author.post(reverse("courses:author-import"), {"archive": upload}))
    assert response.status_code == 400
    assert _counts() == before


def test_the_import_check_accepts_the_bounds_themselves(author, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = _assignment_archive(attempts_allowed=1000, late_policy={"cutoff_days": 3650}, points=99999.99)
    upload = SimpleUploadedFile("c.zip", payload, content_type="application/zip")
    response = _no_500(author.post(reverse("courses:author-import"), {"archive": upload}))
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = CourseImportJob.objects.get()
    response = _no_500(author.post(reverse("courses:author-import-confirm", kwargs={"pk": job.pk})))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done", job.errors
