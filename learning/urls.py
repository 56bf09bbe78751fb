from django.urls import path

from . import views

app_name = "learning"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("paths/<slug:code>/", views.path_progress, name="path-progress"),
    path("grades/", views.grade_history, name="grades"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]

# Mounted by config.urls in the `courses` namespace, at the address the page always had.
course_urlpatterns = [
    path("courses/<slug:code>/", views.course_detail, name="detail"),
]
