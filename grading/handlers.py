"""What grading does when a grade is recorded, once it may be done in a batch (kernel.events'
deferred handlers): course completion follows from the grades, so it is refreshed for a batch of
`submission.graded` events at once, in set-based SQL, after the grades commit (or in the grade's
own transaction, for a grade given by hand). Subscribed in GradingConfig.ready()."""

from kernel.events import subscribe_deferred

from . import services


@subscribe_deferred("submission.graded")
def _refresh_completion(*, events, **facts) -> None:
    services.completions_refresh(events=events)
