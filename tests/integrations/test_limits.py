from integrations.models import AuditEntry
from tests.factories import CourseFactory

from .conftest import row


def test_clients_are_throttled_one_by_one_with_retry_after(api, other_api, settings):
    settings.INTEGRATIONS_API_RATE = "3/min"
    for _ in range(3):
        assert api.get("courses").status_code == 200
    refused = api.get("courses")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert other_api.get("courses").status_code == 200  # another client has its own budget


def test_writes_have_their_own_lower_budget(api, settings):
    settings.INTEGRATIONS_API_WRITE_RATE = "1/min"
    course = CourseFactory()
    assert api.post("enrollments/sync", {"rows": [row("s1", course.code)]}).status_code == 200
    refused = api.post("enrollments/sync", {"rows": [row("s2", course.code)]})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert api.get("enrollments").status_code == 200
    assert AuditEntry.objects.count() == 1


def test_malformed_bodies_get_the_one_error_format(api):
    resp = api.http.post("/api/v1/enrollments/sync", "{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "parse_error"
    resp = api.post("enrollments/sync", {"rows": "nope", "mode": "sideways"})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "invalid"
    assert {d["field"] for d in err["details"]} == {"rows", "mode"}
    assert all(set(d) >= {"field", "code", "message"} for d in err["details"])


def test_ids_past_the_database_range_are_not_found(api):
    huge = 10**30
    assert api.get(f"webhooks/{huge}").status_code == 404
    assert api.post(f"webhooks/{huge}/deliveries/{huge}/replay").status_code == 404


def test_nul_characters_are_refused_as_field_errors(api):
    course = CourseFactory()
    resp = api.post("enrollments/sync", {"rows": [row("s\x001", course.code)]})
    assert resp.status_code == 400
    assert resp.json()["error"]["details"][0]["field"] == "external_id"
    assert api.get("learners/a%00b").status_code == 404
