from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("<str:token>/", views.link_confirm, name="link-confirm"),
]
