from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("verify/resend/", views.verify_resend, name="verify-resend"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("activate/<str:token>/", views.activate, name="activate"),
    path("activate/<str:token>/resend/", views.activate_resend, name="activate-resend"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email-change-confirm"),
    path("email/cancel/<str:token>/", views.email_change_cancel, name="email-change-cancel"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password/reset/complete/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("me/", views.me, name="me"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/end/", views.session_end, name="session-end"),
    path("sessions/end-others/", views.sessions_end_others, name="sessions-end-others"),
    path("2fa/setup/", views.otp_setup, name="otp-setup"),
    path("2fa/verify/", views.otp_verify, name="otp-verify"),
    path("2fa/recovery-codes/", views.recovery_codes_regenerate, name="otp-recovery-codes"),
    path("privacy/notice/", views.privacy_notice, name="privacy-notice"),
    path("privacy/consent/", views.consent, name="consent"),
]
