"""Claims, leases, the sweeper, the attempt cap, failure and regrade messages as codes, and specs
that no grade could be written from: through the services on PostgreSQL (the worker behaviour
of the same rules is in test_faults.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone, translation

from assessment.kinds import GraderUnavailable
from courses import services as course_services
from grading import leases, services
from grading.models import GradeRecord, RegradeJob, Submission
from kernel.errors import ApplicationError
from learning.models import Notification
from tests.factories import ModuleFactory, UserFactory, make_quiz
from tests.grading.helpers import CODE_SPEC, ESSAY_SPEC, learner_for, make_assignment
from tests.twofactor import login_with_2fa

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}


@pytest.fixture
def sent(monkeypatch):
    """What the services publish (the broker is outside these tests)."""
    out = []
    monkeypatch.setattr(services, "enqueue_grading", lambda *, submission_id, kind: out.append(submission_id) or True)
    return out


def _queued(quiz, learner=None):
    return services.submission_create(user=learner or learner_for(quiz), assignment=quiz, answer=RIGHT)


def _poisoned_quiz():
    """A quiz whose stored spec makes `_scaled` raise decimal.InvalidOperation (1e308 + 1e308 is
    infinite): validation refuses it now, so it is written straight into the version."""
    quiz = make_quiz(points=4)
    version = quiz.current_version
    for q in version.spec["questions"]:
        q["points"] = 1.0e308
    version.save(update_fields=["spec"])
    return quiz


# --- claims and leases -----------------------------------------------------------------------


def test_a_tasks_own_retry_may_reclaim_its_submission_but_a_duplicate_delivery_may_not(db, sent):
    sub = _queued(make_quiz())
    assert services.submission_claim(submission_id=sub.pk, token="task-1/0") is not None
    assert services.submission_claim(submission_id=sub.pk, token="task-1/0") is None  # the same try, twice
    assert services.submission_claim(submission_id=sub.pk, token="task-2/0") is None  # another task
    again = services.submission_claim(submission_id=sub.pk, token="task-1/1")  # its own retry
    assert again is not None and again.claim_token == "task-1/1" and again.grading_attempts == 2


def test_the_write_is_refused_once_the_claim_was_taken_back(db, sent):
    quiz = make_quiz(points=4)
    sub = _queued(quiz)
    services.submission_claim(submission_id=sub.pk, token="dead/0")
    Submission.objects.filter(pk=sub.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.submission_grade(submission_id=sub.pk, token="rescuer/0").status == Submission.Status.GRADED
    assert services.submission_grade(submission_id=sub.pk, token="dead/1") is None
    assert GradeRecord.objects.filter(submission=sub).count() == 1


def test_the_sweeper_takes_back_a_running_submission_only_once_its_lease_expired(db, sent):
    sub = _queued(make_quiz())
    services.submission_claim(submission_id=sub.pk, token="w/0")
    assert services.submissions_sweep_stuck() == 0  # alive: its lease is fresh
    Submission.objects.filter(pk=sub.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.submissions_sweep_stuck() == 1 and sent == [sub.pk]
    sub.refresh_from_db()
    assert sub.status == Submission.Status.QUEUED and sub.claim_token == ""
    assert sub.lease_expires_at > timezone.now()  # sent again only after the resend delay
    assert services.submissions_sweep_stuck() == 0


def test_a_waiting_submission_is_sent_again_less_often_as_it_ages(settings):
    now = timezone.now()
    resend = settings.GRADING_QUEUED_RESEND_SECONDS
    assert leases.resend_at(now=now, since=now) == now + timedelta(seconds=resend)
    assert leases.resend_at(now=now, since=now - timedelta(seconds=400)) == now + timedelta(seconds=200)
    assert leases.resend_at(now=now, since=now - timedelta(days=1)) == now + timedelta(
        seconds=leases.MAX_RESEND_SECONDS
    )


def test_the_heartbeat_renews_the_lease_while_the_grader_runs(transactional_db, settings):
    settings.GRADING_LEASE_SECONDS = 2
    quiz = make_quiz()
    sub = Submission.objects.create(
        user=learner_for(quiz), assignment=quiz, version=quiz.current_version, attempt=1, answer=RIGHT,
        status=Submission.Status.RUNNING, claim_token="w/0", lease_expires_at=timezone.now(),
    )  # fmt: skip
    with leases.heartbeat(Submission, sub.pk, "w/0"):
        first = Submission.objects.get(pk=sub.pk).lease_expires_at
        import time

        time.sleep(1.5)  # one beat (a third of the lease, at least 0.5 s)
    assert Submission.objects.get(pk=sub.pk).lease_expires_at > first


# --- the attempt cap and failures ------------------------------------------------------------


def test_an_error_while_writing_the_grade_queues_it_again_then_fails_it_at_the_cap(db, sent):
    quiz = _poisoned_quiz()
    teacher = UserFactory()
    quiz.course.instructors.add(teacher)
    sub = _queued(quiz)
    for attempt in range(1, settings.GRADING_MAX_ATTEMPTS):
        services.submission_grade(submission_id=sub.pk)
        sub.refresh_from_db()
        assert (sub.status, sub.grading_attempts) == (Submission.Status.QUEUED, attempt)
        assert "InvalidOperation" in sub.staff_log
    services.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == Submission.Status.FAILED
    assert sub.failure_code == Submission.Failure.ATTEMPTS_EXHAUSTED
    assert sub.feedback == {"code": "grading_failed"}
    assert not GradeRecord.objects.filter(submission=sub).exists()
    told = Notification.objects.get(user=teacher, kind="submission_failed")
    assert told.params["reason"] == "attempts_exhausted"


def test_a_submission_taken_past_the_cap_by_dying_workers_fails_instead_of_running_again(db, sent):
    sub = _queued(make_quiz())
    Submission.objects.filter(pk=sub.pk).update(
        status=Submission.Status.RUNNING,
        grading_attempts=settings.GRADING_MAX_ATTEMPTS,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert services.submission_claim(submission_id=sub.pk, token="next/0") is None
    sub.refresh_from_db()
    assert (sub.status, sub.failure_code) == (Submission.Status.FAILED, "attempts_exhausted")


def test_a_grader_error_tells_the_course_staff_once(db, sent):
    quiz = make_quiz()
    teacher = UserFactory(preferred_language="ar")
    quiz.course.instructors.add(teacher)
    sub = _queued(quiz)
    version = quiz.current_version
    version.spec = {"questions": []}
    version.save()
    services.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.failure_code == Submission.Failure.GRADER_ERROR and "no questions" in sub.staff_log
    assert Notification.objects.filter(user=teacher, kind="submission_failed").count() == 1
    from learning.messages import notification_text

    told = Notification.objects.get(user=teacher)
    with translation.override("ar"):
        text = notification_text(told.kind, told.params)
    assert sub.user.get_full_name() in text and "could not be graded" not in text


def test_the_sandbox_failing_is_no_attempt_and_never_a_score(db, sent, monkeypatch):
    code = make_assignment("code", CODE_SPEC, points=3)
    sub = services.submission_create(
        user=learner_for(code), assignment=code, answer={"code": "def solve(a, b):\n    return a + b\n"}
    )
    monkeypatch.setenv("KAFAAT_SANDBOX_BWRAP", "/nonexistent/bwrap")  # the sandbox itself is broken here
    with pytest.raises(GraderUnavailable):
        services.submission_grade(submission_id=sub.pk, token="t/0")
    sub.refresh_from_db()
    assert (sub.status, sub.grading_attempts, sub.score) == (Submission.Status.QUEUED, 0, None)
    assert sub.staff_log.startswith("waiting:") and not sub.grades.exists()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "This submission could not be graded. Staff have been told."),
        ("fr", "Cette soumission n'a pas pu être notée. L'équipe a été prévenue."),
        ("ar", "تعذّر تقييم هذا الإرسال. تمّ إبلاغ الطاقم."),
    ],
)
def test_the_learner_reads_why_a_submission_failed_in_their_language(db, client, sent, language, expected):
    quiz = make_quiz()
    learner = learner_for(quiz)
    sub = _queued(quiz, learner)
    Submission.objects.filter(pk=sub.pk).update(
        status="failed", failure_code="grader_error", feedback={"code": "grading_failed"}
    )
    login_with_2fa(client, learner)
    page = client.get(f"/submissions/{sub.pk}/status/", headers={"accept-language": language})
    assert expected.replace("'", "&#x27;") in page.content.decode()


def test_a_failure_stored_as_text_before_codes_existed_reads_as_written(db, client, sent):
    quiz = make_quiz()
    learner = learner_for(quiz)
    sub = _queued(quiz, learner)
    Submission.objects.filter(pk=sub.pk).update(status="failed", feedback={"message": "Ancien message."})
    login_with_2fa(client, learner)
    assert "Ancien message." in client.get(f"/submissions/{sub.pk}/status/").content.decode()


def test_staff_see_the_failure_reason_on_the_submission_page_and_the_learner_does_not(db, client, sent):
    quiz = make_quiz()
    teacher, learner = UserFactory(), learner_for(quiz)
    quiz.course.instructors.add(teacher)
    sub = _queued(quiz, learner)
    Submission.objects.filter(pk=sub.pk).update(
        status="failed", failure_code="attempts_exhausted", grading_attempts=5, feedback={"code": "grading_failed"}
    )
    login_with_2fa(client, teacher)
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert 'data-failure="attempts_exhausted"' in page and "5 times" in page
    login_with_2fa(client, learner)
    assert "data-failure" not in client.get(f"/submissions/{sub.pk}/").content.decode()


# --- regrades --------------------------------------------------------------------------------


def _regrade_job(quiz, n=2):
    subs = []
    for _ in range(n):
        sub = _queued(quiz)
        services.submission_grade(submission_id=sub.pk)
        subs.append(sub)
    teacher = UserFactory()
    quiz.course.instructors.add(teacher)
    return services.regrade_start(user=teacher, assignment=quiz), subs


def test_a_regrade_item_run_again_after_it_is_done_regrades_nothing(db, sent, django_capture_on_commit_callbacks):
    quiz = make_quiz(points=4)
    with django_capture_on_commit_callbacks(execute=False):
        job, subs = _regrade_job(quiz)
    items = list(job.items.all())
    assert [i.submission_id for i in items] == [s.pk for s in subs]
    for item in items + items:  # every item delivered twice
        services.regrade_item_run(item_id=item.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (RegradeJob.Status.DONE, 2, 2)
    for sub in subs:
        assert sub.grades.filter(source="regrade").count() == 1


def test_a_regrade_reason_is_a_code_read_in_each_language(db, client, sent, django_capture_on_commit_callbacks):
    quiz = make_quiz(points=4)
    with django_capture_on_commit_callbacks(execute=False):
        job, subs = _regrade_job(quiz, n=1)
    services.regrade_item_run(item_id=job.items.get().pk)
    record = subs[0].grades.get(source="regrade")
    assert (record.reason_code, record.reason_params, record.reason) == ("regrade", {"job": job.pk}, "")
    login_with_2fa(client, subs[0].user)
    for language, words in [("fr", "Nouvelle notation n° %s"), ("en", "Regrade #%s"), ("ar", "إعادة التقييم رقم %s")]:
        page = client.get("/learning/grades/", headers={"accept-language": language}).content.decode()
        assert words % job.pk in page, language


def test_regrade_reasons_and_failures_stored_as_text_become_codes(db):
    import importlib

    migration = importlib.import_module("grading.migrations.0004_reason_and_failure_codes")
    quiz = make_quiz()
    sub = Submission.objects.create(
        user=UserFactory(), assignment=quiz, version=quiz.current_version, attempt=1, answer=RIGHT, status="failed",
        feedback={"message": "Cette soumission n'a pas pu être notée. L'équipe a été prévenue."},
    )  # fmt: skip
    fr = GradeRecord.objects.create(
        submission=sub, score=1, max_score=4, source="regrade", reason="Nouvelle notation n° 7"
    )
    ar = GradeRecord.objects.create(
        submission=sub, score=1, max_score=4, source="regrade", reason="إعادة التقييم رقم 8"
    )
    hand = GradeRecord.objects.create(submission=sub, score=1, max_score=4, source="override", reason="Typo")
    migration.forwards(apps, None)
    fr.refresh_from_db(), ar.refresh_from_db(), hand.refresh_from_db(), sub.refresh_from_db()
    assert (fr.reason_code, fr.reason_params) == ("regrade", {"job": 7})
    assert (ar.reason_code, ar.reason_params) == ("regrade", {"job": 8})
    assert (hand.reason_code, hand.reason) == ("", "Typo")
    assert (sub.feedback, sub.failure_code) == ({"code": "grading_failed"}, "grader_error")


# --- specs no grade could be written from ----------------------------------------------------


@pytest.mark.parametrize(
    ("points", "field"),
    [
        (float("nan"), "spec.questions[0].points"),
        (float("inf"), "spec.questions[0].points"),
        (1.0e308, "spec.questions[0].points"),
        (-1, "spec.questions[0].points"),
    ],
)
def test_a_quiz_spec_with_points_no_grade_could_be_written_from_is_refused(db, points, field):
    quiz = make_quiz()
    spec = dict(quiz.current_version.spec)
    spec["questions"] = [dict(q) for q in spec["questions"]]
    spec["questions"][0]["points"] = points
    with pytest.raises(ApplicationError) as exc:
        course_services.assignment_version_create(assignment=quiz, spec=spec)
    assert exc.value.field == field
    assert quiz.versions.count() == 1


def test_non_finite_numbers_anywhere_in_a_spec_are_refused_naming_the_field_in_the_readers_language(db):
    code = make_assignment("code", CODE_SPEC)
    spec = {**CODE_SPEC, "tolerance": {"rel": float("nan"), "abs": 0}}
    with translation.override("fr"), pytest.raises(ApplicationError) as exc:
        course_services.assignment_version_create(assignment=code, spec=spec)
    assert exc.value.field == "spec.tolerance.rel"
    assert "fini" in str(exc.value.message)  # French, not English
    essay = make_assignment("essay", ESSAY_SPEC)
    bad = {**ESSAY_SPEC, "rubric": {"criteria": [dict(ESSAY_SPEC["rubric"]["criteria"][0])]}}
    bad["rubric"]["criteria"][0]["levels"] = [{"id": "l0", "title": "Huge", "points": 1e12}]
    with pytest.raises(ApplicationError) as exc:
        course_services.assignment_version_create(assignment=essay, spec=bad)
    assert exc.value.field == "spec.rubric.criteria[0].levels[0].points"


@pytest.mark.parametrize("points", [Decimal("NaN"), Decimal("Infinity"), Decimal("100000"), Decimal("-1"), "abc"])
def test_assignment_points_the_column_cannot_hold_are_a_field_error(db, points):
    module = ModuleFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(ApplicationError) as exc:
        course_services.assignment_create(
            user=staff, module=module, kind="quiz", spec=make_quiz().current_version.spec,
            settings={"title": "Q", "points": points},
        )  # fmt: skip
    assert exc.value.field == "points"


def test_try_grader_refuses_absurd_points_naming_the_file_and_field(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    assignment = tmp_path / "quiz.yaml"
    assignment.write_text(
        "kind: quiz\nspec:\n  questions:\n    - {id: q1, type: numeric, value: 1, points: 1.0e+308, prompt: x}\n"
    )
    answer = tmp_path / "a.json"
    answer.write_text('{"q1": "1"}')
    with pytest.raises(CommandError) as exc:
        call_command("try_grader", str(assignment), str(answer))
    assert str(assignment) in str(exc.value) and "spec.questions[0].points" in str(exc.value)


def test_only_course_staff_are_offered_the_staff_notification_kinds(db, client):
    quiz = make_quiz()
    learner, teacher = learner_for(quiz), UserFactory()
    quiz.course.instructors.add(teacher)
    login_with_2fa(client, learner)
    assert "submission_failed-page" not in client.get("/learning/notifications/").content.decode()
    login_with_2fa(client, teacher)
    assert "submission_failed-page" in client.get("/learning/notifications/").content.decode()


def test_the_admin_shows_failure_reasons_and_regrade_items(db, client, sent, django_capture_on_commit_callbacks):
    quiz = make_quiz(points=4)
    with django_capture_on_commit_callbacks(execute=False):
        job, subs = _regrade_job(quiz, n=1)
    Submission.objects.filter(pk=subs[0].pk).update(status="failed", failure_code="grader_error")
    staff = UserFactory(is_staff=True, is_superuser=True)
    login_with_2fa(client, staff)
    listing = client.get("/admin/grading/submission/?failure_code__exact=grader_error")
    assert listing.status_code == 200 and "grader_error" in listing.content.decode()
    page = client.get(f"/admin/grading/submission/{subs[0].pk}/change/").content.decode()
    assert "The grader could not grade this submission" in page
    items = client.get("/admin/grading/regradeitem/")
    assert items.status_code == 200 and f"regrade #{job.pk}" in items.content.decode()
