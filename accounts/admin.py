from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kernel.errors import ApplicationError

from . import services
from .models import (
    AuditEntry,
    Consent,
    EmailChange,
    Organization,
    OrganizationMembership,
    User,
)


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


class KafaatUserChangeForm(UserChangeForm):
    def clean_email(self):
        email = self.cleaned_data["email"]
        if self.instance.pk and self.instance.is_stand_in and email != self.initial.get("email"):
            raise forms.ValidationError(_("A stand-in's address is managed by its university's sync."))
        return email

    def clean_is_active(self):
        # The database refuses it too (accounts_user_stand_in_never_active); say so on the field.
        if self.instance.pk and self.instance.is_stand_in and self.cleaned_data["is_active"]:
            raise forms.ValidationError(_("A stand-in for a university's roster entry cannot be activated."))
        return self.cleaned_data["is_active"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = KafaatUserChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "organization", "is_staff", "is_active", "email_verified_at"]
    list_filter = ["is_staff", "is_active", "organization"]
    search_fields = ["email", "full_name", "external_id", "roster_email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Profile"),
            {
                "fields": [
                    "full_name",
                    "preferred_language",
                    "organization",
                    "external_id",
                    "created_by_organization",
                    "roster_email",
                ]
            },
        ),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined", "email_verified_at", "erased_at"]}),
    ]
    readonly_fields = ["erased_at", "created_by_organization", "roster_email"]
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
        for user in queryset.filter(erased_at__isnull=True, roster_email=""):
            if not (user.is_active and user.has_usable_password()):
                services.invitation_send(user=user)
                sent += 1
        self.message_user(request, ngettext("%d invitation sent.", "%d invitations sent.", sent) % sent)

    def save_model(self, request, obj, form, change):
        # A new address goes through the same rule as everywhere: confirmed from the new address
        # by the owner (or, for a never-activated invitee, corrected and invited again), with the
        # old address told. The form's value is only a request.
        new_email = None
        if change and "email" in form.changed_data:
            new_email, obj.email = obj.email, form.initial["email"]
        super().save_model(request, obj, form, change)
        if new_email is None:
            return
        try:
            services.email_change_request(user=obj, new_email=new_email, requested_by=request.user.get_full_name())
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.refresh_from_db()
        if obj.email == new_email.lower():
            message = _("The address was corrected; the invitation goes to the new address and the old one is told.")
        else:
            message = _(
                "The address changes once its owner confirms it from the link sent to %(email)s; "
                "the old address was told."
            ) % {"email": new_email}
        self.message_user(request, message, messages.WARNING)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "subject_user", "object_type", "object_id"]
    list_filter = ["action"]
    raw_id_fields = ["actor", "subject_user"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(EmailChange)
class EmailChangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "old_email", "new_email", "status", "requested_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["old_email", "new_email"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False  # changes go through accounts.services (the user's page in this admin)

    def has_add_permission(self, request):
        return False


admin.site.register(Consent, list_display=["user", "notice_version", "language", "accepted_at"], raw_id_fields=["user"])


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
