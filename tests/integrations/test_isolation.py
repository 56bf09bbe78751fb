"""A university's client sees and changes only its own university's records. For another
university's client, a record that exists is answered exactly like one that does not: 404."""

import io
import zipfile

import pytest
from django.urls import get_resolver

from accounts.models import User
from courses.models import Enrollment
from integrations.models import LearnerInvite, OneRosterImportJob, WebhookDelivery, WebhookSubscription
from integrations.services import webhooks
from roster.models import RosterCourse
from tests.factories import CourseFactory, make_quiz
from tests.roster.helpers import roster_class, student

from .helpers import RIGHT, graded, learner

# Every route of /api/v1/, and how isolation is proven for it.
OBJECT_ROUTES = {
    ("GET", "learners/{ext}"),
    ("GET", "webhooks/{wh}"),
    ("DELETE", "webhooks/{wh}"),
    ("GET", "webhooks/{wh}/deliveries"),
    ("POST", "webhooks/{wh}/deliveries/{delivery}/replay"),
    ("GET", "oneroster/imports/{job}"),
    ("POST", "oneroster/courses/{cls}/mapping"),
    ("GET", "oneroster/classes/{cls}/gradebook.zip"),
}
# The query an object route needs to answer its owner 200.
QUERIES = {"oneroster/classes/{cls}/gradebook.zip": {"term": "term-2026"}}
LIST_ROUTES = {"enrollments", "grades", "completions", "webhooks", "oneroster/classes", "invitations"}
WRITE_ROUTES = {"enrollments/sync", "oneroster/imports", "webhooks"}
SHARED_ROUTES = {"paths", "paths/{code}", "courses", "courses/{code}", "courses/{code}/assignments"}
DOC_ROUTES = {"schema/", "docs/"}


@pytest.fixture
def world(org, api):
    """University A with a learner, an enrollment, a grade, a completion, a webhook and a delivery,
    and an invitation not delivered yet."""
    quiz = make_quiz()
    amina = learner(org, "amina")
    graded(amina, quiz, RIGHT)
    student(roster_class(org, quiz.course), "amina", user=amina)
    LearnerInvite.objects.create(user=learner(org, "yasmine"), organization=org)  # its mail not taken yet
    sub = webhooks.subscription_create(
        client=api.client_model, url="http://127.0.0.1:9/hook", event_types=["course.completed"]
    )
    webhooks.events_dispatch()
    delivery = WebhookDelivery.objects.get(subscription=sub)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="dead")
    # A background import job; the roster course of the world's class (route {cls}) is mapped below.
    job = OneRosterImportJob.objects.create(organization=org, client=api.client_model)
    RosterCourse.objects.create(organization=org, sourced_id="class-1", title="DS")
    return {"ext": "amina", "wh": sub.pk, "delivery": delivery.pk, "quiz": quiz, "cls": "class-1", "job": job.pk}


def test_every_api_route_is_covered_by_an_isolation_test():
    routes = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "api/v1/":
            for sub in pattern.url_patterns:
                routes.add(str(sub.pattern).replace("<slug:code>", "{code}").replace("<str:external_id>", "{ext}")
                           .replace("imports/<int:pk>", "imports/{job}")
                           .replace("<int:pk>", "{wh}").replace("<int:delivery_pk>", "{delivery}")
                           .replace("<str:sourced_id>", "{cls}"))  # fmt: skip
    covered = {p for _m, p in OBJECT_ROUTES} | LIST_ROUTES | WRITE_ROUTES | SHARED_ROUTES | DOC_ROUTES
    assert routes == covered


@pytest.mark.parametrize(("method", "route"), sorted(OBJECT_ROUTES))
def test_another_universitys_client_gets_404_for_each_record(world, api, other_api, method, route):
    path = route.format(**world)
    query = (QUERIES.get(route),) if method == "GET" else ()
    resp = getattr(other_api, method.lower())(path, *query)
    assert resp.status_code == 404, (path, resp.content)
    assert resp.json()["error"]["code"] == "not_found"
    # Indistinguishable from a record that does not exist at all.
    missing = route.format(ext="nobody", wh=999999, delivery=999999, cls="nobody", job=999999)
    assert getattr(other_api, method.lower())(missing, *query).json() == resp.json()
    # Nothing changed, and the owner still sees it.
    assert WebhookSubscription.objects.filter(pk=world["wh"]).exists()
    assert WebhookDelivery.objects.get(pk=world["delivery"]).status == "dead"
    if method == "GET":
        assert api.get(path, *query).status_code == 200


@pytest.mark.parametrize("route", sorted(LIST_ROUTES))
def test_another_universitys_client_lists_none_of_its_records(world, api, other_api, route):
    assert other_api.get(route).status_code == 200
    results = other_api.get(route).json()
    results = results["results"] if isinstance(results, dict) else results
    assert results == []
    mine = api.get(route).json()
    assert (mine["results"] if isinstance(mine, dict) else mine) != []


def test_another_universitys_sync_never_touches_this_universitys_learners(world, other_api):
    course = world["quiz"].course
    rows = [
        {"external_id": "amina", "email": "amina@other.example.ma", "course_code": course.code, "status": "dropped"}
    ]
    resp = other_api.post("enrollments/sync", {"rows": rows, "mode": "full", "force": True})
    assert resp.status_code == 200
    assert resp.json()["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "dropped": 0}
    mine = User.objects.get(email="amina.univ-a@example.ma")
    assert Enrollment.objects.get(user=mine).status == "active"
    assert User.objects.filter(external_id="amina").count() == 2


def test_another_universitys_oneroster_import_never_touches_this_universitys_enrollments(world, other_api):
    from .test_oneroster import package

    course = world["quiz"].course
    data = package(course_code=course.code, students=[("stu-1", "stu1@other.example.ma")])
    upload = io.BytesIO(data)
    upload.name = "roster.zip"
    resp = other_api.http.post("/api/v1/oneroster/imports", {"file": upload, "force": "true"})
    assert resp.status_code == 200, resp.json()
    mine = User.objects.get(email="amina.univ-a@example.ma")
    assert Enrollment.objects.get(user=mine).status == "active"
    assert zipfile.is_zipfile(io.BytesIO(data))


def test_another_universitys_webhooks_list_and_create_stay_its_own(world, other_api):
    resp = other_api.post("webhooks", {"url": "https://b.example.ma/hook", "event_types": ["submission.graded"]})
    assert resp.status_code == 201
    assert WebhookSubscription.objects.get(pk=resp.json()["id"]).organization == other_api.organization
    assert [w["id"] for w in other_api.get("webhooks").json()] == [resp.json()["id"]]


def test_the_catalogue_is_shared_but_drafts_are_not_found(other_api):
    draft = CourseFactory(status="draft")
    assert other_api.get(f"courses/{draft.code}").status_code == 404
    assert other_api.get(f"courses/{draft.code}/assignments").status_code == 404
