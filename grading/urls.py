from django.urls import path

from . import views

app_name = "grading"
urlpatterns = [
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/status/", views.submission_status_fragment, name="submission-status"),
    path("submissions/<int:pk>/retry/", views.submission_retry, name="submission-retry"),
    path("grading/regrades/", views.regrade_start, name="regrade-start"),
    path("grading/regrades/<int:pk>/", views.regrade_detail, name="regrade"),
    path("grading/review/", views.review_queue, name="review-queue"),
    path("grading/review/<int:pk>/", views.review_detail, name="review"),
]
