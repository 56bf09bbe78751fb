from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("verify/<str:certificate_id>", views.verify, name="verify"),
    path("certificates/", views.certificate_list, name="list"),
    path("certificates/issuer", views.issuer, name="issuer"),
    path("certificates/issuer/keys/<slug:kid>", views.issuer_key, name="issuer-key"),
    path("certificates/<uuid:certificate_id>/", views.certificate_detail, name="detail"),
    path("certificates/<uuid:certificate_id>/certificate.pdf", views.certificate_pdf, name="pdf"),
    path("certificates/<uuid:certificate_id>/credential.json", views.certificate_credential, name="credential"),
    path("certificates/<uuid:certificate_id>/revoke", views.certificate_revoke, name="revoke"),
]
