from django.contrib import admin

from .models import Certificate, IssuerKey


@admin.register(IssuerKey)
class IssuerKeyAdmin(admin.ModelAdmin):
    list_display = ["kid", "is_active", "created_at", "retired_at"]
    readonly_fields = ["kid", "public_key_multibase", "is_active", "created_at", "retired_at"]


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["id", "learner_name", "achievement_name", "issued_at", "revoked_at"]
    search_fields = ["learner_name", "achievement_name", "user__email"]
    readonly_fields = ["credential", "key", "issued_at", "revoked_at", "revoked_by", "revoked_reason"]
