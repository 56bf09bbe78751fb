from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import ApplicationError

from . import context_processors, selectors, services
from .decorators import require_verified_2fa
from .forms import ActivationForm, ConsentForm, EmailAuthenticationForm, ResendVerificationForm, SignupForm, TokenForm
from .gate import privacy_state_refresh, two_factor_redirect
from .privilege import session_is_verified


def _next_url(request, default: str = "courses:catalogue") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(default)


def _language() -> str:
    return (get_language() or settings.LANGUAGE_CODE)[:2]


# --- Sign-up, login, logout -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("courses:catalogue")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same page whether or not the address already has an account; nobody is logged in.
        services.user_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            full_name=form.cleaned_data["full_name"],
            language=_language(),
        )
        return render(request, "accounts/signup_done.html", {"form": ResendVerificationForm()})
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        """Where each person starts when no page asked for the login: who teaches, on their
        teaching page (gradebooks, reviews, authoring); a university admin, on their university's
        learners; a learner, on their dashboard."""
        roles = context_processors.user_roles(self.request.user, in_this_session=False)
        if roles["teaches"]:
            return reverse("analytics:index")
        if roles["org_admin"]:
            return reverse("accounts:organization")
        return super().get_default_redirect_url()


logout = auth_views.LogoutView.as_view()


def locked_out(request, response=None, credentials=None):
    """django-axes' lock-out page: why, for how long, and who can lift it."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else None
    if request.user.is_authenticated:
        auth_logout(request)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


# --- E-mail verification and invitations ----------------------------------------------------


@require_http_methods(["GET"])
def verify(request, token: str):
    try:
        services.email_verify(token=token)
    except ApplicationError as exc:
        form = ResendVerificationForm(initial={"email": request.user.email if request.user.is_authenticated else ""})
        return render(request, "accounts/link_problem.html", {"problem": exc.message, "kind": "verify", "form": form},
                      status=400)  # fmt: skip
    messages.success(request, _("Your e-mail address is confirmed."))
    return redirect("accounts:me" if request.user.is_authenticated else "accounts:login")


def _email_link_problem(request, exc: ApplicationError):
    return render(request, "accounts/link_problem.html", {"problem": exc.message, "kind": "email"}, status=400)


@require_http_methods(["GET", "POST"])
def email_change_confirm(request, token: str):
    """The link sent to a new address: its account's owner, logged in, confirms it (POST)."""
    try:
        change = services.email_change_check(token=token)
    except ApplicationError as exc:
        return _email_link_problem(request, exc)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    response = two_factor_redirect(request)  # privileged accounts confirm from a verified session
    if response is not None:
        return response
    if change.user_id != request.user.pk:
        return _email_link_problem(request, services.LinkWrongAccount(
            _("This link is for another account. Log in to the account whose address is changing.")))  # fmt: skip
    if request.method == "POST":
        try:
            services.email_change_confirm(token=token, user=request.user)
        except ApplicationError as exc:
            return _email_link_problem(request, exc)
        messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": change.new_email})
        return redirect("accounts:me")
    return render(request, "accounts/email_change_confirm.html", {"change": change})


@require_http_methods(["GET", "POST"])
def email_change_cancel(request, token: str):
    """The link sent to the old address: cancel the change (no login needed: this mailbox is the
    account's until the change is confirmed)."""
    try:
        change = services.email_change_check(token=token, purpose="email_change_cancel")
    except ApplicationError as exc:
        return _email_link_problem(request, exc)
    if request.method == "POST":
        try:
            services.email_change_cancel(token=token)
        except ApplicationError as exc:  # confirmed or replaced since the page was shown
            return _email_link_problem(request, exc)
        messages.success(request, _("The change of address is cancelled. Your address stays %(email)s.")
                         % {"email": change.old_email})  # fmt: skip
        return redirect("accounts:me" if request.user.is_authenticated else "accounts:login")
    return render(request, "accounts/email_change_cancel.html", {"change": change})


@require_POST
def verify_resend(request):
    """Send a new verification link. The answer is the same whether the address exists or not."""
    form = ResendVerificationForm(request.POST)
    if form.is_valid():
        from django.contrib.auth import get_user_model

        user = (
            get_user_model()
            .objects.filter(
                email__iexact=form.cleaned_data["email"], email_verified_at__isnull=True, erased_at__isnull=True
            )
            .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)  # invitees activate by their invitation
            .first()
        )
        if user is not None:
            services.email_verification_send(user=user)
        messages.info(request, _("If this address has an unconfirmed account, a new link is on its way."))
        return redirect("accounts:login" if not request.user.is_authenticated else "accounts:me")
    return render(request, "accounts/link_problem.html", {"problem": "", "kind": "verify", "form": form}, status=400)


