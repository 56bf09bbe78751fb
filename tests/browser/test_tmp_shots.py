import pytest

from courses.demo import load_demo_content
from courses.models import Assignment, Lesson, PathCourse
from tests.factories import UserFactory, enroll

pytestmark = pytest.mark.django_db(transaction=True)


def test_shots(pages):
    load_demo_content()
    PathCourse.objects.all().delete()  # no gate: every course open
    user = UserFactory()
    shots = [
        ("ar", "law-101-ar", 0),
        ("fr", "ds-101", 2),
        ("en", "cyber-102", 0),
        ("ar", "ds-103", 4),
        ("fr", "gov-101", 6),
    ]
    for lang, code, idx in shots:
        lesson = Lesson.objects.filter(module__course__code=code).order_by("module__position", "position")[idx]
        enroll(user, lesson.module.course)
        page = pages.new(lang=lang, user=user)
        page.goto(f"/courses/{code}/lessons/{lesson.pk}/")
        page.screenshot(path=f"/tmp/shot-{code}-{lang}.png", full_page=True)
    for lang, code in (("ar", "law-101-ar"), ("fr", "ds-102")):
        a = Assignment.objects.filter(course__code=code, kind__in=["quiz", "sql"]).order_by("module__position")[0]
        page = pages.new(lang=lang, user=user)
        page.goto(f"/courses/{code}/assignments/{a.pk}/")
        page.screenshot(path=f"/tmp/shot-{code}-assign-{lang}.png", full_page=True)
