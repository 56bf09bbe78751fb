"""Rules (late policy, flag throttle, retry, review, regrade) through the services, the pages of
every kind, and try_grader."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grading import services
from grading.models import GradeRecord, RegradeJob, Submission
from kernel.errors import PermissionDenied
from tests.factories import UserFactory, make_quiz
from tests.grading.helpers import CODE_SPEC, ESSAY_SPEC, FLAG_SPEC, learner_for, make_assignment
from tests.twofactor import login_with_2fa

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}


def _grade(sub):
    services.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    return sub


def test_late_submission_loses_the_penalty_per_day_and_says_why(db):
    quiz = make_quiz(
        points=10, due_at=timezone.now() - timedelta(days=1, hours=2), late_penalty_per_day=10, late_cutoff_days=3
    )
    learner = learner_for(quiz)
    sub = _grade(services.submission_create(user=learner, assignment=quiz, answer=RIGHT))
    assert sub.is_late and sub.score == Decimal("8.00")  # 2 days started late, 10% each
    assert sub.feedback["late"] == {"code": "late_penalty", "days": 2, "percent": "20.00", "deduction": "2.00"}


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "Soumis avec 3 jours de retard : 60 % des points retirés (-6,00)."),
        ("en", "Submitted 3 days late: 60% of the points deducted (-6.00)."),
        ("ar", "أُرسل متأخرًا 3 أيام: خُصم 60% من النقاط"),
    ],
)
def test_the_late_penalty_is_stored_as_numbers_and_read_in_each_readers_language(db, client, lang, text):
    quiz = make_quiz(points=10, due_at=timezone.now() - timedelta(days=2, hours=2), late_penalty_per_day=20)
    learner = learner_for(quiz)
    sub = _grade(services.submission_create(user=learner, assignment=quiz, answer=RIGHT))
    assert "message" not in sub.feedback["late"]  # no words stored: a worker's language is nobody's
    client.force_login(learner)
    page = client.get(reverse("grading:submission", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert text in page and "6E+1" not in page
    if lang == "ar":
        assert "Rendu" not in page and "Submitted" not in page


def test_an_older_late_row_with_a_stored_french_message_reads_in_the_readers_language(db, client):
    quiz = make_quiz(points=10)
    learner = learner_for(quiz)
    sub = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer=RIGHT, status="graded",
        score=Decimal("4.00"), max_score=Decimal("10.00"),
        feedback={"late": {"days": 3, "percent": "60.00", "deduction": "6.00",
                           "message": "Rendu 3 jour(s) en retard : 6E+1 % des points retirés (-6.00)."}},
    )  # fmt: skip
    client.force_login(learner)
    page = client.get(reverse("grading:submission", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Submitted 3 days late: 60% of the points deducted (-6.00)." in page
    assert "6E+1" not in page and "Rendu" not in page
    # a row whose numbers do not read keeps its stored words
    sub.feedback = {"late": {"message": "Rendu en retard."}}
    sub.save()
    assert "Rendu en retard." in client.get(reverse("grading:submission", args=[sub.pk])).content.decode()


def test_submission_after_the_hard_cutoff_is_refused(db):
    quiz = make_quiz(due_at=timezone.now() - timedelta(days=5), late_penalty_per_day=10, late_cutoff_days=3)
    with pytest.raises(services.SubmissionRefused, match="closed 3 days"):
        services.submission_create(user=learner_for(quiz), assignment=quiz, answer=RIGHT)


def test_wrong_flags_are_throttled_per_learner_and_assignment(db):
    ctf = make_assignment("flag", FLAG_SPEC)
    learner, other = learner_for(ctf), learner_for(ctf)
    for _ in range(3):
        _grade(services.submission_create(user=learner, assignment=ctf, answer={"flag": "FLAG{nope}"}))
    with pytest.raises(services.SubmissionRefused, match="Too many wrong flags"):
        services.submission_create(user=learner, assignment=ctf, answer={"flag": "FLAG{s3cr3t}"})
    sub = _grade(services.submission_create(user=other, assignment=ctf, answer={"flag": "FLAG{s3cr3t}"}))
    assert sub.score == sub.max_score


def test_a_grader_error_fails_the_submission_and_staff_can_retry_it(db):
    quiz = make_quiz()
    learner = learner_for(quiz)
    sub = services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    version = quiz.current_version
    good = version.spec
    version.spec = {"questions": []}
    version.save()
    sub = _grade(sub)
    assert sub.status == "failed" and "no questions" in sub.staff_log
    with pytest.raises(PermissionDenied):
        services.submission_retry(user=learner, submission=sub)
    version.spec = good
    version.save()
    services.submission_retry(user=UserFactory(is_staff=True), submission=sub)
    assert _grade(sub).status == "graded"


def test_essay_waits_for_review_then_an_instructor_grades_it_with_the_rubric(db, client):
    essay = make_assignment("essay", ESSAY_SPEC, points=10)
    learner = learner_for(essay)
    sub = _grade(services.submission_create(user=learner, assignment=essay, answer={"text": "a b c d"}))
    assert sub.status == "needs_review"
    teacher, stranger = UserFactory(), UserFactory()
    essay.course.instructors.add(teacher)

    login_with_2fa(client, stranger)
    assert client.get(f"/grading/review/{sub.pk}/").status_code == 404
    login_with_2fa(client, teacher)
    assert str(sub.pk) in client.get("/grading/review/").content.decode()
    r = client.post(f"/grading/review/{sub.pk}/", {"c_c1": "l1"})
    assert r.status_code == 400 and "Choose a level" in r.content.decode()
    r = client.post(f"/grading/review/{sub.pk}/", {"c_c1": "l2", "c_c2": "l0", "feedback": "Good argument."})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert sub.status == "graded" and sub.score == Decimal("8.00")  # 4 of 5 rubric points
    assert sub.grades.get().source == GradeRecord.Source.REVIEW
    login_with_2fa(client, learner)
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "Good argument." in page and "Strong" in page


def test_review_queue_has_a_constant_number_of_queries(db, client, django_assert_num_queries):
    essay = make_assignment("essay", ESSAY_SPEC)
    teacher = UserFactory()
    essay.course.instructors.add(teacher)
    login_with_2fa(client, teacher)

    def add(n):
        for _ in range(n):
            _grade(services.submission_create(user=learner_for(essay), assignment=essay, answer={"text": "a b c"}))

    add(1)
    client.get("/grading/review/")
    with CaptureQueriesContext(connection) as small:
        client.get("/grading/review/")
    add(4)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get("/grading/review/").content.decode().count("/grading/review/") >= 5


def test_regrade_of_a_version_keeps_history_and_reports_progress(db, client):
    quiz = make_quiz(points=10)
    subs = [_grade(services.submission_create(user=learner_for(quiz), assignment=quiz, answer=RIGHT)) for _ in range(3)]
    version = quiz.current_version
    version.spec["questions"][0]["answer"] = ["b"]  # the instructor fixes a wrong key
    version.save()
    teacher = UserFactory()
    quiz.course.instructors.add(teacher)
    with pytest.raises(PermissionDenied):
        services.regrade_start(user=subs[0].user, assignment=quiz)
    job = services.regrade_start(user=teacher, assignment=quiz)
    assert job.total == 3
    for item in job.items.all():  # what the background tasks run (worker tests cover the queue)
        services.regrade_item_run(item_id=item.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.percent) == (RegradeJob.Status.DONE, 3, 100)
    for sub in subs:
        sub.refresh_from_db()
        assert sub.score == Decimal("5.00")
        assert list(sub.grades.values_list("source", "score")) == [("auto", Decimal("10")), ("regrade", Decimal("5"))]
    login_with_2fa(client, teacher)
    assert "3 of 3 regraded" in client.get(f"/grading/regrades/{job.pk}/").content.decode()


@pytest.mark.parametrize(
    ("kind", "spec", "field", "value", "expect"),
    [
        ("flag", FLAG_SPEC, "flag", "FLAG{s3cr3t}", 'name="flag"'),
        ("essay", ESSAY_SPEC, "text", "one two three four", "<textarea"),
        ("code", CODE_SPEC, "code", "def solve(a, b):\n    return a + b\n", "def solve(a, b):"),
    ],
)
def test_assignment_page_of_each_kind_submits_and_shows_the_status(db, client, kind, spec, field, value, expect):
    assignment = make_assignment(kind, spec)
    learner = learner_for(assignment)
    login_with_2fa(client, learner)
    url = f"/courses/{assignment.course.code}/assignments/{assignment.pk}/"
    page = client.get(url).content.decode()
    assert expect in page
    assert "s3cr3t" not in page and "reference_solution" not in page and "40, 2" not in page
    r = client.post(url, {field: value})
    assert r.status_code == 302, r.content.decode()[:2000]
    sub = Submission.objects.get(user=learner)
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert 'data-status="queued"' in page and "hx-get" in page
    assert client.get(f"/submissions/{sub.pk}/status/").status_code == 204  # nothing new while queued
    _grade(sub)
    response = client.get(f"/submissions/{sub.pk}/status/")
    status = response.content.decode()
    assert response.status_code == 286 and "hx-get" not in status  # the final content; polling stops
    if kind == "code":
        assert "3 of 3 tests passed" in status and "hidden test" in status and "42" not in status


def test_empty_flag_gets_a_form_error_not_a_500(db, client):
    ctf = make_assignment("flag", FLAG_SPEC)
    login_with_2fa(client, learner_for(ctf))
    r = client.post(f"/courses/{ctf.course.code}/assignments/{ctf.pk}/", {"flag": ""})
    assert r.status_code == 400 and not Submission.objects.exists()


def test_try_grader_prints_the_result_as_json(tmp_path, capsys):
    assignment = tmp_path / "flag.yaml"
    assignment.write_text(
        "format: kafaat-assignment/1\nslug: f\ntitle: F\nkind: flag\npoints: 10\nspec:\n  flag: FLAG{x}\n"
    )
    answer = tmp_path / "answer.json"
    answer.write_text('{"flag": "FLAG{x}"}')
    call_command("try_grader", str(assignment), str(answer))
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 1.0 and out["points"] == 10.0


def test_try_grader_runs_code_in_the_sandbox(tmp_path, capsys):
    import yaml

    assignment = tmp_path / "code.yaml"
    assignment.write_text(yaml.safe_dump({"format": "kafaat-assignment/1", "kind": "code", "spec": CODE_SPEC}))
    answer = tmp_path / "answer.yaml"
    answer.write_text(yaml.safe_dump({"code": "def solve(a, b):\n    return a - b\n"}))
    call_command("try_grader", str(assignment), str(answer))
    out = json.loads(capsys.readouterr().out)
    assert (out["score"], out["max_score"]) == (0, 3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: quiz\nspec: [unclosed\n", "line 3"),
        ("kind: poem\nspec: {}\n", "field kind"),
        ("kind: quiz\nspec:\n  questions:\n    - {id: q1, type: numeric, prompt: x}\n", "spec.questions[0].value"),
    ],
)
def test_try_grader_names_the_file_and_the_line_or_field(tmp_path, content, message):
    assignment = tmp_path / "bad.yaml"
    assignment.write_text(content)
    answer = tmp_path / "a.json"
    answer.write_text("{}")
    with pytest.raises(CommandError) as exc:
        call_command("try_grader", str(assignment), str(answer))
    assert str(assignment) in str(exc.value) and message in str(exc.value)
