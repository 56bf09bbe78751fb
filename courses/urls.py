from django.urls import path

from kernel import converters  # noqa: F401 - registers <id:...>, the bounded id

from . import authoring_views as author
from . import bank_views, file_views, organization_views, path_views, views

app_name = "courses"
# Two pages in this namespace are other apps': the course page with the learner's progress
# (courses:detail) is learning's, and the assignment page (courses:assignment) is grading's, as
# each reads what the app above courses owns (passes, submissions). config.urls joins
# learning.urls.course_urlpatterns and grading.urls.course_urlpatterns to this namespace.
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("courses/<slug:code>/enroll/", views.course_enroll, name="enroll"),
    path("courses/<slug:code>/lessons/<id:pk>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:code>/files/<str:name>", file_views.course_file_download, name="file"),
    path("courses/<slug:code>/cover/", views.course_cover, name="cover"),
    # Instructor authoring.
    path("author/", author.author_home, name="author-home"),
    path("author/new/", author.course_new, name="author-course-new"),
    path("author/import/", author.course_import, name="author-import"),
    path("author/import/<id:pk>/", author.course_import_job, name="author-import-job"),
    path("author/import/<id:pk>/confirm/", author.course_import_confirm, name="author-import-confirm"),
    # Learning paths (before author/<code>/: "paths" is a reserved course code).
    path("author/paths/", path_views.path_list, name="author-paths"),
    path("author/paths/new/", path_views.path_new, name="author-path-new"),
    path("author/paths/<slug:code>/", path_views.path_edit, name="author-path-edit"),
    path("author/paths/<slug:code>/courses/add/", path_views.path_course_add, name="author-path-course-add"),
    path(
        "author/paths/<slug:code>/courses/<id:pk>/remove/",
        path_views.path_course_remove,
        name="author-path-course-remove",
    ),
    path("author/paths/<slug:code>/courses/<id:pk>/move/", path_views.path_course_move, name="author-path-course-move"),
    path("author/paths/<slug:code>/courses/<id:pk>/gate/", path_views.path_course_gate, name="author-path-course-gate"),
    path("author/<slug:code>/", author.course_outline, name="author-outline"),
    path("author/<slug:code>/edit/", author.course_edit, name="author-course-edit"),
    path("author/<slug:code>/instructors/add/", author.instructor_add, name="author-instructor-add"),
    path(
        "author/<slug:code>/instructors/<id:pk>/remove/",
        author.instructor_remove,
        name="author-instructor-remove",
    ),
    path("author/<slug:code>/status/", author.course_status, name="author-status"),
    path("author/<slug:code>/export/", author.course_export, name="author-export"),
    path("author/<slug:code>/banks/", bank_views.bank_list, name="author-banks"),
    path("author/<slug:code>/banks/<slug:tag>/", bank_views.bank_edit, name="author-bank-edit"),
    path("author/<slug:code>/banks/<slug:tag>/delete/", bank_views.bank_delete, name="author-bank-delete"),
    path("author/<slug:code>/files/", file_views.course_files, name="author-files"),
    path("author/<slug:code>/files/<id:pk>/delete/", file_views.course_file_delete, name="author-file-delete"),
    path("author/<slug:code>/modules/new/", author.module_new, name="author-module-new"),
    path("author/<slug:code>/modules/<id:pk>/edit/", author.module_edit, name="author-module-edit"),
    path("author/<slug:code>/modules/<id:pk>/move/", author.module_move, name="author-module-move"),
    path("author/<slug:code>/modules/<id:module_pk>/lessons/new/", author.lesson_new, name="author-lesson-new"),
    path("author/<slug:code>/lessons/<id:pk>/edit/", author.lesson_edit, name="author-lesson-edit"),
    path("author/<slug:code>/lessons/<id:pk>/move/", author.lesson_move, name="author-lesson-move"),
    path("author/<slug:code>/lessons/<id:pk>/preview/", author.lesson_preview, name="author-lesson-preview"),
    path(
        "author/<slug:code>/modules/<id:module_pk>/assignments/new/",
        author.assignment_new,
        name="author-assignment-new",
    ),
    path("author/<slug:code>/assignments/<id:pk>/edit/", author.assignment_edit, name="author-assignment-edit"),
    path(
        "author/<slug:code>/assignments/<id:pk>/preview/",
        author.assignment_preview,
        name="author-assignment-preview",
    ),
]

# Mounted by config.urls under /accounts/, in the `accounts` namespace, where the page was before
# it moved here: its address and name stay `accounts:organization`.
accounts_urlpatterns = [
    path("organization/", organization_views.organization_learners, name="organization"),
]
