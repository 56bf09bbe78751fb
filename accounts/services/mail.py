"""The e-mails accounts (and the apps above it) send to a person, in their language."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def send_email(
    *,
    user,
    template: str,
    context: dict,
    to: str | None = None,
    folder: str = "accounts/email",
    immediate: bool = False,
) -> None:
    """Render and send one e-mail in the user's language, after the surrounding commit, to the
    user's address (or `to`). Templates are `<folder>/<template>{,_subject}.txt`: an app above
    accounts keeps its own e-mails in its own folder (privacy: `privacy/email`).
    `immediate`: send now and let the mail server's refusal raise (OSError, smtplib's errors), for
    a caller that records the acceptance of each message itself (integrations' invitations)."""
    language = user.get_language()
    recipient = to or user.email

    def send():
        with translation.override(language):
            ctx = {"user": user, "site_url": settings.SITE_URL, **context}
            subject = "".join(render_to_string(f"{folder}/{template}_subject.txt", ctx).splitlines())
            body = render_to_string(f"{folder}/{template}.txt", ctx)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])

    if immediate:
        send()
    else:
        transaction.on_commit(send)
