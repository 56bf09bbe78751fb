"""Grades back the OneRoster way: a university lists its roster classes, then pulls a class's
gradebook as a OneRoster 1.2 Gradebook CSV package (roster.gradebook builds it), whole or the
delta after a cursor. Only the calling university's classes exist here (another's is a 404)."""

from urllib.parse import quote

from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from roster import gradebook as roster_gradebook

from ..models import Scope
from .auth import api_client_of
from .views import ERRORS, ApiView

CURSOR_HEADER = "X-OneRoster-Cursor"


class GradebookQuerySerializer(serializers.Serializer):
    """term=<sourcedId> | from=YYYY-MM-DD&to=YYYY-MM-DD, and since=<cursor> for a delta."""

    term = serializers.CharField(required=False, max_length=255, help_text="An academic session's sourcedId.")
    to = serializers.DateField(required=False, help_text="Last day of the window (with `from`).")
    since = serializers.CharField(
        required=False, max_length=500, help_text=f"The cursor of the last export (its {CURSOR_HEADER} header)."
    )

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword: it cannot be a class attribute.
        fields = {"term": fields["term"], "from": serializers.DateField(required=False), **fields}
        fields["from"].help_text = "First day of the window (with `to`)."
        return fields

    def validate(self, data):
        start, end = data.get("from"), data.get("to")
        if data.get("term"):
            if start or end:
                raise serializers.ValidationError({"term": _("Give a term or a date range, not both.")})
            return data
        if not start and not end:
            raise serializers.ValidationError({"term": _("Give a term, or from and to.")})
        if not start:
            raise serializers.ValidationError({"from": _("Give the first day of the range.")})
        if not end:
            raise serializers.ValidationError({"to": _("Give the last day of the range.")})
        if end < start:
            raise serializers.ValidationError({"to": _("The range ends before it starts.")})
        return data


_CLASS_OUT = inline_serializer(
    name="OneRosterClass",
    fields={
        "sourcedId": serializers.CharField(),
        "title": serializers.CharField(),
        "classCode": serializers.CharField(),
        "courseSourcedId": serializers.CharField(),
        "course_code": serializers.CharField(allow_null=True, help_text="The Kafaat course it maps to."),
        "termSourcedIds": serializers.ListField(child=serializers.CharField()),
        "gradebook_url": serializers.CharField(),
    },
)


def _class_out(request, cls) -> dict:
    return {
        "sourcedId": cls.sourced_id,
        "title": cls.title,
        "classCode": cls.class_code,
        "courseSourcedId": cls.roster_course.sourced_id,
        "course_code": cls.course.code if cls.course_id else None,
        "termSourcedIds": [t.sourced_id for t in cls.terms.all()],
        "gradebook_url": request.build_absolute_uri(
            f"/api/v1/oneroster/classes/{quote(cls.sourced_id, safe='')}/gradebook.zip"
        ),
    }


class OneRosterClassListView(ApiView):
    required_scopes = [Scope.GRADES_READ]

    @extend_schema(
        operation_id="oneroster_classes_list",
        tags=["oneroster"],
        responses={
            200: inline_serializer(
                name="OneRosterClassList", fields={"results": serializers.ListField(child=_CLASS_OUT)}
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        classes = roster_gradebook.class_list(organization_id=api_client_of(request).organization_id)
        return Response({"results": [_class_out(request, c) for c in classes]})


class OneRosterGradebookView(ApiView):
    required_scopes = [Scope.GRADES_READ]

    @extend_schema(
        operation_id="oneroster_class_gradebook",
        tags=["oneroster"],
        description=(
            "The class's gradebook as a OneRoster 1.2 Gradebook CSV zip (manifest.csv, categories.csv, "
            "lineItems.csv, results.csv). Without `since`: bulk. With `since`: the delta after that cursor. "
            f"The next cursor is in the {CURSOR_HEADER} response header."
        ),
        parameters=[
            GradebookQuerySerializer,
            OpenApiParameter(
                CURSOR_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description="Pass it as `since` next time to get only what changed.",
            ),
        ],  # fmt: skip
        responses={
            (200, "application/zip"): OpenApiResponse(response=OpenApiTypes.BINARY, description="The package."),
            **ERRORS,
        },
    )
    def get(self, request, sourced_id: str):
        if "\x00" in sourced_id or len(sourced_id) > 255:
            raise Http404
        organization_id = api_client_of(request).organization_id
        cls = roster_gradebook.class_get(organization_id=organization_id, sourced_id=sourced_id)
        query = GradebookQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        if q.get("term"):
            term = roster_gradebook.term_get(organization_id=organization_id, sourced_id=q["term"])
            if term is None:
                raise serializers.ValidationError({"term": _("No academic session has this sourcedId.")})
            window = roster_gradebook.Window(start=term.start_date, end=term.end_date, term=term)
        else:
            window = roster_gradebook.Window(start=q["from"], end=q["to"])
        export = roster_gradebook.gradebook_export(roster_class=cls, window=window, since=q.get("since"))
        response = StreamingHttpResponse(roster_gradebook.zip_chunks(export), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response[CURSOR_HEADER] = export.next_cursor
        response["Access-Control-Expose-Headers"] = CURSOR_HEADER
        return response
