"""The privacy pages. config.urls mounts them under /accounts/, in the `accounts` namespace, where
they were before privacy became its own app: their addresses and names (in e-mails already sent,
in bookmarks, `accounts:privacy`) stay the same."""

from django.urls import path

from kernel import converters  # noqa: F401 - registers <id:...>, the bounded id

from . import views

urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/export/", views.export_request, name="export-request"),
    path("privacy/export/<id:pk>/download/", views.export_download, name="export-download"),
    path("privacy/delete/", views.deletion_request, name="deletion-request"),
    path("privacy/delete/cancel/", views.deletion_cancel, name="deletion-cancel"),
]
