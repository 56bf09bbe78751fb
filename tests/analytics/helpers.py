"""Arrange helpers for analytics tests: a course with assignments, learners and submissions."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import OrganizationMembership
from courses.models import Assignment, AssignmentVersion, Enrollment
from grading.models import Submission
from grading.services import latest_graded_refresh
from tests.factories import CourseFactory, ModuleFactory, OrganizationFactory, UserFactory, make_quiz


def make_assignment(course, *, kind="code", title="Task", points=100, **fields) -> Assignment:
    module = course.modules.first() or ModuleFactory(course=course)
    if kind == "quiz":
        return make_quiz(module=module, title=title, points=points, **fields)
    a = Assignment.objects.create(course=course, module=module, title=title, kind=kind, points=points, **fields)
    a.current_version = AssignmentVersion.objects.create(assignment=a, number=1, spec={})
    a.save(update_fields=["current_version"])
    return a


def submit(user, assignment, *, score=None, status="graded", attempt=None, late=False, answer=None, when=None):
    attempt = attempt or (Submission.objects.filter(user=user, assignment=assignment).count() + 1)
    sub = Submission.objects.create(
        user=user,
        assignment=assignment,
        version_id=assignment.current_version_id,
        attempt=attempt,
        answer=answer or {},
        status=status,
        score=Decimal(str(score)) if score is not None else None,
        max_score=assignment.points,
        is_late=late,
        graded_at=timezone.now() if status == "graded" else None,
    )
    if when is not None:
        Submission.objects.filter(pk=sub.pk).update(submitted_at=when)
    # Written by hand, not through grade_record: keep the maintained latest graded attempt as a
    # grade would (grading.services.latest_graded_refresh).
    latest_graded_refresh(pairs=[(user.pk, assignment.pk)])
    sub.refresh_from_db(fields=["is_latest_graded"])
    return sub


def learner(course, *, org=None, source="self", external_id=None, enrolled_days_ago=1, **fields):
    user = UserFactory(organization=org, external_id=external_id, **fields)
    enrollment = Enrollment.objects.create(user=user, course=course, source=source)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=timezone.now() - timedelta(days=enrolled_days_ago))
    return user


def org_admin(org):
    user = UserFactory()
    OrganizationMembership.objects.create(user=user, organization=org)
    return user


def course_with_instructor(**fields):
    course = CourseFactory(**fields)
    teacher = UserFactory()
    course.instructors.add(teacher)
    return course, teacher


__all__ = ["OrganizationFactory", "UserFactory", "CourseFactory"]
