from django.urls import path

from . import views

app_name = "courses"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("courses/<slug:code>/", views.course_detail, name="detail"),
    path("courses/<slug:code>/enroll/", views.course_enroll, name="enroll"),
    path("courses/<slug:code>/lessons/<int:pk>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:code>/assignments/<int:pk>/", views.assignment_detail, name="assignment"),
]
