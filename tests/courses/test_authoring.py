import pytest
from django.urls import reverse

from courses import services
from courses.models import Assignment, Course, Lesson, Module
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, UserFactory, make_quiz
from tests.twofactor import login_with_2fa

ROLES = ["anonymous", "learner", "instructor", "other_instructor", "staff"]
EXPECTED = {"anonymous": 302, "learner": 403, "instructor": 200, "other_instructor": 403, "staff": 200}


@pytest.fixture
def setup(db):
    course = CourseFactory(code="auth-1", status="draft")
    module = ModuleFactory(course=course, position=1)
    lesson = LessonFactory(module=module, position=1)
    quiz = make_quiz(module=module)
    instructor, other, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    course.instructors.add(instructor)
    CourseFactory(code="other-1").instructors.add(other)
    users = {"anonymous": None, "learner": UserFactory(), "instructor": instructor, "other_instructor": other,
             "staff": staff}  # fmt: skip
    return {"course": course, "module": module, "lesson": lesson, "quiz": quiz, "users": users}


def _client(client, user):
    if user is not None:
        login_with_2fa(client, user)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("courses:author-outline", lambda s: {"code": "auth-1"}),
        ("courses:author-course-edit", lambda s: {"code": "auth-1"}),
        ("courses:author-export", lambda s: {"code": "auth-1"}),
        ("courses:author-lesson-edit", lambda s: {"code": "auth-1", "pk": s["lesson"].pk}),
        ("courses:author-lesson-preview", lambda s: {"code": "auth-1", "pk": s["lesson"].pk}),
        ("courses:author-assignment-edit", lambda s: {"code": "auth-1", "pk": s["quiz"].pk}),
        ("courses:author-assignment-preview", lambda s: {"code": "auth-1", "pk": s["quiz"].pk}),
        ("courses:author-lesson-new", lambda s: {"code": "auth-1", "module_pk": s["module"].pk}),
    ],
)
def test_only_this_courses_instructors_and_staff_open_the_authoring_pages(client, setup, role, name, kwargs):
    response = _client(client, setup["users"][role]).get(reverse(name, kwargs=kwargs(setup)))
    assert response.status_code == EXPECTED[role]


@pytest.mark.parametrize("role", ROLES)
def test_only_editors_reorder_modules(client, setup, role):
    second = ModuleFactory(course=setup["course"], position=2)
    url = reverse("courses:author-module-move", kwargs={"code": "auth-1", "pk": second.pk})
    response = _client(client, setup["users"][role]).post(url, {"direction": "up"})
    moved = role in {"instructor", "staff"}
    assert response.status_code == (302 if role == "anonymous" or moved else 403)
    second.refresh_from_db()
    assert second.position == (1 if moved else 2)


@pytest.mark.parametrize("role", ROLES)
def test_only_editors_publish(client, setup, role):
    url = reverse("courses:author-status", kwargs={"code": "auth-1"})
    _client(client, setup["users"][role]).post(url, {"status": "published"})
    setup["course"].refresh_from_db()
    assert (setup["course"].status == "published") == (role in {"instructor", "staff"})


@pytest.mark.parametrize("role,expected", [("learner", 403), ("other_instructor", 200), ("staff", 200)])
def test_authoring_home_is_for_instructors_and_staff(client, setup, role, expected):
    assert _client(client, setup["users"][role]).get(reverse("courses:author-home")).status_code == expected


def test_services_refuse_another_instructor(setup):
    with pytest.raises(services.PermissionDenied):
        services.lesson_update(user=setup["users"]["other_instructor"], lesson=setup["lesson"], title="x",
                               body_markdown="")  # fmt: skip


