"""What analytics does when another app announces a fact (kernel.events). Subscribed in
AnalyticsConfig.ready()."""

from kernel.events import subscribe

from .models import GradeOverride


@subscribe("learner.linked")
def overrides_follow_the_learner(*, stand_in, account, **facts) -> None:
    """A stand-in is linked to its owner's account (integrations' link offer), and is about to be
    deleted: the grade overrides an instructor recorded about it are the learner's, and would go
    with it (their foreign key cascades)."""
    GradeOverride.objects.filter(user=stand_in).update(user=account)
