"""What certificates does when other apps announce a fact (kernel.events). Subscribed in
CertificatesConfig.ready()."""

from kernel.events import subscribe

from .services import certificate_issue_on_commit


@subscribe("course.completed")
def _issue_after_commit(*, user, course, **facts) -> None:
    """A completed course gets its certificate (and the certificates of the paths it finishes)
    from a worker, after the grade's transaction commits."""
    certificate_issue_on_commit(user_id=user.pk, course_id=course.pk)