def test_an_instructor_builds_a_course_in_the_browser(client, db):
    teacher = UserFactory(is_staff=True)
    login_with_2fa(client, teacher)
    r = client.post(reverse("courses:author-course-new"), {"code": "built", "title": "Built", "language": "en"})
    assert r.status_code == 302
    course = Course.objects.get(code="built")
    assert teacher in course.instructors.all() and course.status == "draft"
    for title in ("One", "Two"):
        client.post(reverse("courses:author-module-new", kwargs={"code": "built"}), {"title": title})
    one, two = course.modules.order_by("position")
    client.post(reverse("courses:author-module-move", kwargs={"code": "built", "pk": two.pk}), {"direction": "up"})
    assert list(course.modules.order_by("position").values_list("title", flat=True)) == ["Two", "One"]
    url = reverse("courses:author-lesson-new", kwargs={"code": "built", "module_pk": one.pk})
    client.post(url, {"title": "L1", "body_markdown": "Hello **world**"})
    client.post(url, {"title": "L2", "body_markdown": "<script>x()</script>Bye"})
    l1, l2 = Lesson.objects.filter(module=one).order_by("position")
    assert "<strong>world</strong>" in l1.body_html and "<script>" not in l2.body_html
    client.post(reverse("courses:author-lesson-move", kwargs={"code": "built", "pk": l2.pk}), {"direction": "up"})
    assert list(one.lessons.order_by("position").values_list("title", flat=True)) == ["L2", "L1"]

    new_quiz = reverse("courses:author-assignment-new", kwargs={"code": "built", "module_pk": one.pk})
    base = {"title": "Q", "kind": "quiz", "points": "10", "pass_percent": "50", "is_required": "on",
            "late_penalty_per_day": "0", "prompt_markdown": "Answer."}  # fmt: skip
    bad = "questions:\n- id: q1\n  prompt: 2+2\n  choices: [{id: a, text: '4'}, {id: b, text: '5'}]\n  answer: [c]\n"
    r = client.post(new_quiz, {**base, "spec_text": bad})
    assert r.status_code == 400 and "questions[0].answer" in r.content.decode()
    r = client.post(new_quiz, {**base, "spec_text": "questions: [\n"})
    assert r.status_code == 400 and "Line" in r.content.decode()
    assert not Assignment.objects.filter(course=course).exists()
    good = bad.replace("answer: [c]", "answer: [a]")
    assert client.post(new_quiz, {**base, "spec_text": good}).status_code == 302
    quiz = Assignment.objects.get(course=course)
    assert quiz.slug == "q" and quiz.current_version.number == 1

    assert client.post(reverse("courses:author-status", kwargs={"code": "built"}), {"status": "published"})
    course.refresh_from_db()
    assert course.status == "published"
    edit = reverse("courses:author-assignment-edit", kwargs={"code": "built", "pk": quiz.pk})
    assert client.post(edit, {**base, "spec_text": good.replace("2+2", "2 + 2")}).status_code == 302
    quiz.refresh_from_db()
    assert quiz.current_version.number == 2 and quiz.versions.count() == 2

    export = client.get(reverse("courses:author-export", kwargs={"code": "built"}))
    assert export.status_code == 200 and export["Content-Type"] == "application/zip"
    data = export.content
    login_with_2fa(client, UserFactory(is_staff=True))
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post(reverse("courses:author-import"), {"archive": SimpleUploadedFile("c.zip", data)})
    assert r.status_code == 400 and "already exists" in r.content.decode()
    r = client.post(reverse("courses:author-import"), {"archive": SimpleUploadedFile("c.zip", b"junk")})
    assert r.status_code == 400 and "c.zip is not an accepted file type" in r.content.decode()  # UploadValidator


def test_editing_a_draft_assignment_nobody_answered_corrects_it_in_place(setup):
    quiz = setup["quiz"]
    spec = {**quiz.current_version.spec}
    spec["questions"] = [dict(spec["questions"][0], prompt="Changed")]
    services.assignment_update(user=setup["users"]["instructor"], assignment=quiz, spec=spec,
                               settings={"title": "Quiz"})  # fmt: skip
    quiz.refresh_from_db()
    assert quiz.versions.count() == 1 and quiz.current_version.spec["questions"][0]["prompt"] == "Changed"


def test_publishing_needs_a_module(db):
    teacher = UserFactory(is_staff=True)
    course = services.course_create(user=teacher, code="empty", title="Empty", language="fr")
    with pytest.raises(services.ApplicationError, match="module"):
        services.course_status_set(user=teacher, course=course, status="published")
    assert Module.objects.count() == 0
