"""The API's edges: whatever a client sends (unencodable text, deep nesting, a body too big, a
path that names nothing, a wrong method or content type), the answer is the API's one JSON error
format, never a 500 or the website's HTML page."""

import json

import pytest
from django.test import Client
from django.urls import get_resolver

from accounts.models import User
from courses.models import Enrollment
from integrations.api.errors import error_body
from integrations.models import AuditEntry, IdempotencyRecord, WebhookSubscription
from integrations.services.sync_rows import MAX_LENGTH
from integrations.text import safe_text
from kernel.models import OutboxEvent
from tests.factories import CourseFactory

from .conftest import row

SURROGATE = "\\ud800"  # the JSON escape of a lone surrogate, as raw request text
NUL = "\\u0000"


def raw_post(api, path, text, **kw):
    return api.http.post(f"/api/v1/{path}", text, content_type="application/json", **kw)


def error_of(resp, status):
    assert resp.status_code == status, resp.content[:500]
    assert resp["Content-Type"].startswith("application/json"), resp["Content-Type"]
    err = json.loads(resp.content)["error"]
    assert err["status"] == status
    assert set(err) >= {"status", "code", "message", "details"}
    return err


def _sync_text(rows_text: str) -> str:
    return '{"rows": [' + rows_text + "]}"


def _row_text(course, **override) -> str:
    fields = {**row("s1", course), **override}
    return "{" + ", ".join(f'"{k}": "{v}"' for k, v in fields.items()) + "}"


@pytest.mark.parametrize("bad", [SURROGATE, NUL])
@pytest.mark.parametrize("field", ["external_id", "email", "given_name", "family_name", "course_code"])
def test_a_lone_surrogate_or_nul_in_any_sync_field_is_a_field_error_naming_row_and_field(api, field, bad):
    course = CourseFactory()
    good = _row_text(course.code)
    bad_row = _row_text(course.code, **{"external_id": "s2", "email": "s2@univ.example.ma", field: f"a{bad}b"})
    resp = raw_post(api, "enrollments/sync", _sync_text(", ".join([good, good.replace("s1", "s3"), bad_row])))
    err = error_of(resp, 400)
    assert err["details"] == [
        {"row": 2, "field": field, "code": "invalid_character", "message": err["details"][0]["message"]}
    ]
    assert "\ud800" not in resp.content.decode()
    assert not User.objects.filter(external_id__in=["s1", "s2", "s3"]).exists()
    assert not Enrollment.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("bad", [SURROGATE, NUL])
def test_a_lone_surrogate_or_nul_anywhere_in_a_body_is_a_field_error_with_its_path(api, bad):
    resp = raw_post(api, "webhooks", '{"url": "https://h.example.ma/' + bad + '", "event_types": ["grade.created"]}')
    err = error_of(resp, 400)
    assert err["code"] == "invalid"
    assert [d["field"] for d in err["details"]] == ["url"]
    assert not WebhookSubscription.objects.exists()

    resp = raw_post(api, "webhooks", '{"url": "https://h.example.ma/", "event_types": ["a' + bad + '"]}')
    assert [d["field"] for d in error_of(resp, 400)["details"]] == ["event_types.0"]

    # In a key too, and in the sync's envelope.
    resp = raw_post(api, "enrollments/sync", '{"rows": [], "mo' + bad + 'de": "full"}')
    assert error_of(resp, 400)["details"][0]["code"] == "invalid_character"
    resp = raw_post(api, "enrollments/sync", '{"rows": [], "mode": "full' + bad + '"}')
    assert [d["field"] for d in error_of(resp, 400)["details"]] == ["mode"]


@pytest.mark.parametrize("key", ["\ud800", "a\x00b", "caf\u00e9\ud800"])
def test_an_unencodable_idempotency_key_is_a_field_error(api, key):
    course = CourseFactory()
    resp = api.post("enrollments/sync", {"rows": [row("s1", course.code)]}, headers={"Idempotency-Key": key})
    err = error_of(resp, 400)
    assert [d["field"] for d in err["details"]] == ["Idempotency-Key"]
    assert not IdempotencyRecord.objects.exists() and not Enrollment.objects.exists()


