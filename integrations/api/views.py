"""University API v1 views: parse, call one service or selector, render. Authorization is
declared once per view (`required_scopes`) and enforced by integrations.api.auth; data scoping
lives in the selectors and services (always the client's organization)."""

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.tasks import enqueue_on_commit

from .. import selectors, tasks
from ..models import Scope
from ..services import oneroster, oneroster_jobs, sync, webhooks
from ..text import UNSTORABLE_CODE, UNSTORABLE_MESSAGE, is_unstorable
from . import serializers as s
from .auth import ApiClientAuthentication, ClientHasScope, api_client_of
from .parsers import ApiJSONParser
from .throttles import ClientRateThrottle, ClientWriteThrottle

MAX_ID = 2**63 - 1
ERRORS = {
    400: s.ErrorSerializer,
    401: s.ErrorSerializer,
    403: s.ErrorSerializer,
    404: s.ErrorSerializer,
    429: s.ErrorSerializer,
}


class ApiView(APIView):
    authentication_classes = [ApiClientAuthentication]
    permission_classes = [ClientHasScope]
    throttle_classes = [ClientRateThrottle, ClientWriteThrottle]
    parser_classes = [ApiJSONParser]
    required_scopes: list[str] = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # An id past the database's bigint range names nothing: 404, not a database error.
        if any(isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
            raise Http404


# --- Catalogue --------------------------------------------------------------------------------


def _path_out(path) -> dict:
    return {
        "code": path.code,
        "title": path.title,
        "summary": path.summary,
        "track": path.track,
        "courses": selectors.path_course_codes(path),
    }


def _course_out(course) -> dict:
    return {"code": course.code, "title": course.title, "summary": course.summary, "language": course.language}


class PathListView(ApiView):
    required_scopes = [Scope.CATALOG_READ]

    @extend_schema(operation_id="paths_list", responses={200: s.PathOutSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response([_path_out(p) for p in selectors.path_list()])


class PathDetailView(ApiView):
    required_scopes = [Scope.CATALOG_READ]

    @extend_schema(operation_id="paths_retrieve", responses={200: s.PathOutSerializer, **ERRORS})
    def get(self, request, code: str):
        return Response(_path_out(selectors.path_get(code=code)))


class CourseListView(ApiView):
    required_scopes = [Scope.CATALOG_READ]

    @extend_schema(operation_id="courses_list", responses={200: s.CourseOutSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response([_course_out(c) for c in selectors.course_list()])


class CourseDetailView(ApiView):
    required_scopes = [Scope.CATALOG_READ]

    @extend_schema(operation_id="courses_retrieve", responses={200: s.CourseOutSerializer, **ERRORS})
    def get(self, request, code: str):
        return Response(_course_out(selectors.course_get(code=code)))


class AssignmentListView(ApiView):
    required_scopes = [Scope.CATALOG_READ]

    @extend_schema(
        operation_id="courses_assignments_list", responses={200: s.AssignmentOutSerializer(many=True), **ERRORS}
    )
    def get(self, request, code: str):
        course = selectors.course_get(code=code)
        return Response(
            [
                {
                    "id": a.pk,
                    "title": a.title,
                    "kind": a.kind,
                    "module": a.module.title,
                    "points": str(a.points),
                    "pass_threshold": str(a.pass_threshold),
                    "is_required": a.is_required,
                    "due_at": a.due_at.isoformat() if a.due_at else None,
                }
                for a in selectors.assignment_list(course=course)
            ]
        )


# --- Enrollment sync ------------------------------------------------------------------------

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Replaying the same body with the same key returns the first answer and changes nothing; "
    "the same key with another body gets 422.",
)


class EnrollmentSyncView(ApiView):
    required_scopes = [Scope.ENROLLMENTS_WRITE]

    @property
    def max_body_bytes(self) -> int:
        # A full batch at every field's maximum is larger than the site's 5 MiB (README, API).
        return settings.INTEGRATIONS_SYNC_MAX_BODY_BYTES

    @extend_schema(
        operation_id="enrollments_sync",
        request=s.SyncRequestSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: s.SyncResponseSerializer,
            409: s.ErrorSerializer,
            413: s.ErrorSerializer,
            422: s.ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request):
        envelope = s.SyncEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        data = envelope.validated_data
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 255:
            raise sync.SyncRefused(_("The Idempotency-Key is too long."), field="Idempotency-Key")
        if key is not None and is_unstorable(key):
            raise sync.SyncRefused(UNSTORABLE_MESSAGE, field="Idempotency-Key", extra={"code": UNSTORABLE_CODE})
        outcome = sync.enrollment_sync(
            organization=api_client_of(request).organization,
            client=api_client_of(request),
            raw_rows=data["rows"],
            mode=data["mode"],
            dry_run=data["dry_run"],
            force=data["force"],
            endpoint="enrollments/sync",
            idempotency_key=key,
            request_hash=sync.request_fingerprint(request.data) if key else None,
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(outcome.body, status=outcome.status_code, headers=headers)


# --- Incremental reads --------------------------------------------------------------------


def _learner(user) -> dict:
    # A pending link's stand-in shows the address the university gave, like any invitee.
    return {"external_id": user.external_id, "email": user.display_email}


def _iso(value):
    return value.isoformat() if value else None


class _IncrementalView(ApiView):
    selector = None

    def page(self, request, render):
        query = s.IncrementalQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        rows, cursor, more = type(self).selector(
            client=api_client_of(request),
            updated_since=q.get("updated_since"),
            cursor=q.get("cursor"),
            limit=q["limit"],
        )
        return Response({"results": [render(r) for r in rows], "next_cursor": cursor, "has_more": more})


class EnrollmentListView(_IncrementalView):
    required_scopes = [Scope.ENROLLMENTS_READ]
    selector = selectors.enrollment_page

    @extend_schema(
        operation_id="enrollments_list",
        parameters=[s.IncrementalQuerySerializer],
        responses={200: s.EnrollmentPageSerializer, **ERRORS},
    )
    def get(self, request):
        return self.page(
            request,
            lambda e: {
                "learner": _learner(e.user),
                "course_code": e.course.code,
                "status": e.status,
                "source": e.source,
                "completed_at": _iso(e.completed_at),
                "updated_at": _iso(e.updated_at),
            },
        )


class LearnerDetailView(ApiView):
    required_scopes = [Scope.ENROLLMENTS_READ]

    @extend_schema(operation_id="learners_retrieve", responses={200: s.LearnerOutSerializer, **ERRORS})
    def get(self, request, external_id: str):
        learner = selectors.learner_get(client=api_client_of(request), external_id=external_id)
        return Response(
            {
                "external_id": learner.external_id,
                "email": learner.display_email,
                "full_name": learner.full_name,
                "is_active": learner.is_active,
                "enrollments": [
                    {"course_code": e.course.code, "status": e.status, "completed_at": _iso(e.completed_at)}
                    for e in learner.enrollments.all()
                ],
            }
        )


class GradeListView(_IncrementalView):
    required_scopes = [Scope.GRADES_READ]
    selector = selectors.grade_page

    @extend_schema(
        operation_id="grades_list",
        parameters=[s.IncrementalQuerySerializer],
        responses={200: s.GradePageSerializer, **ERRORS},
    )
    def get(self, request):
        return self.page(
            request,
            lambda g: {
                "learner": _learner(g.user),
                "course_code": g.assignment.course.code,
                "assignment_id": g.assignment.id,
                "assignment_title": g.assignment.title,
                "attempt": g.attempt,
                "score": str(g.score),
                "max_score": str(g.max_score),
                "graded_at": _iso(g.graded_at),
                "updated_at": _iso(g.updated_at),
            },
        )


class CompletionListView(_IncrementalView):
    required_scopes = [Scope.GRADES_READ]
    selector = selectors.completion_page

    @extend_schema(
        operation_id="completions_list",
        parameters=[s.IncrementalQuerySerializer],
        responses={200: s.CompletionPageSerializer, **ERRORS},
    )
    def get(self, request):
        return self.page(
            request,
            lambda e: {
                "learner": _learner(e.user),
                "course_code": e.course.code,
                "completed_at": _iso(e.completed_at),
                "updated_at": _iso(e.updated_at),
            },
        )


# --- Webhooks -------------------------------------------------------------------------------


def _webhook_out(sub, *, with_secret=False) -> dict:
    out = {
        "id": sub.pk,
        "url": sub.url,
        "event_types": sub.event_types,
        "is_active": sub.is_active,
        "created_at": _iso(sub.created_at),
    }
    if with_secret:
        out["secret"] = sub.secret
    return out


class WebhookListView(ApiView):
    required_scopes = [Scope.WEBHOOKS_MANAGE]

    @extend_schema(operation_id="webhooks_list", responses={200: s.WebhookOutSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response([_webhook_out(w) for w in selectors.subscription_list(client=api_client_of(request))])

    @extend_schema(
        operation_id="webhooks_create",
        request=s.WebhookInSerializer,
        responses={201: s.WebhookCreatedSerializer, **ERRORS},
    )
    def post(self, request):
        data = s.WebhookInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sub = webhooks.subscription_create(client=api_client_of(request), **data.validated_data)
        return Response(_webhook_out(sub, with_secret=True), status=status.HTTP_201_CREATED)


class WebhookDetailView(ApiView):
    required_scopes = [Scope.WEBHOOKS_MANAGE]

    @extend_schema(operation_id="webhooks_retrieve", responses={200: s.WebhookOutSerializer, **ERRORS})
    def get(self, request, pk: int):
        return Response(_webhook_out(selectors.subscription_get(client=api_client_of(request), subscription_id=pk)))

    @extend_schema(operation_id="webhooks_destroy", responses={204: None, **ERRORS})
    def delete(self, request, pk: int):
        webhooks.subscription_delete(client=api_client_of(request), subscription_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(ApiView):
    required_scopes = [Scope.WEBHOOKS_MANAGE]

    @extend_schema(
        operation_id="webhooks_deliveries_list", responses={200: s.DeliveryOutSerializer(many=True), **ERRORS}
    )
    def get(self, request, pk: int):
        rows = selectors.delivery_list(client=api_client_of(request), subscription_id=pk)
        return Response(s.DeliveryOutSerializer(rows, many=True).data)


class DeliveryReplayView(ApiView):
    required_scopes = [Scope.WEBHOOKS_MANAGE]

    @extend_schema(
        operation_id="webhooks_deliveries_replay",
        request=None,
        responses={202: s.DeliveryOutSerializer, **ERRORS},
    )
    def post(self, request, pk: int, delivery_pk: int):
        delivery = webhooks.delivery_replay(client=api_client_of(request), subscription_id=pk, delivery_id=delivery_pk)
        delivery.refresh_from_db()
        return Response(s.DeliveryOutSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


# --- OneRoster --------------------------------------------------------------------------------


class OneRosterImportView(ApiView):
    required_scopes = [Scope.ENROLLMENTS_WRITE]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="oneroster_import",
        request={"multipart/form-data": s.OneRosterUploadSerializer},
        responses={
            200: s.OneRosterResponseSerializer,
            202: s.OneRosterJobSerializer,
            409: s.ErrorSerializer,
            413: s.ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request):
        data = s.OneRosterUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        client = api_client_of(request)
        if data.validated_data["background"] or upload.size > settings.ONEROSTER_INLINE_MAX_BYTES:
            if upload.size > settings.ONEROSTER_MAX_UPLOAD_BYTES:  # never read a body past the limit
                oneroster.read_package(upload, size=upload.size)
            job = oneroster_jobs.oneroster_job_create(
                client=client,
                data=upload.read(),
                file_name=upload.name or "",
                dry_run=data.validated_data["dry_run"],
                force=data.validated_data["force"],
            )
            enqueue_on_commit(tasks.oneroster_import, job.pk)
            return Response(_job_body(request, job), status=status.HTTP_202_ACCEPTED)
        body = oneroster.oneroster_import(
            organization=client.organization,
            fileobj=upload,
            size=upload.size,
            client=client,
            dry_run=data.validated_data["dry_run"],
            force=data.validated_data["force"],
            endpoint="oneroster/imports",
        )
        return Response(body)


class OneRosterCourseMappingView(ApiView):
    """Map a stored roster course onto one of our courses (what an admin's mapping does): its
    classes' stored students are enrolled, and an import never overrides it."""

    required_scopes = [Scope.ENROLLMENTS_WRITE]

    @extend_schema(
        operation_id="oneroster_course_mapping_set",
        request=s.OneRosterMappingInSerializer,
        responses={200: s.OneRosterMappingOutSerializer, **ERRORS},
    )
    def put(self, request, sourced_id: str):
        client = api_client_of(request)
        # Another university's course answers 404 whatever the body (never a 400 that tells).
        oneroster.roster_course_of(organization=client.organization, sourced_id=sourced_id)
        data = s.OneRosterMappingInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = oneroster.oneroster_course_map(
            organization=client.organization,
            sourced_id=sourced_id,
            course_code=data.validated_data["course_code"] or None,
            client=client,
        )
        return Response(s.OneRosterMappingOutSerializer(body).data)

    @extend_schema(
        operation_id="oneroster_course_mapping_post",
        request=s.OneRosterMappingInSerializer,
        responses={200: s.OneRosterMappingOutSerializer, **ERRORS},
    )
    def post(self, request, sourced_id: str):
        return self.put(request, sourced_id)


def _job_body(request, job, *, offset: int = 0) -> dict:
    page = job.errors[offset : offset + oneroster_jobs.DETAILS_PAGE]
    more = offset + len(page) < len(job.errors)
    return {
        "id": job.pk,
        "url": request.build_absolute_uri(f"/api/v1/oneroster/imports/{job.pk}"),
        "status": job.status,
        "progress": job.progress,
        "result": job.result,
        "errors": page,
        "errors_total": job.errors_total,
        "next_offset": offset + len(page) if more else None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


class OneRosterImportJobView(ApiView):
    """A background OneRoster import: its status, progress, result and (a page of) its errors."""

    required_scopes = [Scope.ENROLLMENTS_WRITE]

    @extend_schema(
        operation_id="oneroster_import_job",
        parameters=[OpenApiParameter("offset", OpenApiTypes.INT, description=_("First error to list"))],
        responses={200: s.OneRosterJobSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        job = oneroster_jobs.oneroster_job_get(client=api_client_of(request), job_id=pk)
        page = s.OneRosterJobPageSerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        offset = page.validated_data["offset"]
        return Response(s.OneRosterJobSerializer(_job_body(request, job, offset=offset)).data)
