"""A university admin's page: their organization's learners, with their enrollments and lessons
done. It reads courses, so it lives here rather than in accounts (which stands below courses);
config.urls mounts it at its old address and name, /accounts/organization/ (`accounts:organization`)."""

from django.http import Http404
from django.shortcuts import render

from accounts.decorators import require_verified_2fa
from accounts.models import AuditEntry
from accounts.selectors import organizations_administered
from accounts.services import audit_record_many

from . import selectors


@require_verified_2fa
def organization_learners(request):
    organizations = organizations_administered(user=request.user)
    if not organizations:
        raise Http404
    learners = selectors.organization_learner_progress(user=request.user, organizations=organizations)
    audit_record_many(actor=request.user, action=AuditEntry.Action.PROGRESS_VIEW, subject_users=learners)
    return render(request, "courses/organization_learners.html", {"organizations": organizations,
                                                                  "learners": learners})  # fmt: skip
