from django.urls import path

from . import views

app_name = "grading"
urlpatterns = [
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/status/", views.submission_status_fragment, name="submission-status"),
]
