import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from courses.models import Enrollment
from integrations.models import AuditEntry
from roster.models import RosterEnrollment
from tests.factories import CourseFactory

from .conftest import Api

MANIFEST_12 = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
H = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,"
    "subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
    "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,"
    "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate",
}
USERS_11 = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)


def package(*, course_code, students, mode="bulk", version="1.2", teacher=True, extra=None, bad_user_email=None):
    """A OneRoster CSV zip: one school, one term, one course and class, the given students."""
    status, stamp = ("", "") if mode == "bulk" else ("active", "2026-11-01T10:00:00.000Z")
    files = {
        "orgs": [f"sch1,{status},{stamp},Faculté de médecine,school,FM,"],
        "academicSessions": [f"t1,{status},{stamp},Automne 2026,term,2026-09-01,2027-01-31,,2027"],
        "courses": [f"crs1,{status},{stamp},,Data science,{course_code},,sch1,,"],
        "classes": [f"cls1,{status},{stamp},Data science A,,crs1,,scheduled,,sch1,t1,,,"],
        "users": [],
        "roles": [],
        "enrollments": [],
    }
    people = [(sid, email, "student") for sid, email in students] + ([("tch1", "t@x.ma", "teacher")] if teacher else [])
    for sid, email, role in people:
        if version == "1.2":
            files["users"].append(f"{sid},{status},{stamp},true,{sid},,Given {sid},Family,,,{email},,,,,,,,,,,")
            files["roles"].append(f"r-{sid},{status},{stamp},{sid},primary,{role},,,sch1,")
        else:
            files["users"].append(f"{sid},{status},{stamp},true,sch1,{role},{sid},,Given {sid},Family,,,{email},,,,,")
        files["enrollments"].append(f"e-{sid},{status},{stamp},cls1,sch1,{sid},{role},,,")
    for name, lines in (extra or {}).items():
        files[name] += lines
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        names = [n for n in files if not (n == "roles" and version == "1.1")]
        manifest = MANIFEST_12.replace("1.2", version) + "".join(f"file.{n},{mode}\n" for n in names)
        zf.writestr("manifest.csv", "\ufeff" + manifest)
        for name in names:
            header = USERS_11 if (name == "users" and version == "1.1") else H[name]
            zf.writestr(f"{name}.csv", "\r\n".join([header, *files[name]]) + "\r\n")
    return buf.getvalue()


def upload(api, data, **fields):
    f = io.BytesIO(data)
    f.name = "roster.zip"
    return api.http.post("/api/v1/oneroster/imports", {"file": f, **fields})


@pytest.fixture
def course(db):
    return CourseFactory(code="ds-101")


def test_bulk_package_creates_learners_and_enrollments_and_skips_teachers(api, org, course):
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma"), ("s2", "s2@u.ma")]))
    assert resp.status_code == 200, resp.json()
    body = resp.json()
    assert body["counts"]["created"] == 2 and body["mode"] == "full"
    assert body["oneroster"]["skipped"]["teachers"] == 1
    assert set(Enrollment.objects.values_list("user__external_id", "source")) == {
        ("s1", "oneroster"),
        ("s2", "oneroster"),
    }
    assert User.objects.get(external_id="s1").full_name == "Given s1 Family"
    assert AuditEntry.objects.get().endpoint == "oneroster/imports"


def test_a_later_bulk_package_drops_the_absent_and_a_delta_drops_tobedeleted(api, org, course, settings):
    settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE = 0.5
    upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma"), ("s2", "s2@u.ma"), ("s3", "s3@u.ma")]))
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma"), ("s2", "s2@u.ma")]))
    assert resp.json()["counts"]["dropped"] == 1
    assert Enrollment.objects.get(user__external_id="s3").status == "dropped"

    delta = package(
        course_code="ds-101",
        students=[],
        mode="delta",
        teacher=False,
        extra={"enrollments": ["e-s1,tobedeleted,2026-11-02T10:00:00.000Z,cls1,sch1,s1,student,,,"]},
    )
    resp = upload(api, delta)
    assert resp.status_code == 200, resp.json()
    assert resp.json()["mode"] == "upsert"
    assert Enrollment.objects.get(user__external_id="s1").status == "dropped"
    assert Enrollment.objects.get(user__external_id="s2").status == "active"


