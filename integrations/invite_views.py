"""A university admin's invitations page (/accounts/organization/invitations/): the invitations
of their organizations that the mail server has not taken yet, pending (a retry is due) or failed
(given up after INVITE_MAX_ATTEMPTS refusals), with a button to send them again."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.decorators import require_verified_2fa
from accounts.selectors import organizations_administered

from . import selectors
from .services import invites


@require_verified_2fa
@require_http_methods(["GET", "POST"])
def organization_invitations(request):
    organizations = organizations_administered(user=request.user)
    if not organizations:
        raise Http404
    organization_ids = [o.pk for o in organizations]
    if request.method == "POST":
        # "Send again" on one row posts its id; "send all" posts none. Anything else names nothing.
        posted = request.POST.getlist("invite")
        invite_ids = [int(v) for v in posted if v.isascii() and v.isdigit()] if posted else None
        n = invites.invites_resend(organization_ids=organization_ids, invite_ids=invite_ids)
        messages.success(
            request,
            ngettext(
                "%(n)d invitation will be sent again within a minute.",
                "%(n)d invitations will be sent again within a minute.",
                n,
            )
            % {"n": n},
        )
        return redirect("organization-invitations")
    unsent = selectors.invites_unsent(organization_ids=organization_ids)
    return render(request, "integrations/organization_invitations.html", {"organizations": organizations, **unsent})
