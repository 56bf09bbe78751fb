"""Builders for roster tests: a university's stored roster (a school, a term, a course and a
class mapped to a Kafaat course, its students linked to accounts), built with the ORM."""

from datetime import date

from courses.models import Enrollment
from roster.models import AcademicSession, Org, RosterClass, RosterCourse, RosterEnrollment, RosterUser
from tests.factories import UserFactory


def roster_class(organization, course, *, sourced_id="class-1", term_sid="term-2026", school_sid="school-1"):
    school = Org.objects.create(organization=organization, sourced_id=school_sid, name="Faculté", type="school")
    term = AcademicSession.objects.create(
        organization=organization,
        sourced_id=term_sid,
        title="Automne 2026",
        type="term",
        start_date=date(2026, 9, 1),
        end_date=date(2026, 12, 31),
        school_year="2027",
    )
    rc = RosterCourse.objects.create(
        organization=organization, sourced_id=f"course-{sourced_id}", title=course.title, course_code=course.code,
        org=school, course=course,
    )  # fmt: skip
    cls = RosterClass.objects.create(
        organization=organization, sourced_id=sourced_id, title=f"{course.title} A", class_code=course.code,
        class_type="scheduled", roster_course=rc, school=school, course=course,
    )  # fmt: skip
    cls.terms.add(term)
    return cls


def student(roster_class, sourced_id, *, user=None):
    """A roster user enrolled as a student of the class, linked to a Kafaat account."""
    org = roster_class.organization
    user = user or UserFactory(organization=org, external_id=sourced_id)
    ru = RosterUser.objects.create(
        organization=org, sourced_id=sourced_id, user=user, username=sourced_id, given_name="A", family_name="B"
    )
    RosterEnrollment.objects.create(
        organization=org, sourced_id=f"enr-{roster_class.sourced_id}-{sourced_id}", roster_class=roster_class,
        roster_user=ru, school=roster_class.school, role="student",
    )  # fmt: skip
    if roster_class.course_id:
        Enrollment.objects.get_or_create(user=user, course_id=roster_class.course_id)
    return user
