from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import gradebook, invitations, views

app_name = "api_v1"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_v1:schema", template_name="integrations/swagger_ui.html"),
        name="docs",
    ),
    path("paths", views.PathListView.as_view(), name="paths"),
    path("paths/<slug:code>", views.PathDetailView.as_view(), name="path"),
    path("courses", views.CourseListView.as_view(), name="courses"),
    path("courses/<slug:code>", views.CourseDetailView.as_view(), name="course"),
    path("courses/<slug:code>/assignments", views.AssignmentListView.as_view(), name="course-assignments"),
    path("enrollments", views.EnrollmentListView.as_view(), name="enrollments"),
    path("enrollments/sync", views.EnrollmentSyncView.as_view(), name="enrollments-sync"),
    path("learners/<str:external_id>", views.LearnerDetailView.as_view(), name="learner"),
    path("invitations", invitations.InvitationListView.as_view(), name="invitations"),
    path("grades", views.GradeListView.as_view(), name="grades"),
    path("completions", views.CompletionListView.as_view(), name="completions"),
    path("webhooks", views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>", views.WebhookDetailView.as_view(), name="webhook"),
    path("webhooks/<int:pk>/deliveries", views.DeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/replay",
        views.DeliveryReplayView.as_view(),
        name="webhook-delivery-replay",
    ),
    path("oneroster/imports", views.OneRosterImportView.as_view(), name="oneroster-import"),
    path("oneroster/imports/<int:pk>", views.OneRosterImportJobView.as_view(), name="oneroster-import-job"),
    path(
        "oneroster/courses/<str:sourced_id>/mapping",
        views.OneRosterCourseMappingView.as_view(),
        name="oneroster-course-mapping",
    ),
    path("oneroster/classes", gradebook.OneRosterClassListView.as_view(), name="oneroster-classes"),
    path(
        "oneroster/classes/<str:sourced_id>/gradebook.zip",
        gradebook.OneRosterGradebookView.as_view(),
        name="oneroster-class-gradebook",
    ),
]
