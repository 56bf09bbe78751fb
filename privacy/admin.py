from django.contrib import admin

from .models import DataExport, DeletionRequest

admin.site.register(DataExport, list_display=["user", "status", "requested_at", "expires_at"], raw_id_fields=["user"])
admin.site.register(DeletionRequest, list_display=["user", "status", "requested_at", "effective_at"],
                    raw_id_fields=["user"])  # fmt: skip
