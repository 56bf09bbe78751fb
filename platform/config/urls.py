from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from courses import urls as courses_urls
from grading import urls as grading_urls
from integrations import invite_views, lti_views
from integrations.api.token import ThrottledTokenView
from kernel import converters  # noqa: F401 - registers <id:...> before any app's URLs
from learning import urls as learning_urls
from privacy import urls as privacy_urls

from . import health

# /accounts/ is one namespace served by three apps, so that every address and name stays what it
# was (links in e-mails already sent, bookmarks, `accounts:privacy`): identity (accounts), the
# learner's rights over their data (privacy) and a university admin's learners (courses). Neither
# accounts nor the apps above it import each other for this: the wiring joins them.
ACCOUNTS_PAGES = (
    accounts_urls.urlpatterns + privacy_urls.urlpatterns + courses_urls.accounts_urlpatterns,
    accounts_urls.app_name,
)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the accounts pages: under /accounts/organization/, where two-factor is required.
    path(
        "accounts/organization/invitations/",
        invite_views.organization_invitations,
        name="organization-invitations",
    ),
    path("accounts/organization/lti/", lti_views.organization_platforms, name="organization-lti"),
    path("accounts/", include(ACCOUNTS_PAGES)),
    # LTI 1.3: Kafaat as a tool launched from universities' LMSs (integrations.lti_views).
    path("lti/jwks.json", lti_views.jwks, name="lti-jwks"),
    path("lti/register/<str:token>/", lti_views.register, name="lti-register"),
    path("lti/roster/<id:context_id>/", lti_views.roster, name="lti-roster"),
    path("lti/<uuid:platform_uuid>/login/", lti_views.oidc_login, name="lti-login"),
    path("lti/<uuid:platform_uuid>/launch/", lti_views.launch, name="lti-launch"),
    path("lti/<uuid:platform_uuid>/deep-link/", lti_views.deep_link, name="lti-deep-link"),
    path("", include("certificates.urls")),
    path("learning/", include("learning.urls")),
    path("teach/", include("analytics.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("links/", include("integrations.urls")),
    path("o/token/", ThrottledTokenView.as_view(), name="oauth2_token"),
    path("", include("grading.urls")),
    # One namespace, three apps' pages: the course page with the learner's progress is learning's,
    # the assignment page is grading's (it takes the submission).
    path(
        "",
        include(
            (
                courses_urls.urlpatterns + learning_urls.course_urlpatterns + grading_urls.course_urlpatterns,
                courses_urls.app_name,
            )
        ),
    ),
]

# Under /api/ Django's own errors (an unknown address, a body it refused, a crash) answer in the
# API's JSON format; the website keeps its pages.
handler400 = "integrations.api.errors.handler400"
handler403 = "integrations.api.errors.handler403"
handler404 = "integrations.api.errors.handler404"
handler500 = "integrations.api.errors.handler500"
