"""Whether a user may act privileged: the one rule every permission check applies.

Staff, superusers, instructors of any course and university admins must use two-factor
(`user_requires_2fa`). A session of such a user that has not passed two-factor gets no privileged
permission anywhere: it is a learner's session until verified.

- `PrivilegeMiddleware` (right after django-otp's OTPMiddleware) gives each request a user whose
  privileged face is switched off while the session is not verified: `is_staff`, `is_superuser`
  read False and `has_perm` / `has_module_perms` answer False. The row itself is never changed,
  and saving that user writes the real values.
- `acts_privileged(user)` is what every role check (courses.permissions, accounts' university-admin
  role, analytics scopes, certificates, grading) asks before granting a privilege: False for a
  request's user whose session has not passed two-factor; True for a user object that did not come
  from a request (a task, a command, the shell: there is no session to verify).
- `is_platform_staff(user)` is the one reading of staff status outside this module
  (tests/security/test_privilege.py fails on a new `user.is_staff` elsewhere).

The two-factor *redirect* on the gated prefixes (accounts.middleware) is the friendly path to
verification; this rule is what holds everywhere else."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.functional import SimpleLazyObject, empty

from .models import OrganizationMembership


def user_requires_2fa(user) -> bool:
    """Staff, superusers, instructors of any course and university admins must use two-factor.
    One query for users who are neither staff nor superuser, cached on the user object."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_kafaat_requires_2fa", None)
    if cached is None:
        cached = (
            _real(user, "is_staff")
            or _real(user, "is_superuser")
            or get_user_model()
            .objects.filter(pk=user.pk)
            .filter(Q(taught_courses__isnull=False) | Q(memberships__role=OrganizationMembership.Role.ADMIN))
            .exists()
        )
        user._kafaat_requires_2fa = cached
    return cached


def _real(user, name: str):
    """An attribute of the user row itself, past the request's unprivileged face."""
    if isinstance(user, SessionUser):
        return getattr(user.kafaat_real_user, name)
    return getattr(user, name)


def session_is_verified(user) -> bool:
    """Whether this request's session passed two-factor (django-otp's `is_verified`). A user object
    that did not come through a request has no session: it counts as verified."""
    check = getattr(user, "is_verified", None)
    return True if check is None else bool(check())


def acts_privileged(user) -> bool:
    """Whether `user` may use the privileges its roles give it right now. Costs no query: callers
    ask it once they found a privilege (every such role requires two-factor)."""
    return session_is_verified(user)


def is_platform_staff(user) -> bool:
    """Platform staff (`is_staff`), in a session that passed two-factor."""
    return bool(user.is_authenticated and user.is_active and _real(user, "is_staff") and acts_privileged(user))


class SessionUser(SimpleLazyObject):
    """request.user: the real user (same row, same instance: `save()` writes the real values),
    whose privileged face is switched off while the session has not passed two-factor."""

    @property
    def kafaat_real_user(self):
        if self._wrapped is empty:
            self._setup()
        return self._wrapped

    def _privileged(self) -> bool:
        return session_is_verified(self.kafaat_real_user)

    @property
    def is_staff(self):
        return self.kafaat_real_user.is_staff and self._privileged()

    @property
    def is_superuser(self):
        return self.kafaat_real_user.is_superuser and self._privileged()

    def _perm_allowed(self) -> bool:
        # A permission holder who is none of the roles that need two-factor keeps their permissions.
        user = self.kafaat_real_user
        return self._privileged() or not user_requires_2fa(user)

    def has_perm(self, perm, obj=None):
        return self._perm_allowed() and self.kafaat_real_user.has_perm(perm, obj)

    def has_perms(self, perm_list, obj=None):
        return self._perm_allowed() and self.kafaat_real_user.has_perms(perm_list, obj)

    def has_module_perms(self, app_label):
        return self._perm_allowed() and self.kafaat_real_user.has_module_perms(app_label)

    def get_all_permissions(self, obj=None):
        return self.kafaat_real_user.get_all_permissions(obj) if self._perm_allowed() else set()

    def get_user_permissions(self, obj=None):
        return self.kafaat_real_user.get_user_permissions(obj) if self._perm_allowed() else set()

    def get_group_permissions(self, obj=None):
        return self.kafaat_real_user.get_group_permissions(obj) if self._perm_allowed() else set()


class PrivilegeMiddleware:
    """Installs `SessionUser` as request.user. Lazy: a request that never looks at its user costs
    nothing, and one that does costs what it did (django-otp's device lookup)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None:
            request.user = SessionUser(lambda: _unwrap(user))
        return self.get_response(request)


def _unwrap(user):
    """The model instance behind django's and django-otp's lazy objects."""
    while isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user
