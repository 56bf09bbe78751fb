"""Pages of the integrations app: the activation link a synced learner receives by e-mail."""

from django import forms
from django.contrib.auth import password_validation
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .services import invites


class ActivationForm(forms.Form):
    password1 = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=gettext_lazy("Password again"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        if p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


def activate(request, uidb64: str, token: str):
    user = invites.user_from_activation_link(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "integrations/activate_invalid.html", status=404)
    form = ActivationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        invites.learner_activate(user=user, password=form.cleaned_data["password1"])
        return redirect("accounts:login")
    return render(request, "integrations/activate.html", {"form": form, "learner": user})
