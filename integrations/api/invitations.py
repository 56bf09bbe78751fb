"""GET /api/v1/invitations: this university's invitations the mail server has not taken yet, so
its system can tell which synced learners were never reached (and a person can resend them from
/accounts/organization/invitations/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from .. import selectors
from ..models import Scope
from .auth import api_client_of
from .views import ERRORS, ApiView

MAX_LIMIT = 1000


class InvitationOutSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    email = serializers.EmailField()
    status = serializers.CharField(help_text="pending or failed")
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class InvitationListOutSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = InvitationOutSerializer(many=True)


class InvitationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "failed"], required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=100)


def _iso(value):
    return value.isoformat() if value else None


class InvitationListView(ApiView):
    required_scopes = [Scope.ENROLLMENTS_READ]

    @extend_schema(
        operation_id="invitations_list",
        description="Invitations not delivered to the mail server yet: counts, then failed first, then pending.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=["pending", "failed"]),
            OpenApiParameter("limit", OpenApiTypes.INT),
        ],
        responses={200: InvitationListOutSerializer, **ERRORS},
    )
    def get(self, request):
        query = InvitationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        client = api_client_of(request)
        unsent = selectors.invites_unsent(
            organization_ids=[client.organization_id],
            limit=query.validated_data["limit"],
            status=query.validated_data.get("status"),
        )
        return Response(
            {
                "pending": unsent["pending"],
                "failed": unsent["failed"],
                "results": [
                    {
                        "external_id": i.user.external_id,
                        "email": i.user.display_email,
                        "status": i.status,
                        "attempts": i.attempts,
                        "next_attempt_at": None if i.failed_at else _iso(i.next_attempt_at),
                        "created_at": _iso(i.created_at),
                    }
                    for i in unsent["rows"]
                ],
            }
        )
