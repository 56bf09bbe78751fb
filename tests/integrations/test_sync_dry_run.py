"""A dry run and the real run of a batch give the same verdict: they share one validation path,
so a dry run never accepts what the real run then refuses (or the reverse)."""

import pytest
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from accounts.models import User
from courses.models import Enrollment
from kernel.models import OutboxEvent
from tests.factories import CourseFactory, UserFactory

from .conftest import row


def sync(api, rows, **kw):
    return api.post("enrollments/sync", {"rows": rows, **kw})


def _duplicate(api, org, course):
    return [row("s1", course.code), row("s1", course.code)]


def _other_universitys_address(api, org, course):
    UserFactory(email="taken@other.example.ma")
    return [row("s1", course.code, email="taken@other.example.ma")]


def _closed_course(api, org, course):
    closed = CourseFactory(status="draft")
    return [row("s1", closed.code)]


def _dropped_then_readded(api, org, course):
    assert sync(api, [row("s1", course.code, status="dropped")]).status_code == 200
    return [row("s1", course.code)]


def _same_address_other_case(api, org, course):
    UserFactory(email="Case@Univ.example.ma")
    return [row("s1", course.code, email="case@univ.EXAMPLE.ma")]


def _active_invitee_moved_to_a_taken_address(api, org, course):
    # A sync-created learner, active without a usable password (activated by another way than
    # setting one), whose new address belongs to another account.
    assert sync(api, [row("s1", course.code)]).status_code == 200
    User.objects.filter(external_id="s1").update(is_active=True, password=UNUSABLE_PASSWORD_PREFIX + "x")
    UserFactory(email="owner@univ.example.ma")
    return [row("s1", course.code, email="owner@univ.example.ma")]


def _full_sync_dropping_too_much(api, org, course):
    assert sync(api, [row(f"s{i}", course.code) for i in range(5)]).status_code == 200
    return [row("s0", course.code)]


SCENARIOS = [
    _duplicate,
    _other_universitys_address,
    _closed_course,
    _dropped_then_readded,
    _same_address_other_case,
    _active_invitee_moved_to_a_taken_address,
    _full_sync_dropping_too_much,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_a_dry_run_gives_the_real_runs_verdict(api, org, scenario):
    course = CourseFactory()
    rows = scenario(api, org, course)
    mode = "full" if scenario is _full_sync_dropping_too_much else "upsert"
    before = (User.objects.count(), Enrollment.objects.count(), OutboxEvent.objects.count())
    dry = sync(api, rows, mode=mode, dry_run=True)
    assert (User.objects.count(), Enrollment.objects.count(), OutboxEvent.objects.count()) == before
    real = sync(api, rows, mode=mode)
    assert dry.status_code == real.status_code, (dry.json(), real.json())
    if real.status_code == 200:
        assert {**dry.json(), "dry_run": False} == real.json()
    else:
        assert dry.json()["error"]["code"] == real.json()["error"]["code"]
        assert dry.json()["error"]["details"] == real.json()["error"]["details"]
