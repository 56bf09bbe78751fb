from django.urls import path

from kernel import converters  # noqa: F401 - registers <id:...>, the bounded id

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("paths/<slug:code>/analytics/", views.path_analytics, name="path"),
    path("<slug:code>/gradebook/", views.gradebook_view, name="gradebook"),
    path("<slug:code>/gradebook/override/<id:user_id>/<id:assignment_id>/", views.override_view, name="override"),
    path("<slug:code>/gradebook/export.<str:fmt>", views.export_download, name="export"),
    path("<slug:code>/gradebook/exports/", views.export_start, name="export_start"),
    path("<slug:code>/gradebook/oneroster/<id:class_id>.zip", views.oneroster_export, name="oneroster_export"),
    path("<slug:code>/gradebook/exports/<id:pk>/", views.export_status, name="export_status"),
    path("<slug:code>/gradebook/exports/<id:pk>/file", views.export_file, name="export_file"),
    path("<slug:code>/analytics/", views.course_analytics, name="course"),
    path("<slug:code>/analytics/assignments/<id:pk>/", views.assignment_analytics, name="assignment"),
]
