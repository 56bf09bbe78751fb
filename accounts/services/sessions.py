"""A user's logins: recorded so that their owner can list them and end them."""

from django.contrib.sessions.models import Session
from django.db import transaction

from ..models import UserSession


def session_record(*, request, user) -> None:
    """Remember a new login's session key, so its owner can list and end it."""
    session = request.session
    if session.session_key is None:
        session.save()
    meta = getattr(request, "META", {})
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "ip_address": meta.get("REMOTE_ADDR") or None,
            "user_agent": (meta.get("HTTP_USER_AGENT") or "")[:300],
        },
    )


@transaction.atomic
def session_end(*, user, session_key: str) -> bool:
    """End one of the user's sessions (never someone else's)."""
    if not isinstance(session_key, str) or not session_key.isalnum() or len(session_key) > 40:
        return False  # not a session key (and a NUL byte would make PostgreSQL refuse the query)
    row = UserSession.objects.filter(user=user, session_key=session_key).first()
    if row is None:
        return False
    Session.objects.filter(session_key=session_key).delete()
    row.delete()
    return True


@transaction.atomic
def sessions_end_all(*, user, keep_request=None) -> int:
    """End every session of the user; with `keep_request`, all but that request's own, which is
    recorded again under its (possibly new) key. Called on password change and reset."""
    keep = keep_request.session.session_key if keep_request is not None else None
    keys = list(UserSession.objects.filter(user=user).exclude(session_key=keep).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    if keep_request is not None:
        session_record(request=keep_request, user=user)
    return len(keys)