def test_a_oneroster_11_package_is_accepted(api, org, course):
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma")], version="1.1"))
    assert resp.status_code == 200, resp.json()
    assert resp.json()["oneroster"]["version"] == "1.1"
    assert Enrollment.objects.filter(user__external_id="s1").exists()


def test_every_bad_row_is_named_by_file_line_and_column_and_nothing_is_written(api, org, course):
    data = package(
        course_code="ds-101",
        students=[("s1", "s1@u.ma")],
        extra={
            "users": [",,,true,nobody,,A,B,,,x@u.ma,,,,,,,,,,,"],  # line 4: no sourcedId
            "enrollments": [
                "e-x,,,cls-missing,sch1,s1,student,,,",  # line 4
                "e-y,,,cls1,sch1,s1,pupil,,,",  # line 5
            ],
            "classes": ["cls2,,,Other,,crs1,zz-unknown,scheduled,,sch1,t1,,,"],
        },
    )
    resp = upload(api, data)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "invalid_package"
    got = {(d["file"], d["line"], d["column"], d["code"]) for d in err["details"]}
    assert ("users.csv", 4, "sourcedId", "required") in got
    assert ("enrollments.csv", 5, "role", "invalid_choice") in got
    assert not User.objects.exists() and not Enrollment.objects.exists()

    # Reference errors are found once the rows themselves are well-formed.
    data = package(
        course_code="ds-101",
        students=[("s1", "s1@u.ma")],
        extra={"enrollments": ["e-x,,,cls-missing,sch1,s1,student,,,"]},
    )
    details = upload(api, data).json()["error"]["details"]
    assert details == [
        {
            "file": "enrollments.csv",
            "line": 4,
            "column": "classSourcedId",
            "field": "classSourcedId",
            "code": "invalid_reference",
            "message": details[0]["message"],
        }
    ]


def test_an_unmapped_class_is_kept_and_reported_and_a_taken_email_is_no_error(api, org, other_org, course):
    from tests.factories import UserFactory

    # A taken address is not a row error (issue 12: that told the university the address has an
    # account); the account is left alone (tests/integrations/test_sync_accounts.py).
    theirs = UserFactory(email="taken@u.ma", organization=other_org)
    data = package(course_code="ds-101", students=[("s1", "s1@u.ma"), ("s2", "taken@u.ma")])
    resp = upload(api, data)
    assert resp.status_code == 200 and resp.json()["learners"]["created"] == 2
    assert not Enrollment.objects.filter(user=theirs).exists()
    # A class mapping onto none of our courses is stored and reported, not refused.
    other = Api(other_org)
    resp = upload(other, package(course_code="nope", students=[("s1", "s1@u.ma")]))
    assert resp.status_code == 200, resp.json()
    assert resp.json()["oneroster"]["unmapped"] == {
        "classes": {"count": 1, "sourced_ids": ["cls1"]},
        "courses": {"count": 1, "sourced_ids": ["crs1"]},
    }
    assert RosterEnrollment.objects.filter(organization=other_org, sourced_id="e-s1", is_active=True).exists()
    assert not Enrollment.objects.filter(user__organization=other_org).exists()


def test_wrong_headers_missing_files_and_non_zips_are_refused(api, org, course):
    assert upload(api, b"not a zip").json()["error"]["code"] == "not_a_zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.csv", MANIFEST_12 + "file.users,bulk\nfile.enrollments,bulk\n")
        zf.writestr("users.csv", "sourcedid,status\n")
    details = upload(api, buf.getvalue()).json()["error"]["details"]
    got = {(d["file"], d["line"], d["column"], d["code"]) for d in details}
    assert ("users.csv", 1, "sourcedId", "header") in got
    assert ("enrollments.csv", None, None, "missing") in got  # about the whole file: no line


