"""`require_verified_2fa`: mark a view as needing a two-factor-verified session (for staff,
instructors and university admins). Paths under settings.KAFAAT_2FA_REQUIRED_PATHS get the same
rule from accounts.middleware without any decorator."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login

from .gate import two_factor_redirect


def require_verified_2fa(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        response = two_factor_redirect(request)
        if response is not None:
            return response
        return view(request, *args, **kwargs)

    wrapped.kafaat_requires_2fa = True
    return wrapped
