import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import AuditEntry
from accounts.privilege import is_platform_staff
from accounts.services import audit_reads
from kernel.errors import ApplicationError

from . import selectors, services
from .pdf import certificate_pdf as render_pdf


def _may_see(user, certificate) -> bool:
    """The one rule of this app: a certificate's owner and staff (in a session that passed
    two-factor) see its private pages; the verification page is public."""
    return user.is_authenticated and (user.pk == certificate.user_id or is_platform_staff(user))


def _own_or_404(request, certificate_id):
    """The certificate for its private pages; staff reading someone's certificate are audited."""
    certificate = selectors.certificate_get(certificate_id=certificate_id)
    if certificate is None or not _may_see(request.user, certificate):
        raise Http404
    audit_reads(actor=request.user, action=AuditEntry.Action.CERTIFICATE_VIEW, subjects=[certificate.user_id],
                obj=certificate)  # fmt: skip
    return certificate


def verify(request, certificate_id: str):
    try:
        certificate = selectors.certificate_get(certificate_id=uuid.UUID(certificate_id))
    except ValueError:
        certificate = None
    status = selectors.verification_status(certificate=certificate)
    context = {"certificate": certificate, "status": status, "certificate_id": certificate_id}
    return render(request, "certificates/verify.html", context, status=404 if certificate is None else 200)


@login_required
def certificate_list(request):
    certificates = selectors.certificate_list_for_user(user=request.user)
    return render(request, "certificates/list.html", {"certificates": certificates})


@login_required
def certificate_detail(request, certificate_id):
    certificate = _own_or_404(request, certificate_id)
    context = {
        "certificate": certificate,
        "status": selectors.verification_status(certificate=certificate),
        "verify_url": services.verify_url(certificate.id),
    }
    return render(request, "certificates/detail.html", context)


@login_required
def certificate_pdf(request, certificate_id):
    certificate = _own_or_404(request, certificate_id)
    response = HttpResponse(
        render_pdf(certificate=certificate, verify_url=services.verify_url(certificate.id)),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="kafaat-certificate-{certificate.id}.pdf"'
    return response


@login_required
def certificate_credential(request, certificate_id):
    certificate = _own_or_404(request, certificate_id)
    response = JsonResponse(certificate.credential, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="kafaat-credential-{certificate.id}.json"'
    return response


@login_required
@require_POST
def certificate_revoke(request, certificate_id):
    certificate = _own_or_404(request, certificate_id)
    try:
        services.certificate_revoke(certificate=certificate, by=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("certificates:detail", certificate_id=certificate.id)


def issuer(request):
    return JsonResponse(selectors.issuer_document(), content_type="application/ld+json")


def issuer_key(request, kid: str):
    key = next((k for k in selectors.issuer_keys() if k.kid == kid), None)
    if key is None:
        raise Http404
    return JsonResponse(selectors.key_document(key), content_type="application/ld+json")
