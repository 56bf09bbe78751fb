"""What learning tells people when other apps announce a fact (kernel.events): the learner of a
grade or a certificate, the course staff of grading trouble. The handlers run in the announcing
transaction. Subscribed in LearningConfig.ready()."""

from django.urls import reverse

from kernel.events import subscribe

from . import services


@subscribe("submission.graded")
def _tell_the_learner_of_the_grade(*, submission, **facts) -> None:
    services.notification_for_submission(submission=submission)


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
