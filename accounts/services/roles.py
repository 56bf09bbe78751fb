"""Roles: who must use two-factor, and the organization roles a user holds."""

from django.db import transaction

from .. import privilege
from ..models import OrganizationMembership


def user_requires_2fa(*, user) -> bool:
    """Staff, superusers, instructors of any course and university admins must use two-factor
    (the rule lives in accounts.privilege)."""
    return privilege.user_requires_2fa(user)


@transaction.atomic
def membership_grant(*, user, organization, role: str = OrganizationMembership.Role.ADMIN):
    membership, _created = OrganizationMembership.objects.get_or_create(user=user, organization=organization, role=role)
    return membership
