"""The learner's privacy page: their exports, their erasure, who read their data, their consents."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.forms import ConfirmForm

from . import selectors, services


def _privacy_page(request, *, erase_form: ConfirmForm | None = None, status: int = 200):
    context = selectors.privacy_overview(user=request.user)
    context["grace_days"] = settings.KAFAAT_DELETION_GRACE_DAYS
    context["export_hours"] = settings.KAFAAT_EXPORT_TTL_HOURS
    context["erase_form"] = erase_form
    return render(request, "privacy/privacy.html", context, status=status)


@login_required
def privacy(request):
    return _privacy_page(request)


@login_required
@require_POST
def export_request(request):
    services.export_request(user=request.user)
    messages.info(request, _("Your export is being prepared. We will e-mail you when it is ready."))
    return redirect("accounts:privacy")


@login_required
def export_download(request, pk: int):
    export = selectors.export_get(user=request.user, pk=pk)
    path = services.export_file(export=export) if export is not None else None
    if path is None:
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"kafaat-export-{export.pk}.zip")  # noqa: SIM115


@login_required
@require_POST
def deletion_request(request):
    # One click never erases: the box "I understand" is checked here, not only in the browser.
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return _privacy_page(request, erase_form=form, status=400)
    req = services.deletion_request(user=request.user)
    messages.warning(
        request,
        _("Your account will be erased on %(date)s. You can cancel until then.") % {"date": req.effective_at.date()},
    )
    return redirect("accounts:privacy")


@login_required
@require_POST
def deletion_cancel(request):
    if services.deletion_cancel(user=request.user):
        messages.success(request, _("The erasure of your account is cancelled."))
    return redirect("accounts:privacy")
