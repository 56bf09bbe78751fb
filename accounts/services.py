"""Accounts: who people are and how they sign up. Every write to users lives here."""

from django.contrib.auth import get_user_model
from django.db import transaction

User = get_user_model()


@transaction.atomic
def user_create(*, email: str, password: str | None, full_name: str = "", **extra) -> "User":
    """Create a user with a hashed password (None: an unusable one, activated later)."""
    return User.objects.create_user(email=email, password=password, full_name=full_name, **extra)
