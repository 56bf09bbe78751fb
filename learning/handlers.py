"""What learning tells people when other apps announce a fact (kernel.events): the learner of a
grade or a certificate, the course staff of grading trouble. The handlers run in the announcing
transaction, the grade's notification in a batch of grades (a deferred handler). Subscribed in
LearningConfig.ready()."""

from django.urls import reverse

from kernel.events import subscribe, subscribe_deferred

from . import services


@subscribe_deferred("submission.graded")
def _tell_the_learners_of_their_grades(*, events, **facts) -> None:
    """In a batch soon after the grades commit (or in the grade's transaction, for a grade given
    by hand): kernel.events' deferred handlers."""
    services.notifications_for_grades(events=events)


@subscribe("submission.failed")
def _tell_the_staff_of_the_failure(*, submission, **facts) -> None:
    services.notification_for_failed_submission(submission=submission)


@subscribe("grading.unavailable")
def _tell_the_staff_grading_is_down(*, course, worker: str, problem: str, **facts) -> None:
    services.notification_for_grading_unavailable(course=course, worker=worker, problem=problem)


@subscribe("certificate.issued")
def _tell_the_learner_of_the_certificate(*, certificate, user, name: str, **facts) -> None:
    services.notification_create(
        user=user,
        kind="certificate",
        params={"name": name},
        url=reverse("certificates:detail", args=[certificate.id]),
        dedupe_key=f"certificate:{certificate.id}",
    )
