"""What the site header needs to know of the user's roles, asked once per page (two queries for a
signed-in user, none for a visitor): whether they teach (platform staff, or an instructor of a
course) and whether they administer a university (its learners' progress page)."""

from django.utils.functional import SimpleLazyObject

from .models import OrganizationMembership
from .privilege import acts_privileged, is_platform_staff


def user_roles(user, *, in_this_session: bool = True) -> dict:
    """The user's roles; with `in_this_session`, only those this session may use now (a role
    that needs two-factor counts once the session passed it), as the header shows them."""
    if not user.is_authenticated:
        return {"teaches": False, "org_admin": False, "member": False}
    memberships = set(user.memberships.values_list("role", flat=True))
    may = acts_privileged(user) or not in_this_session
    return {
        "teaches": is_platform_staff(user) or user.taught_courses.exists(),
        "org_admin": OrganizationMembership.Role.ADMIN in memberships and may,
        "member": bool(memberships),
    }


def roles(request) -> dict:
    user = getattr(request, "user", None)
    return {"roles": SimpleLazyObject(lambda: user_roles(user)) if user is not None else {}}