@require_http_methods(["GET", "POST"])
def activate(request, token: str):
    try:
        user = services.link_token_check(token=token, purpose="invite")
    except ApplicationError as exc:
        return render(
            request, "accounts/link_problem.html",
            {"problem": exc.message, "kind": "invite", "token": token,
             "can_resend": isinstance(exc, services.LinkExpired)}, status=400,
        )  # fmt: skip
    form = ActivationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token, password=form.cleaned_data["password1"], language=_language()
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your account is active. Welcome to Kafaat!"))
            return redirect("courses:catalogue")
    return render(request, "accounts/activate.html", {"form": form, "invited": user},
                  status=400 if form.errors else 200)  # fmt: skip


@require_POST
def activate_resend(request, token: str):
    services.invitation_resend_for_token(token=token)
    messages.info(request, _("If this invitation can still be used, a new link is on its way to its address."))
    return redirect("accounts:login")


# --- Passwords (Django's views, our templates) -----------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # A new password ends every session: whoever knew the old one is out.
        services.sessions_end_all(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:me")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session (update_session_auth_hash)
        ended = services.sessions_end_all(user=form.user, keep_request=self.request)
        message = ngettext(
            "Password changed. %(n)d other session was ended.",
            "Password changed. %(n)d other sessions were ended.",
            ended,
        )
        messages.success(self.request, message % {"n": ended})
        return response


# --- The account page and sessions ----------------------------------------------------------


@login_required
def me(request):
    requires_2fa = services.user_requires_2fa(user=request.user)
    return render(
        request,
        "accounts/me.html",
        {
            "is_university_admin": selectors.is_university_admin(user=request.user),
            "requires_2fa": requires_2fa,
            "needs_verification": requires_2fa and not session_is_verified(request.user),
            "has_totp": services.user_has_totp(user=request.user),
        },
    )


@login_required
def sessions(request):
    rows = selectors.session_list(user=request.user, current_key=request.session.session_key)
    return render(request, "accounts/sessions.html", {"sessions": rows})


@login_required
@require_POST
def session_end(request):
    key = request.POST.get("session_key", "")
    if key == request.session.session_key:
        auth_logout(request)
        return redirect("accounts:login")
    if services.session_end(user=request.user, session_key=key):
        messages.success(request, _("That session was ended."))
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_end_others(request):
    n = services.sessions_end_all(user=request.user, keep_request=request)
    messages.success(
        request, ngettext("%(n)d other session was ended.", "%(n)d other sessions were ended.", n) % {"n": n}
    )
    return redirect("accounts:sessions")


# --- Two-factor -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    if services.user_has_totp(user=request.user) and not request.user.is_verified():
        # Replacing a device needs the current one first: a password alone is not enough.
        return redirect(f"{reverse('accounts:otp-verify')}?next={reverse('accounts:otp-setup')}")
    device = services.totp_device_start(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_device_confirm(request=request, user=request.user, token=form.cleaned_data["token"])
        except ApplicationError as exc:
            if getattr(request, "axes_locked_out", False):
                return locked_out(request)
            form.add_error("token", exc.message)
        else:
            return render(request, "accounts/otp_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    context = {
        "form": form,
        # Our own SVG (a path, no script, no style attribute), inlined so nothing is fetched.
        "qr_svg": mark_safe(image.to_string(encoding="unicode")),  # noqa: S308
        "secret": _b32(device.bin_key),
        "next": request.GET.get("next") or request.POST.get("next", ""),
    }
    return render(request, "accounts/otp_setup.html", context, status=400 if form.errors else 200)


def _b32(key: bytes) -> str:
    from base64 import b32encode

    raw = b32encode(key).decode()
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if not services.user_has_totp(user=request.user):
        return redirect(f"{reverse('accounts:otp-setup')}?{urlencode({'next': request.GET.get('next', '')})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from axes.handlers.proxy import AxesProxyHandler

        credentials = {"username": request.user.email}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return locked_out(request)
        if services.otp_verify(request=request, user=request.user, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        if not AxesProxyHandler.is_allowed(request, credentials):
            return locked_out(request)
        form.add_error("token", _("This code is not right. Use the code your app shows now, or a recovery code."))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": request.GET.get("next", "")},
                  status=400 if form.errors else 200)  # fmt: skip


@require_verified_2fa
@require_POST
def recovery_codes_regenerate(request):
    codes = services.recovery_codes_regenerate(user=request.user)
    return render(request, "accounts/otp_recovery_codes.html", {"codes": codes, "next": reverse("accounts:me")})


# --- Consent and the privacy notice (export and erasure: the privacy app) --------------------


def privacy_notice(request):
    return render(request, "accounts/privacy_notice.html", _notice_context())


def _notice_context() -> dict:
    version = settings.KAFAAT_PRIVACY_NOTICE_VERSION
    return {"version": version, "notice_template": f"accounts/privacy/v{version}/{_language()}.html"}


@login_required
@require_http_methods(["GET", "POST"])
def consent(request):
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.consent_record(user=request.user, language=_language())
        privacy_state_refresh(request, request.user)
        return redirect(_next_url(request))
    return render(request, "accounts/consent.html", {"form": form, "next": request.GET.get("next", ""),
                                                     **_notice_context()})  # fmt: skip
