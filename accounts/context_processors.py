"""What the site header needs to know of the user's roles, asked once per page (two queries for a
signed-in user, none for a visitor): whether they teach (staff, or an instructor of a course) and
whether they administer a university (its learners' progress page)."""

from django.utils.functional import SimpleLazyObject

from .models import OrganizationMembership


def _roles(user) -> dict:
    if not user.is_authenticated:
        return {"teaches": False, "org_admin": False, "member": False}
    memberships = set(user.memberships.values_list("role", flat=True))
    return {
        "teaches": user.is_staff or user.taught_courses.exists(),
        "org_admin": OrganizationMembership.Role.ADMIN in memberships,
        "member": bool(memberships),
    }


def roles(request) -> dict:
    user = getattr(request, "user", None)
    return {"roles": SimpleLazyObject(lambda: _roles(user)) if user is not None else {}}
