from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kernel.models import OutboxEvent

from .models import (
    ApiClient,
    AuditEntry,
    LearnerInvite,
    LtiDeployment,
    LtiPlatform,
    LtiScoreDelivery,
    OneRosterImportJob,
    RosterPolicy,
    WebhookDelivery,
    WebhookSubscription,
)
from .services import clients, invites


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["pk", "event_type", "organization", "user", "created_at", "dispatched_at"]
    list_filter = ["event_type"]
    raw_id_fields = ["user", "organization"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "scopes", "is_active", "created_at", "secret_rotated_at", "revoked_at"]
    list_filter = ["is_active", "organization"]
    readonly_fields = ["application", "is_active", "created_at", "secret_rotated_at", "revoked_at"]
    actions = ["rotate_secret", "revoke"]

    def has_add_permission(self, request):
        return False  # created with `manage.py create_api_client`, which prints the secret once

    @admin.action(description=_("Rotate the secret (shown once) and revoke its tokens"))
    def rotate_secret(self, request, queryset):
        for client in queryset.filter(is_active=True):
            creds = clients.api_client_rotate_secret(client=client)
            self.message_user(
                request,
                _("New secret for %(name)s (client id %(id)s): %(secret)s — copy it now, it will not be shown again.")
                % {"name": client.name, "id": creds.client_id, "secret": creds.client_secret},
                messages.WARNING,
            )

    @admin.action(description=_("Revoke: tokens deleted, the client can no longer authenticate"))
    def revoke(self, request, queryset):
        n = 0
        for client in queryset.filter(is_active=True):
            clients.api_client_revoke(client=client)
            n += 1
        self.message_user(request, ngettext("%(n)d client revoked.", "%(n)d clients revoked.", n) % {"n": n})


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "event_types", "is_active", "created_at"]
    list_filter = ["is_active", "organization"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "subscription", "event", "status", "attempts", "next_attempt_at", "last_status_code"]
    list_filter = ["status"]
    raw_id_fields = ["subscription", "event"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "client", "endpoint", "action", "counts"]
    list_filter = ["action", "organization"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]


@admin.register(LearnerInvite)
class LearnerInviteAdmin(admin.ModelAdmin):
    """Invitations a university's sync asked for: sent (the mail server took them), pending (a
    retry is due at next_attempt_at) or failed (given up after INVITE_MAX_ATTEMPTS refusals)."""

    list_display = ["user", "organization", "created_at", "sent_at", "attempts", "next_attempt_at", "failed_at"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter), "organization"]
    raw_id_fields = ["user", "organization"]
    readonly_fields = ["sent_at", "attempts", "next_attempt_at", "claimed_until", "last_error", "failed_at"]
    actions = ["resend"]

    @admin.action(description=_("Send again (failed or waiting invitations)"))
    def resend(self, request, queryset):
        rows = list(queryset.values_list("pk", "organization_id"))
        n = invites.invites_resend(organization_ids=[o for _pk, o in rows], invite_ids=[pk for pk, _o in rows])
        self.message_user(
            request,
            ngettext("%(n)d invitation will be sent again.", "%(n)d invitations will be sent again.", n) % {"n": n},
        )


@admin.register(RosterPolicy)
class RosterPolicyAdmin(admin.ModelAdmin):
    """Where a university's roster teachers become instructors of our courses."""

    list_display = ["organization", "assign_teachers"]
    list_editable = ["assign_teachers"]


@admin.register(OneRosterImportJob)
class OneRosterImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "client", "status", "created_at", "finished_at", "errors_total"]
    list_filter = ["status", "organization"]
    exclude = ["package"]
    readonly_fields = [f.name for f in OneRosterImportJob._meta.fields if f.name != "package"]


class LtiDeploymentInline(admin.TabularInline):
    model = LtiDeployment
    extra = 1
    fields = ["deployment_id", "is_active"]


@admin.register(LtiPlatform)
class LtiPlatformAdmin(admin.ModelAdmin):
    """Staff see and edit every university's LMS registrations (a university admin has their own
    page: /accounts/organization/lti/)."""

    list_display = ["name", "organization", "issuer", "client_id", "registered_by", "is_active", "created_at"]
    list_filter = ["is_active", "registered_by", "organization"]
    search_fields = ["name", "issuer", "client_id"]
    readonly_fields = ["uuid", "registered_by", "created_at"]
    filter_horizontal = ["instructor_courses"]
    inlines = [LtiDeploymentInline]


@admin.register(LtiScoreDelivery)
class LtiScoreDeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "link", "event", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status"]
    raw_id_fields = ["link", "event"]
    readonly_fields = ["link", "event", "attempts", "claimed_at", "last_error", "delivered_at"]
