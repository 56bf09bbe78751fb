from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import AuditEntry, Consent, DataExport, DeletionRequest, Organization, OrganizationMembership, User


class MembershipInline(admin.TabularInline):
    model = OrganizationMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "organization", "is_staff", "is_active", "email_verified_at"]
    list_filter = ["is_staff", "is_active", "organization"]
    search_fields = ["email", "full_name", "external_id"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["full_name", "preferred_language", "organization", "external_id"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined", "email_verified_at", "erased_at"]}),
    ]
    readonly_fields = ["erased_at"]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    actions = ["unlock", "send_invitation", "reset_two_factor"]

    @admin.action(description=_("Reset two-factor (the user sets up a new device at next login)"))
    def reset_two_factor(self, request, queryset):
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.filter(user__in=queryset).delete()
        StaticDevice.objects.filter(user__in=queryset).delete()
        self.message_user(request, _("Two-factor devices removed."), messages.SUCCESS)

    @admin.action(description=_("Unlock (lift a login lock-out)"))
    def unlock(self, request, queryset):
        for user in queryset:
            services.throttle_unlock(email=user.email)
        n = queryset.count()
        self.message_user(request, ngettext("%d account unlocked.", "%d accounts unlocked.", n) % n, messages.SUCCESS)

    @admin.action(description=_("Send an activation e-mail"))
    def send_invitation(self, request, queryset):
        sent = 0
        for user in queryset.filter(erased_at__isnull=True):
            if not (user.is_active and user.has_usable_password()):
                services.invitation_send(user=user)
                sent += 1
        self.message_user(request, ngettext("%d invitation sent.", "%d invitations sent.", sent) % sent)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "subject_user", "object_type", "object_id"]
    list_filter = ["action"]
    raw_id_fields = ["actor", "subject_user"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


admin.site.register(Consent, list_display=["user", "notice_version", "language", "accepted_at"], raw_id_fields=["user"])
admin.site.register(DataExport, list_display=["user", "status", "requested_at", "expires_at"], raw_id_fields=["user"])
admin.site.register(DeletionRequest, list_display=["user", "status", "requested_at", "effective_at"],
                    raw_id_fields=["user"])  # fmt: skip


# django-otp's own device admin shows any user's TOTP secret and QR code to staff: a staff member
# could then pass for that user. Devices are managed by their owners; staff can only reset them
# (the action above).
# Called from AccountsConfig.ready(), after the admin has imported every app's admin module.
def unregister_otp_admin():
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
