from django.urls import path

from . import views

urlpatterns = [
    path("jwks", views.jwks),
    path(".well-known/openid-configuration", views.openid_configuration),
    path("course/<str:context_id>/", views.course),
    path("course/<str:context_id>/view/<str:link_id>/", views.course_view),
    path("course/<str:context_id>/add/", views.course_add),
    path("course/<str:context_id>/gradebook/", views.gradebook),
    path("launch/init", views.launch_init),
    path("auth", views.auth),
    path("token", views.token),
    path("ags/<str:context_id>/lineitems", views.ags_lineitems),
    path("ags/<str:context_id>/lineitems/<str:line_item_id>", views.ags_lineitem),
    path("ags/<str:context_id>/lineitems/<str:line_item_id>/scores", views.ags_scores),
    path("ags/<str:context_id>/lineitems/<str:line_item_id>/results", views.ags_results),
    path("nrps/<str:context_id>/memberships", views.nrps_memberships),
    path("deeplink/return", views.deeplink_return),
    path("dynreg/start/", views.dynreg_start),
    path("dynreg/register", views.dynreg_register),
    path("_control", views.control),
    path("_replay", views.replay),
    path("_state", views.state),
]
