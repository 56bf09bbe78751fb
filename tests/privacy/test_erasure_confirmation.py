"""Erasing one's account is never one click: the form asks to confirm, without JavaScript, and the
button looks destructive."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from privacy.models import DeletionRequest
from tests.factories import UserFactory

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "kafaat.css"


@pytest.mark.django_db
def test_asking_for_erasure_without_confirming_schedules_nothing_and_says_why(client):
    learner = UserFactory()
    client.force_login(learner)
    response = client.post(reverse("accounts:deletion-request"))
    assert response.status_code == 400
    assert response.context["erase_form"].errors["confirm"]
    page = response.content.decode()
    assert 'id="erase-confirm-errors"' in page and 'aria-describedby="erase-confirm-errors"' in page
    assert not DeletionRequest.objects.filter(user=learner).exists()


@pytest.mark.django_db
def test_asking_for_erasure_with_the_box_ticked_schedules_it(client):
    learner = UserFactory()
    client.force_login(learner)
    response = client.post(reverse("accounts:deletion-request"), {"confirm": "on"})
    assert response.status_code == 302
    assert DeletionRequest.objects.filter(user=learner, status="pending").count() == 1


@pytest.mark.django_db
def test_the_erase_button_is_a_danger_button_with_a_required_confirmation_and_export_is_not(client):
    client.force_login(UserFactory())
    page = client.get(reverse("accounts:privacy")).content.decode()
    erase_form = page[page.index(reverse("accounts:deletion-request")) :].split("</form>")[0]
    assert re.search(r'<input type="checkbox" name="confirm"[^>]*required', erase_form)
    assert 'class="danger"' in erase_form
    export_form = page[page.index(reverse("accounts:export-request")) :].split("</form>")[0]
    assert "danger" not in export_form


def _luminance(hex_colour: str) -> float:
    if len(hex_colour) == 4:  # #fff
        hex_colour = "#" + "".join(c * 2 for c in hex_colour[1:])
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_danger_buttons_are_styled_in_the_site_css_with_aa_contrast():
    css = CSS.read_text()
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    rule = re.search(r"button\.danger\s*\{([^}]*)\}", css)
    assert rule, "kafaat.css has no button.danger rule"

    def colour(prop: str) -> str:
        value = re.search(rf"(?<![-\w]){prop}:\s*([^;]+);", rule.group(1)).group(1).strip()
        return variables[value[6:-1]] if value.startswith("var(--") else value

    assert _contrast(colour("color"), colour("background")) >= 4.5
    assert _contrast(colour("background"), variables["bg"]) >= 3  # the button stands out of the page
