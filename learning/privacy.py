"""Learning's part of a learner's export and erasure, collected by the privacy app
(LearningConfig.privacy_export and .privacy_erase): the notifications they were sent and their
choices of channel."""

from .models import Notification, NotificationSetting


def export(*, user) -> dict[str, list[dict]]:
    notifications = Notification.objects.filter(user=user).order_by("created_at", "pk")
    settings = NotificationSetting.objects.filter(user=user).order_by("kind")
    return {
        "notifications": [
            {
                "kind": n.kind,
                "params": n.params,
                "url": n.url,
                "on_page": n.on_page,
                "by_email": n.by_email,
                "created_at": n.created_at,
                "read_at": n.read_at,
                "emailed_at": n.emailed_at,
            }
            for n in notifications
        ],
        "notification_settings": [{"kind": s.kind, "on_page": s.on_page, "by_email": s.by_email} for s in settings],
    }


def erase(*, user, now, reason: str) -> None:
    """A notification is a message to this person about their work (a grade, a course, a
    deadline): nothing is kept of them once the account is erased."""
    Notification.objects.filter(user=user).delete()
    NotificationSetting.objects.filter(user=user).delete()