def test_a_valid_surrogate_pair_is_text_like_any_other(api):
    course = CourseFactory()
    resp = raw_post(api, "enrollments/sync", _sync_text(_row_text(course.code, given_name="Amina \\ud83d\\ude00")))
    assert resp.status_code == 200, resp.json()
    assert User.objects.get(external_id="s1").full_name == "Amina \U0001f600 Alaoui"


def test_an_error_message_never_echoes_an_unencodable_character():
    # A choice error echoes the value it refuses ("x" is not a valid choice). The parser refuses
    # such text first; the one error format holds on its own as well, for any other input path.
    assert safe_text("x\ud800y") == "x\\ud800y"
    body = error_body(status=400, code="invalid", message="a\ud800", details=[{"field": "f\udfff", "message": "m"}])
    json.dumps(body, ensure_ascii=False).encode()  # would raise UnicodeEncodeError unescaped
    assert body["error"]["message"] == "a\\ud800"


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_too_deep_is_refused_before_parsing(api, opening):
    closing = "]" if opening == "[" else "}"
    text = opening * 10000 + "1" + closing * 10000
    err = error_of(raw_post(api, "enrollments/sync", text), 400)
    assert err["code"] == "too_deep"
    assert "64" in err["message"]
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("text", ["[" * 10000, '{"rows": ' + '[{"a": ' * 5000, "[]" * 5000 + "[" * 65 + "]" * 64])
def test_json_left_open_too_deep_is_refused_too(api, text):
    """Never closed, or closed one short: Python's parser would still recurse into every level."""
    assert error_of(raw_post(api, "enrollments/sync", text), 400)["code"] == "too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    course = CourseFactory()
    resp = api.post("enrollments/sync", {"rows": [row("s1", course.code, given="[[[[{{{{" * 10 + '\\"[')]})
    assert resp.status_code == 200, resp.json()


def test_nesting_at_the_limit_is_parsed(api):
    text = '{"rows": ' + "[" * 63 + "]" * 63 + "}"  # depth 64: parsed, then refused as rows
    err = error_of(raw_post(api, "enrollments/sync", text), 400)
    assert err["code"] in {"invalid", "invalid_rows"}


def test_malformed_json_says_where_in_our_words(api):
    err = error_of(raw_post(api, "enrollments/sync", '{"rows": [\n  {"a": }]}'), 400)
    assert err["code"] == "parse_error"
    assert "line 2" in err["message"]
    assert "Expecting" not in err["message"]  # not Python's own text
    err = error_of(api.http.post("/api/v1/enrollments/sync", b"\xff\xfe", content_type="application/json"), 400)
    assert err["code"] == "parse_error" and "codec" not in err["message"]


def test_an_unknown_path_under_api_is_a_json_404(api):
    for path in ["/api/v1/nope", "/api/v2/enrollments", "/api/", "/api/v1/courses/x/y/z"]:
        err = error_of(api.http.get(path), 404)
        assert err["code"] == "not_found"
    anonymous = Client().get("/api/v1/nope")
    assert error_of(anonymous, 404)["code"] == "not_found"
    # The website keeps its HTML page.
    page = Client().get("/no-such-page")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_json_405(api):
    err = error_of(api.http.put("/api/v1/enrollments/sync", "{}", content_type="application/json"), 405)
    assert err["code"] == "method_not_allowed"
    assert "POST" in api.http.put("/api/v1/enrollments/sync")["Allow"]


def test_a_wrong_content_type_is_a_json_415(api):
    err = error_of(api.http.post("/api/v1/enrollments/sync", "rows=1", content_type="text/plain"), 415)
    assert err["code"] == "unsupported_media_type"


def test_a_body_over_the_upload_limit_is_a_json_413(api, settings):
    big = json.dumps({"url": "https://h.example.ma/" + "a" * (6 * 1024 * 1024), "event_types": ["grade.created"]})
    err = error_of(raw_post(api, "webhooks", big), 413)
    assert err["code"] == "body_too_large"
    assert not WebhookSubscription.objects.exists()
    # Anonymous too: the body is refused before anything else is read.
    error_of(Client().post("/api/v1/webhooks", big, content_type="application/json"), 413)
    # And a form body that Django itself parses.
    files = api.http.post("/api/v1/oneroster/imports", {"dry_run": "x" * (6 * 1024 * 1024)})
    assert error_of(files, 413)["code"] == "body_too_large"