def test_a_manifest_with_the_wrong_versions_is_refused(api, org, course):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.csv", "propertyName,value\nmanifest.version,2.0\noneroster.version,3.0\n")
    details = upload(api, buf.getvalue()).json()["error"]["details"]
    assert [(d["file"], d["line"], d["code"]) for d in details] == [
        ("manifest.csv", 2, "version"),
        ("manifest.csv", 3, "version"),
    ]


def test_zip_entry_paths_are_never_followed_and_sizes_are_capped(api, org, course, settings, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("sub/manifest.csv", MANIFEST_12)  # below the root: ignored
    details = upload(api, buf.getvalue()).json()["error"]["details"]
    assert details[0]["file"] == "manifest.csv" and details[0]["code"] == "missing"
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("../../manifest.csv", MANIFEST_12)  # could leave the root: the package is refused
    details = upload(api, buf.getvalue()).json()["error"]["details"]
    assert [(d["file"], d["line"], d["code"]) for d in details] == [(None, None, "unsafe_entry")]
    assert "«../../manifest.csv»" in details[0]["message"]

    settings.ONEROSTER_MAX_ENTRY_BYTES = 500
    big = package(course_code="ds-101", students=[(f"s{i}", f"s{i}@u.ma") for i in range(20)])
    details = upload(api, big).json()["error"]["details"]
    assert {d["code"] for d in details} == {"too_large"}

    settings.ONEROSTER_MAX_UPLOAD_BYTES = 100
    resp = upload(api, big)
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_large"


def test_import_oneroster_command_imports_and_names_bad_rows(org, course, tmp_path, capsys):
    good = tmp_path / "good.zip"
    good.write_bytes(package(course_code="ds-101", students=[("s1", "s1@u.ma")]))
    call_command("import_oneroster", str(good), "--org", org.slug)
    assert "1 created" in capsys.readouterr().out
    assert Enrollment.objects.filter(user__external_id="s1", source="oneroster").exists()

    bad = tmp_path / "bad.zip"
    bad.write_bytes(package(course_code="ds-101", students=[("s2", "")]))
    with pytest.raises(CommandError):
        call_command("import_oneroster", str(bad), "--org", org.slug)
    assert "users.csv:2:email: " in capsys.readouterr().err


def test_only_the_first_errors_are_listed_and_every_error_is_counted(api, org, course, settings):
    settings.ONEROSTER_MAX_ERRORS = 3
    bad = [f"u{i},,,true,u{i},,A,B,,,u{i}@u.ma,,,,,,,,,,," for i in range(10)]  # 10 lines, 22 fields
    bad = [line.replace(",true,", ",maybe,") for line in bad]  # enabledUser must be true or false
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma")], extra={"users": bad}))
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["errors_total"] == 10
    assert [(d["file"], d["line"], d["column"]) for d in err["details"]] == [
        ("users.csv", 4, "enabledUser"),
        ("users.csv", 5, "enabledUser"),
        ("users.csv", 6, "enabledUser"),
    ]
    assert "10 errors;" in err["message"] and "7 more" in err["message"]
    assert not User.objects.exists()


def _lie_about_sizes(data: bytes, entry: str, size: int) -> bytes:
    """Rewrite the zip's local and central headers of `entry` to claim `size` inflated bytes."""
    import struct

    out = bytearray(data)
    name = entry.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(entry)
    struct.pack_into("<I", out, info.header_offset + 22, size)  # local file header
    central = out.index(b"PK\x01\x02")
    while True:  # the central directory record naming this entry
        n = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46 : central + 46 + n]) == name:
            break
        central = out.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def _entry_headers(data: bytes, entry: str, *, flags: int = 0, method: int | None = None) -> bytes:
    """Rewrite `entry`'s local and central headers: add general-purpose `flags` (1: encrypted),
    set the compression `method` (99: AES, which zipfile cannot read)."""
    import struct

    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(entry)
    offsets = [(info.header_offset + 6, info.header_offset + 8)]  # local header: flags, method
    central = out.index(b"PK\x01\x02")
    while bytes(out[central + 46 : central + 46 + len(entry)]) != entry.encode():
        central = out.index(b"PK\x01\x02", central + 4)
    offsets.append((central + 8, central + 10))
    for flag_at, method_at in offsets:
        struct.pack_into("<H", out, flag_at, struct.unpack_from("<H", out, flag_at)[0] | flags)
        if method is not None:
            struct.pack_into("<H", out, method_at, method)
    return bytes(out)


