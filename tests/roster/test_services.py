"""roster.services on their own: storing records through roster_apply (references resolved per
university, errors reported and nothing stored), the admin's course mapping and its permission."""

from dataclasses import dataclass

import pytest

from accounts.models import OrganizationMembership
from kernel.errors import PermissionDenied
from roster.models import Org, RosterClass, RosterCourse
from roster.services import RosterInvalid, roster_apply, roster_course_map
from tests.factories import CourseFactory, OrganizationFactory, UserFactory


@dataclass
class Rec:
    line: int
    values: dict


def files(course_code="ds-101"):
    return {
        "orgs": [Rec(2, {"sourcedId": "sch1", "name": "School", "type": "school"})],
        "courses": [Rec(2, {"sourcedId": "crs1", "title": "DS", "courseCode": course_code, "orgSourcedId": "sch1"})],
        "classes": [
            Rec(2, {"sourcedId": "cls1", "title": "A", "courseSourcedId": "crs1", "classType": "scheduled",
                    "schoolSourcedId": "sch1", "termSourcedIds": ""}),
        ],
    }  # fmt: skip


MODES = {"orgs": "bulk", "courses": "bulk", "classes": "bulk"}


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="univ-a")


def test_records_are_stored_and_an_unresolved_reference_stores_nothing(org):
    errors = []
    roster_apply(organization=org, files=files(), modes=MODES, error=lambda *a: errors.append(a))
    assert errors == [] and RosterClass.objects.get(organization=org).roster_course.sourced_id == "crs1"

    other = OrganizationFactory(slug="univ-b")
    bad = {"classes": [Rec(5, {**files()["classes"][0].values, "sourcedId": "cls2"})]}
    with pytest.raises(RosterInvalid):
        roster_apply(organization=other, files=bad, modes={"classes": "delta"}, error=lambda *a: errors.append(a))
    # crs1 and sch1 are univ-a's: univ-b's class resolves to neither.
    assert [(e[0], e[1], e[2], e[3]) for e in errors] == [
        ("classes", 5, "courseSourcedId", "invalid_reference"),
        ("classes", 5, "schoolSourcedId", "invalid_reference"),
    ]
    assert not RosterClass.objects.filter(organization=other).exists()
    assert not Org.objects.filter(organization=other).exists()


def test_only_the_universitys_admins_map_its_courses(org):
    roster_apply(organization=org, files=files("SIS-1"), modes=MODES, error=lambda *a: None)
    course = CourseFactory(code="ds-101")
    rc = RosterCourse.objects.get(organization=org)
    elsewhere = UserFactory()
    OrganizationMembership.objects.create(user=elsewhere, organization=OrganizationFactory(slug="univ-c"))
    for user in (UserFactory(organization=org), elsewhere):
        with pytest.raises(PermissionDenied):
            roster_course_map(roster_course=rc, course=course, user=user)
    with pytest.raises(PermissionDenied):
        roster_course_map(roster_course=rc, course=course, organization=OrganizationFactory(slug="univ-d"))
    admin = UserFactory(organization=org)
    OrganizationMembership.objects.create(user=admin, organization=org)
    changed = roster_course_map(roster_course=rc, course=course, user=admin)
    assert changed == {RosterClass.objects.get(organization=org).pk: None}
    assert RosterClass.objects.get(organization=org).course == course
    # Unmapping gives the class back to what its codes say: nothing here.
    roster_course_map(roster_course=rc, course=None, user=admin)
    rc.refresh_from_db()
    assert rc.course is None and not rc.is_mapped_by_admin
    assert RosterClass.objects.get(organization=org).course is None
