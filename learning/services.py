"""Learning: what a learner is told (notifications on the page and by e-mail, as they chose) and
the language they chose. Reads for the dashboard, progress and grade history are in selectors."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from courses.models import Assignment, Enrollment, PublicationStatus
from grading.models import Submission
from grading.selectors import passed_q, score_passes
from kernel.sites import absolute_url
from kernel.tasks import enqueue, enqueue_on_commit

from .messages import notification_subject, notification_text
from .models import Notification, NotificationKind, NotificationSetting

log = logging.getLogger(__name__)


def _channels(*, user_id: int, kind: str) -> tuple[bool, bool]:
    setting = NotificationSetting.objects.filter(user_id=user_id, kind=kind).first()
    return (True, True) if setting is None else (setting.on_page, setting.by_email)


def notification_create(*, user, kind: str, params: dict, url: str = "", dedupe_key: str = "") -> Notification | None:
    """Record a notification for the channels the learner keeps on, and mail it after commit.
    Returns None when the learner switched this kind off, or it was already sent (dedupe_key)."""
    user_id = getattr(user, "pk", user)
    on_page, by_email = _channels(user_id=user_id, kind=kind)
    if not (on_page or by_email):
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user_id=user_id, kind=kind, params=params, url=url, dedupe_key=dedupe_key,
                on_page=on_page, by_email=by_email,
            )  # fmt: skip
    except IntegrityError:
        return None
    if by_email:
        from . import tasks  # learning.tasks imports these services

        enqueue_on_commit(tasks.notification_email, notification.pk)
    return notification


def notifications_create(*, notifications: list[dict]) -> int:
    """`notification_create` for many at once (dicts of its keyword arguments), in a constant
    number of queries: each learner's channels, one insert (already sent: skipped by dedupe_key),
    and the ones to mail go to one e-mail task after commit. Returns how many were asked for on a
    channel the learner keeps on."""
    if not notifications:
        return 0
    settings_of = {
        (s.user_id, s.kind): (s.on_page, s.by_email)
        for s in NotificationSetting.objects.filter(
            user_id__in={n["user"] for n in notifications}, kind__in={n["kind"] for n in notifications}
        )
    }
    rows = []
    for n in notifications:
        on_page, by_email = settings_of.get((n["user"], n["kind"]), (True, True))
        if on_page or by_email:
            rows.append(
                Notification(
                    user_id=n["user"], kind=n["kind"], params=n["params"], url=n.get("url", ""),
                    dedupe_key=n.get("dedupe_key", ""), on_page=on_page, by_email=by_email,
                )
            )  # fmt: skip
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    mailed = [r for r in rows if r.by_email]
    if mailed:
        ids = list(
            Notification.objects.filter(
                user_id__in={r.user_id for r in mailed},
                dedupe_key__in={r.dedupe_key for r in mailed},
                by_email=True,
                emailed_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        if ids:
            from . import tasks  # learning.tasks imports these services

            enqueue_on_commit(tasks.notification_emails, sorted(ids))
    return len(rows)


def notification_emails_send(*, notification_ids: list[int]) -> int:
    """Mail many notifications (`notification_email_send` each, once). One that fails to send is
    handed to its own `learning.notification_email` task, whose retries send it later. Returns how
    many it sent."""
    from . import tasks  # learning.tasks imports these services

    sent = 0
    for pk in notification_ids:
        try:
            sent += notification_email_send(notification_id=pk)
        except Exception:
            log.warning("mailing notification %s failed; its own task retries it", pk, exc_info=True)
            enqueue(tasks.notification_email, pk)
    return sent


def notification_email_send(*, notification_id: int) -> bool:
    """Mail one notification, once, in the learner's language. Returns whether it sent it. The row
    is claimed by a conditional update (no network I/O inside a transaction); a failed send
    releases the claim and raises, so the task's retry sends it later."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True, by_email=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    user = notification.user
    language = user.get_language()
    with translation.override(language):
        context = {
            "user": user,
            "text": notification_text(notification.kind, notification.params),
            "url": absolute_url(notification.url) if notification.url else "",
            "preferences_url": absolute_url(reverse("learning:notifications")),
        }
        body = render_to_string("learning/email/notification.txt", context)
        subject = str(notification_subject(notification.kind))
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


def _grade_notification(submission, *, score: Decimal, max_score: Decimal, graded_at) -> dict:
    """The notification of a grade (notification_create's arguments): graded, or needs another
    attempt (below the pass mark with attempts left)."""
    assignment = submission.assignment
    passed = submission.status == Submission.Status.GRADED and score_passes(
        score=score, max_score=max_score, pass_threshold=assignment.pass_threshold
    )
    attempts_left = assignment.attempts_allowed is None or submission.attempt < assignment.attempts_allowed
    return {
        "user": submission.user_id,
        "kind": NotificationKind.GRADED if passed or not attempts_left else NotificationKind.NEEDS_REVISION,
        "params": {
            "assignment": assignment.title,
            "course": assignment.course.title,
            # Plain decimal strings ("7.50"): learning.messages writes them in the reader's locale.
            "score": str(score),
            "max_score": str(max_score),
        },
        "url": reverse("grading:submission", args=[submission.pk]),
        "dedupe_key": f"submission:{submission.pk}:{int(graded_at.timestamp()) if graded_at else 0}",
    }


