"""The site header holds on one line at 1280 px for every role in every language (its menus are
<details> drop-downs), and on a phone nothing in it scrolls the page sideways."""

import pytest

from accounts.models import OrganizationMembership
from tests.factories import CourseFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _people():
    learner = UserFactory(full_name="Amina Benali")
    instructor = UserFactory(full_name="Karim Alaoui-Benjelloun")
    CourseFactory().instructors.add(instructor)
    staff = UserFactory(full_name="Nadia El Mansouri", is_staff=True)
    CourseFactory().instructors.add(staff)
    admin = UserFactory(full_name="Youssef Admin")
    OrganizationMembership.objects.create(user=admin, organization=OrganizationFactory(),
                                          role=OrganizationMembership.Role.ADMIN)  # fmt: skip
    return {"visitor": None, "learner": learner, "instructor": instructor, "staff": staff, "university": admin}


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_the_header_is_one_line_at_1280_px_for_every_role_and_its_menus_open(pages, lang):
    tall = {}
    for role, user in _people().items():
        page = pages.new(lang=lang, user=user)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto("/")
        # One line: every item of the header sits on the brand's row.
        tops = page.evaluate(
            "() => [...document.querySelectorAll('.site-header .brand, .site-header .nav-main > li, "
            ".site-header .lang')].map(e => e.getBoundingClientRect())"
            ".map(r => Math.round(r.top + r.height / 2))"
        )
        if max(tops) - min(tops) > 6:
            tall[role] = tops
        if user is not None:
            page.locator("details.menu > summary.who").click()
            assert page.locator("details.menu[open] form[action$='/logout/'] button").is_visible()
        if role == "university":
            assert page.locator(".site-header a[href$='/organization/']").is_visible()
        if role in ("instructor", "staff"):
            page.locator("details.menu > summary:not(.who)").click()
            assert page.locator("details.menu[open] a[href$='/author/']").is_visible()
    assert not tall, f"the header wraps in {lang}: {tall}"


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_on_a_phone_the_header_does_not_widen_the_page(pages, lang):
    page = pages.new(lang=lang, user=_people()["staff"])
    page.set_viewport_size({"width": 360, "height": 700})
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