@pytest.mark.parametrize("headers", [{"flags": 1}, {"method": 99}], ids=["encrypted", "unknown-compression"])
def test_an_entry_zipfile_cannot_open_is_named_not_a_500(api, org, course, headers):
    data = _entry_headers(package(course_code="ds-101", students=[("s1", "s1@u.ma")]), "users.csv", **headers)
    resp = upload(api, data)
    assert resp.status_code == 400, resp.content[:300]
    assert ("users.csv", "unreadable") in {(d["file"], d["code"]) for d in resp.json()["error"]["details"]}
    assert not User.objects.exists() and not Enrollment.objects.exists()


def test_an_entry_whose_headers_understate_its_size_is_refused_without_inflating_it(api, org, course, settings):
    settings.ONEROSTER_MAX_ENTRY_BYTES = 4096
    students = [(f"s{i}", f"s{i}@u.ma") for i in range(200)]  # users.csv: about 20 KB
    lying = _lie_about_sizes(package(course_code="ds-101", students=students), "users.csv", 100)
    resp = upload(api, lying)
    assert resp.status_code == 400
    codes = {(d["file"], d["code"]) for d in resp.json()["error"]["details"]}
    assert ("users.csv", "unreadable") in codes or ("users.csv", "too_large") in codes
    assert not User.objects.exists() and not Enrollment.objects.exists()


def test_a_line_longer_than_any_record_is_refused_by_file_and_line(api, org, course):
    long_line = "a," * 40_000  # 80 KB without an end of line
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma")], extra={"courses": [long_line]}))
    assert resp.status_code == 400
    details = resp.json()["error"]["details"]
    assert [(d["file"], d["line"], d["code"]) for d in details] == [("courses.csv", 3, "max_length")]


def test_users_no_enrollment_names_are_checked_but_not_kept(api, org, course):
    extra_users = [f"x{i},,,true,x{i},,A,B,,,x{i}@u.ma,,,,,,,,,,," for i in range(50)]
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma")], extra={"users": extra_users}))
    assert resp.status_code == 200, resp.json()
    assert list(User.objects.values_list("external_id", flat=True)) == ["s1"]
    # A duplicate sourcedId is still an error, even among users nobody enrolls.
    resp = upload(
        api, package(course_code="ds-101", students=[("s1", "s1@u.ma")], extra={"users": extra_users[:1] * 2})
    )
    details = resp.json()["error"]["details"]
    assert [(d["file"], d["column"], d["code"]) for d in details] == [("users.csv", "sourcedId", "duplicate")]


def test_more_student_enrollments_than_one_sync_takes_are_synced_in_chunks(api, org, course, settings):
    settings.INTEGRATIONS_SYNC_MAX_ROWS = 2
    students = [(f"s{i}", f"s{i}@u.ma") for i in range(5)]
    resp = upload(api, package(course_code="ds-101", students=students))
    assert resp.status_code == 200, resp.json()
    assert resp.json()["counts"]["created"] == 5
    assert Enrollment.objects.filter(course=course, status="active").count() == 5


def test_the_command_says_how_many_errors_it_did_not_list(org, course, tmp_path, capsys, settings):
    settings.ONEROSTER_MAX_ERRORS = 2
    bad = tmp_path / "bad.zip"
    bad.write_bytes(package(course_code="ds-101", students=[(f"s{i}", "") for i in range(5)]))
    with pytest.raises(CommandError, match="bad.zip: The OneRoster package has 5 error"):
        call_command("import_oneroster", str(bad), "--org", org.slug)
    err = capsys.readouterr().err
    assert err.count(":email: ") == 2
    assert "and 3 more errors" in err
