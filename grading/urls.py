from django.urls import path

from config import converters  # noqa: F401 - registers <id:...>, the bounded id

from . import views

app_name = "grading"
urlpatterns = [
    path("submissions/<id:pk>/", views.submission_detail, name="submission"),
    path("submissions/<id:pk>/status/", views.submission_status_fragment, name="submission-status"),
    path("submissions/<id:pk>/retry/", views.submission_retry, name="submission-retry"),
    path("grading/regrades/", views.regrade_start, name="regrade-start"),
    path("grading/regrades/<id:pk>/", views.regrade_detail, name="regrade"),
    path("grading/review/", views.review_queue, name="review-queue"),
    path("grading/review/<id:pk>/", views.review_detail, name="review"),
]