def test_a_server_error_under_api_is_a_json_500_and_the_website_keeps_its_page(rf):
    handler500 = get_resolver().resolve_error_handler(500)
    resp = handler500(rf.get("/api/v1/courses"))
    err = error_of(resp, 500)
    assert err["code"] == "server_error"
    page = handler500(rf.get("/learning/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def _batch_at_every_maximum(course_code: str, n: int) -> list[dict]:
    """n rows at every documented maximum (sync_rows.MAX_LENGTH), names in Arabic: sent with
    Python's json.dumps defaults, each of their characters is a 6-byte \\u escape."""
    rows = []
    for i in range(n):
        ext = f"{i:06d}".ljust(MAX_LENGTH["external_id"], "x")
        local = f"{i:06d}".ljust(64, "a")  # an address's local part is at most 64 characters
        domain = "d" * 63 + "." + "d" * 63 + "." + "e" * (MAX_LENGTH["email"] - 64 - 1 - 128 - 3) + ".ma"
        email = f"{local}@{domain}"
        rows.append(
            {
                "external_id": ext,
                "email": email,
                "given_name": "\u0623" * MAX_LENGTH["given_name"],
                "family_name": "\u0628" * MAX_LENGTH["family_name"],
                "course_code": course_code,
                "status": "completed-elsewhere",
            }
        )
    assert {len(v) for v in rows[0].values()} >= {MAX_LENGTH[f] for f in MAX_LENGTH}
    return rows


def test_a_full_batch_at_every_field_maximum_is_accepted_and_one_byte_over_the_limit_is_a_413(api, settings):
    course = CourseFactory(code="c" * MAX_LENGTH["course_code"])
    rows = _batch_at_every_maximum(course.code, settings.INTEGRATIONS_SYNC_MAX_ROWS)
    body = json.dumps({"rows": rows, "dry_run": True})
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) <= settings.INTEGRATIONS_SYNC_MAX_BODY_BYTES
    resp = raw_post(api, "enrollments/sync", body)
    assert resp.status_code == 200, resp.content[:1000]
    assert resp.json()["counts"]["created"] == settings.INTEGRATIONS_SYNC_MAX_ROWS
    assert resp.json()["learners"]["created"] == settings.INTEGRATIONS_SYNC_MAX_ROWS
    assert not User.objects.filter(organization=api.organization).exists()  # a dry run

    over = body[:-1] + " " * (settings.INTEGRATIONS_SYNC_MAX_BODY_BYTES - len(body) + 1) + "}"
    assert len(over) == settings.INTEGRATIONS_SYNC_MAX_BODY_BYTES + 1
    err = error_of(raw_post(api, "enrollments/sync", over), 413)
    assert err["code"] == "body_too_large"
    # The rest of the API keeps the site's limit.
    err = error_of(raw_post(api, "webhooks", body), 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in err["message"]


def test_a_full_sync_drop_carries_the_learners_email(api, org):
    course = CourseFactory()
    rows = [row(f"s{i}", course.code) for i in range(10)]
    assert api.post("enrollments/sync", {"rows": rows}).status_code == 200
    resp = api.post("enrollments/sync", {"rows": rows[1:], "mode": "full"})
    assert resp.json()["counts"]["dropped"] == 1
    event = OutboxEvent.objects.filter(event_type="enrollment.changed", payload__status="dropped").get()
    assert event.payload["learner"] == {"external_id": "s0", "email": "s0@univ.example.ma"}
    assert event.payload["previous_status"] == "active"
    assert event.user_id == User.objects.get(external_id="s0").pk


def test_an_unreadable_multipart_body_is_a_json_400_in_our_words(api):
    resp = api.http.post("/api/v1/oneroster/imports", data=b"not a form", content_type="multipart/form-data")
    assert resp.status_code == 400 and resp["Content-Type"].startswith("application/json")
    message = resp.json()["error"]["message"]
    assert message.startswith("The multipart/form-data body cannot be read") and "boundary" not in message
