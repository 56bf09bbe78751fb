"""The learner's assignment page: a flag's hints appear once the learner sent that many wrong
flags, never before; its files are download links; an essay shows every rubric level with its
descriptor, and so does the instructor's review page."""

import pytest
from django.urls import reverse

from courses import services as course_services
from grading.models import Submission
from tests.factories import CourseFactory, ModuleFactory, UserFactory, enroll
from tests.grading.helpers import ESSAY_SPEC, make_assignment
from tests.twofactor import login_with_2fa

FLAG = {
    "flag": "FLAG{svc-backup}",
    "artifacts": ["auth.log"],
    "hints": [
        {"text": "HINT-ONE: read the Accepted lines.", "after_wrong": 2},
        {"text": "HINT-TWO: the account starts with svc.", "after_wrong": 3},
    ],
}


@pytest.fixture
def flag_page(db, client):
    course = CourseFactory(code="hints-1")
    instructor = UserFactory()
    course.instructors.add(instructor)
    ModuleFactory(course=course)
    course_services.course_file_add(user=instructor, course=course, name="auth.log", content=b"sshd\n")
    assignment = make_assignment("flag", FLAG, course=course)
    learner = UserFactory()
    enroll(learner, course)
    login_with_2fa(client, learner)
    url = reverse("courses:assignment", kwargs={"code": course.code, "pk": assignment.pk})
    return {"assignment": assignment, "learner": learner, "url": url, "client": client}


def _wrong(setup, n: int, *, status="graded", score=0):
    for _ in range(n):
        last = Submission.objects.filter(assignment=setup["assignment"]).count()
        Submission.objects.create(
            user=setup["learner"], assignment=setup["assignment"], version=setup["assignment"].current_version,
            attempt=last + 1, answer={"flag": "nope"}, status=status, score=score, max_score=20,
        )  # fmt: skip


def test_hints_unlock_after_their_number_of_wrong_flags_and_not_before(flag_page):
    page = flag_page["client"].get(flag_page["url"]).content.decode()
    assert "HINT-ONE" not in page and "HINT-TWO" not in page
    assert "2 more wrong flags" in page
    _wrong(flag_page, 1)
    page = flag_page["client"].get(flag_page["url"]).content.decode()
    assert "HINT-ONE" not in page and "HINT-TWO" not in page
    _wrong(flag_page, 1)
    page = flag_page["client"].get(flag_page["url"]).content.decode()
    assert "HINT-ONE" in page and "HINT-TWO" not in page
    _wrong(flag_page, 1)
    page = flag_page["client"].get(flag_page["url"]).content.decode()
    assert "HINT-ONE" in page and "HINT-TWO" in page


def test_only_graded_wrong_flags_unlock_hints(flag_page):
    _wrong(flag_page, 2, status="queued", score=None)
    _wrong(flag_page, 1, status="graded", score=20)  # a right flag is not a wrong one
    page = flag_page["client"].get(flag_page["url"]).content.decode()
    assert "HINT-ONE" not in page


def test_another_learner_does_not_see_hints_this_learner_unlocked(flag_page, client):
    _wrong(flag_page, 3)
    other = UserFactory()
    enroll(other, flag_page["assignment"].course)
    login_with_2fa(client, other)
    assert "HINT-ONE" not in client.get(flag_page["url"]).content.decode()


def test_the_flag_page_links_its_files_and_the_learner_downloads_them(flag_page):
    page = flag_page["client"].get(flag_page["url"]).content.decode()
    link = reverse("courses:file", kwargs={"code": "hints-1", "name": "auth.log"})
    assert f'href="{link}"' in page
    assert flag_page["client"].get(link).content == b"sshd\n"


def test_the_essay_page_and_the_review_page_show_every_level_with_its_descriptor(db, client):
    spec = {**ESSAY_SPEC, "rubric": {"criteria": [
        {**ESSAY_SPEC["rubric"]["criteria"][0], "levels": [
            {"id": "l0", "title": "Weak", "points": 0, "description": "DESCRIPTOR-WEAK"},
            {"id": "l1", "title": "Strong", "points": 4, "description": "DESCRIPTOR-STRONG"}]}]},
            "model_answer": "MODEL-ANSWER-FOR-GRADERS"}  # fmt: skip
    essay = make_assignment("essay", spec)
    learner, instructor = UserFactory(), UserFactory()
    essay.course.instructors.add(instructor)
    enroll(learner, essay.course)
    login_with_2fa(client, learner)
    page = client.get(
        reverse("courses:assignment", kwargs={"code": essay.course.code, "pk": essay.pk})
    ).content.decode()
    assert "DESCRIPTOR-WEAK" in page and "DESCRIPTOR-STRONG" in page and "Strong" in page
    assert "MODEL-ANSWER-FOR-GRADERS" not in page  # the learner never sees the model answer
    sub = Submission.objects.create(user=learner, assignment=essay, version=essay.current_version, attempt=1,
                                    answer={"text": "a b c"}, status="needs_review")  # fmt: skip
    login_with_2fa(client, instructor)
    review = client.get(reverse("grading:review", kwargs={"pk": sub.pk})).content.decode()
    assert "DESCRIPTOR-WEAK" in review and "DESCRIPTOR-STRONG" in review
    assert "MODEL-ANSWER-FOR-GRADERS" in review  # the grader does, beside the rubric
