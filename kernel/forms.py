"""The confirmation a destructive action asks for: a box to tick, checked on the server, so it
holds without JavaScript. Each page words the box for what it destroys."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


class ConfirmForm(forms.Form):
    """Valid only with `confirm` ticked. Pass the page's label; the error says what is missing."""

    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": _("Tick the box to confirm: this cannot be undone.")},
    )

    def __init__(self, *args, label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["confirm"].label = label


def confirm_page(request, form: ConfirmForm, *, heading: str, explanation: str, button: str, cancel_url: str):
    """The confirmation step of a destructive action posted without its box ticked: a page of its
    own (kernel/confirm.html) that posts again to this address, answered 400 (nothing was done)."""
    context = {
        "heading": heading, "explanation": explanation, "action": request.path,
        "label": form.fields["confirm"].label, "button": button, "confirm_form": form, "cancel_url": cancel_url,
    }  # fmt: skip
    return render(request, "kernel/confirm.html", context, status=400)
