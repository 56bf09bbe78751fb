from django.contrib import admin

from .models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["pk", "event_type", "organization", "user", "created_at"]
    list_filter = ["event_type"]
    raw_id_fields = ["user", "organization"]
