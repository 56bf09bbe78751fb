from django.contrib import admin
from django.urls import include, path
from oauth2_provider import views as oauth2_views

from . import converters, health  # noqa: F401 - converters registers <id:...> before any app's URLs

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("", include("certificates.urls")),
    path("learning/", include("learning.urls")),
    path("teach/", include("analytics.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("links/", include("integrations.urls")),
    path("o/token/", oauth2_views.TokenView.as_view(), name="oauth2_token"),
    path("", include("grading.urls")),
    path("", include("courses.urls")),
]
