"""Input and output shapes of API v1. Outputs are plain serializers (or dicts) for speed; the
sync's rows are described here for the schema, but validated by the service in bulk."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.settings import api_settings

from ..models import WebhookSubscription
from ..services.sync_rows import MAX_LENGTH, STATUSES, row_check
from ..services.targets import TargetRefused, target_resolve

STATUS_CHOICES = list(STATUSES)


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()
    row = serializers.IntegerField(required=False, help_text=_("0-based index of the batch row"))
    file = serializers.CharField(required=False)
    line = serializers.IntegerField(required=False)
    column = serializers.CharField(required=False)


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = ErrorDetailSerializer(many=True)
    errors_total = serializers.IntegerField(
        required=False, help_text=_("How many errors there are in all; details lists the first ones")
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# One row of a sync batch, as the schema shows it (a comment, not a docstring: that would enter the
# schema). Its checks are the service's (sync_rows.row_check, the one place that checks a row): the
# limits come from there, and validating through this serializer runs them, with the same messages.
class SyncRowSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=MAX_LENGTH["external_id"], help_text=_("The university's id for the learner")
    )
    email = serializers.EmailField(max_length=MAX_LENGTH["email"])
    given_name = serializers.CharField(max_length=MAX_LENGTH["given_name"], required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=MAX_LENGTH["family_name"], required=False, allow_blank=True)
    course_code = serializers.CharField(max_length=MAX_LENGTH["course_code"])
    status = serializers.ChoiceField(choices=STATUS_CHOICES, default="active")

    def to_internal_value(self, data):
        errors: list[dict] = []
        row = row_check(data, index=0, errors=errors)
        if row is None:
            by_field: dict[str, list] = {}
            for e in errors:
                name = e["field"] or api_settings.NON_FIELD_ERRORS_KEY
                by_field.setdefault(name, []).append(serializers.ErrorDetail(e["message"], code=e["code"]))
            raise serializers.ValidationError(by_field)
        return row


class SyncRequestSerializer(serializers.Serializer):
    """Documents the request. Parsing uses SyncEnvelopeSerializer: rows are checked in bulk."""

    mode = serializers.ChoiceField(choices=["upsert", "full"], default="upsert")
    dry_run = serializers.BooleanField(default=False)
    force = serializers.BooleanField(default=False)
    rows = SyncRowSerializer(many=True, max_length=10000)


class RowsField(serializers.ListField):
    """A JSON array, taken as it is: the service checks its rows in bulk (row index, field), so
    ListField's pass over every item (a child field that validates nothing, 10,000 times) is
    skipped. Anything but an array is refused as ListField refuses it."""

    def to_internal_value(self, data):
        if type(data) is not list:
            return super().to_internal_value(data)
        return data


class SyncEnvelopeSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["upsert", "full"], default="upsert")
    dry_run = serializers.BooleanField(default=False)
    force = serializers.BooleanField(default=False)
    # Rows are checked by the service in bulk (row index, field): no per-row serializer here.
    rows = RowsField(allow_empty=True)

    def validate_rows(self, rows):
        if len(rows) > settings.INTEGRATIONS_SYNC_MAX_ROWS:
            raise serializers.ValidationError(
                _("At most %(n)d rows per batch.") % {"n": settings.INTEGRATIONS_SYNC_MAX_ROWS}, code="too_many_rows"
            )
        return rows


class SyncCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    dropped = serializers.IntegerField()


class SyncLearnersSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class SyncResponseSerializer(serializers.Serializer):
    mode = serializers.CharField()
    dry_run = serializers.BooleanField()
    counts = SyncCountsSerializer()
    learners = SyncLearnersSerializer()


class IncrementalQuerySerializer(serializers.Serializer):
    updated_since = serializers.DateTimeField(required=False)
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)


class LearnerRefSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    email = serializers.EmailField()


class EnrollmentOutSerializer(serializers.Serializer):
    learner = LearnerRefSerializer()
    course_code = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    source = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class LearnerEnrollmentSerializer(serializers.Serializer):
    course_code = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    completed_at = serializers.DateTimeField(allow_null=True)


class LearnerOutSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    is_active = serializers.BooleanField(help_text=_("False until the learner activates the account"))
    enrollments = LearnerEnrollmentSerializer(many=True)


class GradeOutSerializer(serializers.Serializer):
    learner = LearnerRefSerializer()
    course_code = serializers.CharField()
    assignment_id = serializers.IntegerField()
    assignment_title = serializers.CharField()
    attempt = serializers.IntegerField()
    score = serializers.DecimalField(max_digits=7, decimal_places=2)
    max_score = serializers.DecimalField(max_digits=7, decimal_places=2)
    graded_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class CompletionOutSerializer(serializers.Serializer):
    learner = LearnerRefSerializer()
    course_code = serializers.CharField()
    completed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def page_serializer(name: str, item):
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "next_cursor": serializers.CharField(allow_null=True),
            "has_more": serializers.BooleanField(),
        },
    )


EnrollmentPageSerializer = page_serializer("EnrollmentPage", EnrollmentOutSerializer)
GradePageSerializer = page_serializer("GradePage", GradeOutSerializer)
CompletionPageSerializer = page_serializer("CompletionPage", CompletionOutSerializer)


class PathStepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    course_code = serializers.CharField()
    gate = serializers.CharField()


class PathOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    track = serializers.CharField()
    courses = PathStepSerializer(many=True)


class CourseOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    language = serializers.CharField()


class AssignmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    module = serializers.CharField()
    points = serializers.DecimalField(max_digits=7, decimal_places=2)
    pass_threshold = serializers.DecimalField(max_digits=4, decimal_places=3)
    is_required = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)


class WebhookInSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookSubscription.EventType.values), min_length=1, max_length=10
    )

    def validate_url(self, url):
        if not url.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError(_("Use an http or https URL."), code="invalid")
        if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
            return url
        # Resolved now for a clear 400; resolved and checked again at every delivery round.
        try:
            target_resolve(url)
        except TargetRefused as exc:
            code = exc.extra["code"]
            messages = {
                "private_host": _("This address is on a private network; use your public receiver's address."),
                "unresolvable_host": _("This host name does not resolve; check it or use your receiver's address."),
            }
            raise serializers.ValidationError(messages.get(code, _("Use an http or https URL.")), code=code) from exc
        return url


class WebhookOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    event_types = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookCreatedSerializer(WebhookOutSerializer):
    secret = serializers.CharField(help_text=_("Shown only now: it signs every delivery"))


class DeliveryOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    event_type = serializers.CharField(source="event.event_type")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class OneRosterSkippedSerializer(serializers.Serializer):
    teachers = serializers.IntegerField()
    other_roles = serializers.IntegerField()


class OneRosterListedSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sourced_ids = serializers.ListField(child=serializers.CharField(), help_text=_("The first 100"))


class OneRosterUnmappedSerializer(serializers.Serializer):
    classes = OneRosterListedSerializer()
    courses = OneRosterListedSerializer()


class OneRosterTeachersSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text=_("Whether this university's teachers become instructors"))
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    accounts_created = serializers.IntegerField()


class OneRosterInfoSerializer(serializers.Serializer):
    version = serializers.CharField()
    files = serializers.DictField(child=serializers.CharField(), help_text=_("absent, bulk or delta, per file"))
    skipped = OneRosterSkippedSerializer()
    roster = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text=_("Per file: created, updated, unchanged, deactivated"),
    )
    unmapped = OneRosterUnmappedSerializer()
    teachers = OneRosterTeachersSerializer()


class OneRosterResponseSerializer(SyncResponseSerializer):
    oneroster = OneRosterInfoSerializer()


class OneRosterUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A OneRoster 1.2 (or 1.1) CSV zip"))
    dry_run = serializers.BooleanField(default=False)
    force = serializers.BooleanField(default=False)
    background = serializers.BooleanField(
        default=False, help_text=_("Import in the background (202 and the job's URL) even if the package is small")
    )


class OneRosterJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    status = serializers.CharField(help_text=_("queued, running, succeeded, failed or refused"))
    progress = serializers.DictField(help_text=_("The current step (queued, reading, storing, done...) and counts"))
    result = serializers.DictField(help_text=_("Once succeeded: the import's answer; once refused: code and message"))
    errors = serializers.ListField(child=serializers.DictField(), help_text=_("A page of the errors (file, line...)"))
    errors_total = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class OneRosterMappingInSerializer(serializers.Serializer):
    course_code = serializers.CharField(
        max_length=64, allow_blank=True, allow_null=True, help_text=_("Our course's code; empty to unmap")
    )


class OneRosterMappingOutSerializer(serializers.Serializer):
    sourced_id = serializers.CharField()
    course_code = serializers.CharField(allow_null=True)
    is_mapped_by_admin = serializers.BooleanField()
    classes_changed = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())


class OneRosterJobPageSerializer(serializers.Serializer):
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
