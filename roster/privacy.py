"""The roster's part of an erasure, collected by the privacy app (RosterConfig.privacy_erase): the
personal fields the roster kept for the erased account (name, username, address) are cleared.
The record itself stays, so a later delta still finds its sourcedId, but it says nothing of them."""

from .models import RosterUser


def erase(*, user, now, reason: str) -> None:
    RosterUser.objects.filter(user=user).update(username="", given_name="", family_name="", email="", updated_at=now)