def notification_for_submission(*, submission) -> Notification | None:
    """Tell the learner their submission (in hand, as graded) was graded, or that it needs another
    attempt. Call inside the grading transaction."""
    return notification_create(
        **_grade_notification(
            submission, score=submission.score, max_score=submission.max_score, graded_at=submission.graded_at
        )
    )


def notifications_for_grades(*, events) -> int:
    """The notifications of `submission.graded` outbox events (`notification_for_submission`,
    with the score each event reports), in a constant number of queries for the whole batch (a
    deferred handler, see learning.handlers). Returns how many were asked for."""
    subs = Submission.objects.select_related("assignment__course").in_bulk(
        {e.payload.get("submission_id") for e in events} - {None}
    )
    notifications = [
        _grade_notification(
            subs[e.payload["submission_id"]],
            score=Decimal(e.payload["score"]),
            max_score=Decimal(e.payload["max_score"]),
            graded_at=datetime.fromisoformat(e.payload["graded_at"]),
        )
        for e in events
        if e.payload.get("submission_id") in subs
    ]
    return notifications_create(notifications=notifications)


def _course_staff_ids(course) -> list[int]:
    """Who is told about a course's grading troubles: its instructors, else the staff users."""
    ids = list(course.instructors.filter(is_active=True).values_list("pk", flat=True))
    if not ids:
        ids = list(get_user_model().objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True))
    return ids


def notification_for_failed_submission(*, submission) -> int:
    """Tell the course staff that a submission failed to grade, once per submission (its reason
    code is rendered in each reader's language). Call inside the grading transaction. Returns how
    many were told."""
    assignment = submission.assignment
    told = 0
    for user_id in _course_staff_ids(assignment.course):
        told += (
            notification_create(
                user=user_id,
                kind=NotificationKind.SUBMISSION_FAILED,
                params={
                    "assignment": assignment.title,
                    "course": assignment.course.title,
                    "learner": submission.user.get_full_name() or submission.user.email,
                    "reason": submission.failure_code,
                    "attempts": submission.grading_attempts,
                },
                url=reverse("grading:submission", args=[submission.pk]),
                dedupe_key=f"submission-failed:{submission.pk}",
            )
            is not None
        )
    return told


def notification_for_grading_unavailable(*, course, worker: str, problem: str) -> int:
    """Tell the course staff that code grading failed on a worker (submissions wait queued), at
    most once a day per course. Returns how many were told."""
    today = timezone.localdate().isoformat()
    told = 0
    for user_id in _course_staff_ids(course):
        told += (
            notification_create(
                user=user_id,
                kind=NotificationKind.GRADING_UNAVAILABLE,
                params={"course": course.title, "worker": worker, "problem": problem[:500]},
                dedupe_key=f"grading-unavailable:{course.pk}:{today}",
            )
            is not None
        )
    return told


def deadline_reminders_send(*, now=None) -> int:
    """Remind every active learner of each published assignment due within 48 hours that they have
    not passed yet. Once per learner and assignment. Returns how many notifications it created."""
    now = now or timezone.now()
    assignments = Assignment.objects.select_related("course").in_bulk(
        Assignment.objects.filter(
            due_at__gt=now,
            due_at__lte=now + timedelta(hours=48),
            current_version__isnull=False,
            course__status=PublicationStatus.PUBLISHED,
        ).values_list("pk", flat=True)
    )
    by_course: dict[int, list[int]] = {}
    for a in assignments.values():
        by_course.setdefault(a.course_id, []).append(a.pk)
    learners = Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE, completed_at__isnull=True, course_id__in=by_course
    ).values_list("user_id", "course_id")
    passed = set(
        Submission.objects.filter(passed_q(), assignment_id__in=assignments).values_list("user_id", "assignment_id")
    )
    pairs = [(u, a) for u, c in learners for a in by_course[c] if (u, a) not in passed]
    created = 0
    for user_id, assignment_id in pairs:
        a = assignments[assignment_id]
        made = notification_create(
            user=user_id,
            kind=NotificationKind.DEADLINE,
            params={
                "assignment": a.title,
                "course": a.course.title,
                "due_at": a.due_at.isoformat(),  # written in the reader's language when shown
            },
            url=reverse("courses:assignment", args=[a.course.code, a.pk]),
            dedupe_key=f"deadline:{a.pk}:{int(a.due_at.timestamp())}",
        )
        created += made is not None
    return created


@transaction.atomic
def notification_settings_update(*, user, choices: dict[str, tuple[bool, bool]]) -> None:
    """Save the learner's choice of channels (on the page, by e-mail) for each kind."""
    for kind, (on_page, by_email) in choices.items():
        NotificationKind(kind)
        NotificationSetting.objects.update_or_create(
            user=user, kind=kind, defaults={"on_page": on_page, "by_email": by_email}
        )


def notifications_mark_read(*, user) -> int:
    """Mark all of this learner's notifications read."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def user_language_remember(*, user, language: str) -> None:
    """Remember the interface language a signed-in user chose, for their next session and e-mails."""
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        get_user_model().objects.filter(pk=user.pk).update(preferred_language=language)
        user.preferred_language = language
