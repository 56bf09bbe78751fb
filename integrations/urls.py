from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("activate/<str:uidb64>/<str:token>/", views.activate, name="activate"),
]
