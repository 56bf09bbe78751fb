from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

User = get_user_model()


class SignupForm(forms.Form):
    # autocomplete: browsers and assistive tools fill personal data in (WCAG 1.3.5).
    full_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )  # the column's length
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    accept_privacy = forms.BooleanField(
        label=_("I have read the privacy notice and accept it."),
        error_messages={"required": _("Please read and accept the privacy notice to create an account.")},
    )

    def clean_email(self):
        # Whether the address already has an account is never said here (services.user_signup).
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    ERROR_ID = "login-error"  # the element of templates/accounts/login.html that shows the form's error

    def full_clean(self):
        """A refused login's error is the form's, not a field's: tie it to both fields, so a screen
        reader reads it from either (aria-describedby)."""
        super().full_clean()
        if self.non_field_errors():
            for name in ("username", "password"):
                self.fields[name].widget.attrs.update({"aria-describedby": self.ERROR_ID, "aria-invalid": "true"})


class ActivationForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    accept_privacy = forms.BooleanField(
        label=_("I have read the privacy notice and accept it."),
        error_messages={"required": _("Please read and accept the privacy notice to activate your account.")},
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ConsentForm(forms.Form):
    accept_privacy = forms.BooleanField(
        label=_("I have read the privacy notice and accept it."),
        error_messages={"required": _("Please accept the privacy notice to go on using Kafaat.")},
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=pgettext_lazy("verification", "Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
