"""What the site header needs to know of the user's roles, asked once per page (one query for a
signed-in user, none for a visitor): whether they teach (platform staff, or an instructor of a
course) and whether they administer a university (its learners' progress page)."""

from django.contrib.auth import get_user_model
from django.db.models import Exists
from django.utils.functional import SimpleLazyObject

from .models import OrganizationMembership
from .privilege import acts_privileged, is_platform_staff


def user_roles(user, *, in_this_session: bool = True) -> dict:
    """The user's roles, in one query; with `in_this_session`, only those this session may use now
    (a role that needs two-factor counts once the session passed it), as the header shows them."""
    if not user.is_authenticated:
        return {"teaches": False, "org_admin": False, "member": False}
    memberships = OrganizationMembership.objects.filter(user_id=user.pk)
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            _teaches=Exists(user.taught_courses.through.objects.filter(user_id=user.pk)),
            _admin=Exists(memberships.filter(role=OrganizationMembership.Role.ADMIN)),
            _member=Exists(memberships),
        )
        .values("_teaches", "_admin", "_member")
        .first()
    ) or {"_teaches": False, "_admin": False, "_member": False}
    may = acts_privileged(user) or not in_this_session
    return {
        "teaches": is_platform_staff(user) or row["_teaches"],
        "org_admin": row["_admin"] and may,
        "member": row["_member"],
    }


def roles(request) -> dict:
    user = getattr(request, "user", None)
    return {"roles": SimpleLazyObject(lambda: user_roles(user)) if user is not None else {}}
