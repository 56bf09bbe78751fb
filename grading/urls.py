from django.urls import path

from kernel import converters  # noqa: F401 - registers <id:...>, the bounded id

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

# Grading's pages that sit among a course's pages, under the courses namespace: config.urls adds
# them to courses' patterns, so their names and paths stay the course's (courses:assignment).
course_urlpatterns = [
    path("courses/<slug:code>/assignments/<id:pk>/", views.assignment_detail, name="assignment"),
]
