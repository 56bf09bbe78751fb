"""The one page of integrations that people (not university systems) see: the link offer a
university's sync e-mailed to the owner of an existing account (services/links.py)."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kernel.errors import ApplicationError

from .services import links


def _problem(request, exc: ApplicationError):
    return render(request, "integrations/link_problem.html", {"problem": exc.message}, status=400)


@require_http_methods(["GET", "POST"])
def link_confirm(request, token: str):
    """GET shows what linking does; POST (with CSRF), by the account's owner logged in, links."""
    try:
        stand_in, account = links.link_token_check(token=token)
    except ApplicationError as exc:
        return _problem(request, exc)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.pk != account.pk:
        return _problem(request, links.LinkWrongAccount(
            _("This link is for another account. Log in to the account that received the e-mail.")))  # fmt: skip
    if request.method == "POST":
        try:
            links.link_confirm(token=token, user=request.user)
        except ApplicationError as exc:
            return _problem(request, exc)
        messages.success(
            request,
            _("Your account is now linked to %(org)s's records.") % {"org": stand_in.organization.name},
        )
        return redirect("learning:dashboard")
    enrollments = stand_in.enrollments.select_related("course").order_by("course__title")
    return render(request, "integrations/link_confirm.html", {"stand_in": stand_in, "enrollments": enrollments})
