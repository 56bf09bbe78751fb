"""Accounts: who people are, how they prove it (passwords, e-mail links, TOTP), which roles they
hold, their consent to the privacy notice and the audit of who read their data. Every write to
users, sessions, consents, changes of address and audit entries lives here, one module per
subject, each write owning its transaction. (Export, erasure and retention are the privacy app's.)

The names other apps use are importable from `accounts.services` itself."""

from .audit import audit_reads, audit_record, audit_record_many
from .consent import consent_needed, consent_record
from .email_change import (
    email_change_cancel,
    email_change_check,
    email_change_confirm,
    email_change_notify,
    email_change_request,
    email_change_token,
    email_changes_notify_pending,
)
from .invitations import invitation_accept, invitation_resend_for_token, invitation_send
from .links import LinkExpired, LinkInvalid, LinkUsed, LinkWrongAccount, link_token_check, link_token_make
from .mail import send_email
from .roles import membership_grant, user_requires_2fa
from .sessions import session_end, session_record, sessions_end_all
from .signup import email_verification_send, email_verify, signup_attempt_notify, user_create, user_signup
from .two_factor import (
    otp_verify,
    recovery_codes_regenerate,
    throttle_unlock,
    totp_device_confirm,
    totp_device_start,
    user_has_totp,
)

__all__ = [
    "LinkExpired",
    "LinkInvalid",
    "LinkUsed",
    "LinkWrongAccount",
    "audit_reads",
    "audit_record",
    "audit_record_many",
    "consent_needed",
    "consent_record",
    "email_change_cancel",
    "email_change_check",
    "email_change_confirm",
    "email_change_notify",
    "email_change_request",
    "email_change_token",
    "email_changes_notify_pending",
    "email_verification_send",
    "email_verify",
    "invitation_accept",
    "invitation_resend_for_token",
    "invitation_send",
    "link_token_check",
    "link_token_make",
    "membership_grant",
    "otp_verify",
    "recovery_codes_regenerate",
    "send_email",
    "session_end",
    "session_record",
    "sessions_end_all",
    "signup_attempt_notify",
    "throttle_unlock",
    "totp_device_confirm",
    "totp_device_start",
    "user_create",
    "user_has_totp",
    "user_requires_2fa",
    "user_signup",
]
