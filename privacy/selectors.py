"""Reads for the privacy page, scoped to the acting user. What another app holds (the audit
trail, the consents) comes through that app's own selectors."""

from accounts.selectors import audit_list_for_subject, consent_list

from .models import DataExport, DeletionRequest


def privacy_overview(*, user) -> dict:
    return {
        "exports": list(DataExport.objects.filter(user=user).order_by("-requested_at")[:5]),
        "deletion": DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING).first(),
        "consents": consent_list(user=user),
        "audit": audit_list_for_subject(user=user),
    }


def export_get(*, user, pk: int) -> DataExport | None:
    return DataExport.objects.filter(user=user, pk=pk).first()
