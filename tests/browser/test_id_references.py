"""Every id a page refers to exists on that page: aria-describedby, aria-labelledby, aria-controls
and label[for], on every state of tests/browser/site.py and on the forms' error states (a refused
login, a quiz or an essay review sent empty, an assignment editor with a wrong value). A
reference to a missing id names nothing: the field loses its description or its name. And the
personal-data fields say what they hold (autocomplete, WCAG 1.3.5)."""

import lxml.html
import pytest
from django.test import Client

from tests.twofactor import login_with_2fa

from .site import build, groups

pytestmark = pytest.mark.django_db

EMPTY = {"_": ""}  # a form sent with none of its fields (an empty POST leaves the form unbound)
REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls")


def dangling(html: bytes) -> list[str]:
    tree = lxml.html.fromstring(html)
    ids = set(tree.xpath("//@id"))
    found = []
    for attr in REFERENCES:
        for el in tree.xpath(f"//*[@{attr}]"):
            found += [f"{el.tag}[{attr}={ref}]" for ref in el.get(attr).split() if ref not in ids]
    found += [f"label[for={el.get('for')}]" for el in tree.xpath("//label[@for]") if el.get("for") not in ids]
    return found


def _client(user) -> Client:
    client = Client()
    if user is not None:
        login_with_2fa(client, user)
    return client


def test_dangling_finds_a_reference_to_a_missing_id():
    html = b'<html><body><input aria-describedby="a b" id="x"><p id="a"></p><label for="y">Y</label></body></html>'
    assert dangling(html) == ["input[aria-describedby=b]", "label[for=y]"]


def test_every_id_a_page_refers_to_exists_on_every_state_of_the_site():
    site = build()
    found = {}
    for user, urls in groups(site):
        client = _client(user)
        for name, url in urls.items():
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            if problems := dangling(response.content):
                found[name] = problems
    assert not found, found


def test_every_id_a_form_refers_to_exists_when_the_form_shows_its_errors():
    site = build()
    learner, instructor = _client(site["learner"]), _client(site["instructor"])
    posts = [
        ("login", _client(None), site["public_pages"]["login"], {"username": "nobody@example.org", "password": "x"}),
        ("signup", _client(None), site["public_pages"]["signup"], {"email": "not an address"}),
        ("quiz", learner, site["learner_pages"]["quiz"], EMPTY),
        ("code", learner, site["learner_pages"]["code"], {"code": " "}),
        ("flag", learner, site["learner_pages"]["flag"], EMPTY),
        ("essay", learner, site["learner_pages"]["essay"], EMPTY),
        ("review", instructor, site["instructor_pages"]["review"], EMPTY),
        ("author-assignment-edit", instructor, site["instructor_pages"]["author-assignment-edit"],
         {"title": "", "points": "-1", "late_penalty_per_day": "500"}),
        ("author-builder-flag", instructor, site["instructor_pages"]["author-builder-flag"], {"title": "", "flag": ""}),
    ]  # fmt: skip
    found = {}
    for name, client, url, data in posts:
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 400), (name, response.status_code)
        assert b'class="errors"' in response.content or b"errorlist" in response.content, name
        if problems := dangling(response.content):
            found[name] = problems
    assert not found, found


def test_a_refused_login_and_a_quizs_errors_are_tied_to_their_fields():
    site = build()
    page = _client(None).post(site["public_pages"]["login"], {"username": "nobody@example.org", "password": "x"})
    tree = lxml.html.fromstring(page.content)
    (error,) = tree.xpath("//*[@role='alert'][.//ul[contains(@class, 'errorlist')]]")
    for name in ("username", "password"):
        (field,) = tree.xpath(f"//input[@name='{name}']")
        assert error.get("id") in field.get("aria-describedby").split()
    page = _client(site["learner"]).post(site["learner_pages"]["quiz"], EMPTY)
    tree = lxml.html.fromstring(page.content)
    questions = tree.xpath("//form[@class='answer']//fieldset")
    assert questions
    for fieldset in questions:
        (error_list,) = fieldset.xpath(".//ul[contains(@class, 'errorlist')]")
        assert error_list.get("id") in fieldset.get("aria-describedby").split()


def test_personal_data_fields_say_what_they_hold():
    site = build()
    anonymous = _client(None)
    expected = {
        "login": {"username": "email", "password": "current-password"},
        "signup": {"full_name": "name", "email": "email", "password": "new-password"},
        "password-reset": {"email": "email"},
    }
    for page, fields in expected.items():
        tree = lxml.html.fromstring(anonymous.get(site["public_pages"][page]).content)
        for name, token in fields.items():
            (field,) = tree.xpath(f"//input[@name='{name}']")
            assert field.get("autocomplete") == token, (page, name)
    tree = lxml.html.fromstring(_client(site["learner"]).get(site["learner_pages"]["password-change"]).content)
    assert tree.xpath("//input[@name='old_password']/@autocomplete") == ["current-password"]
    assert set(tree.xpath("//input[@name='new_password1' or @name='new_password2']/@autocomplete")) == {"new-password"}
