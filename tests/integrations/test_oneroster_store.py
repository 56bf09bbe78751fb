"""The OneRoster import stores the whole roster (roster app), keyed by university and sourcedId:
bulk files deactivate what they omit, deltas upsert and refer to what earlier imports stored (of
the same university only), unmapped classes are kept and reported, teachers become instructors
where the university may, and a refused package changes nothing but one refused audit entry."""

import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import OrganizationMembership, User
from courses.models import Enrollment
from integrations.models import AuditEntry, LearnerInvite, RosterPolicy
from integrations.services.oneroster import OneRosterRefused, oneroster_import
from integrations.services.sync import DropThresholdExceeded
from privacy.services.erasure import account_erase
from roster.models import (
    AcademicSession,
    Org,
    RosterClass,
    RosterCourse,
    RosterEnrollment,
    RosterInstructor,
    RosterRole,
    RosterUser,
)
from scripts.oneroster_packages import COURSE_CODES, big_package, build_packages
from tests.factories import CourseFactory, UserFactory

from .test_oneroster import MANIFEST_12, USERS_11, H

BULK = ("", "")
DELTA = ("active", "2026-11-02T10:00:00.000Z")
GONE = ("tobedeleted", "2026-11-03T10:00:00.000Z")


def user_line(sid, email, stamp=BULK, org="sch1", given=None):
    status, when = stamp
    return f"{sid},{status},{when},true,{sid},,{given or 'Given ' + sid},Family,,,{email},,,,,,,,,,{org},"


def enr_line(sid, cls, user, role="student", stamp=BULK):
    status, when = stamp
    return f"{sid},{status},{when},{cls},sch1,{user},{role},,,"


def base_files(stamp=BULK, *, students=("s1", "s2"), teacher=True, course_code="ds-101", extra_users=()):
    status, when = stamp
    users = [user_line(s, f"{s}@u.ma", stamp) for s in (*students, *extra_users)]
    enrollments = [enr_line(f"e-{s}", "cls1", s, stamp=stamp) for s in students]
    roles = [f"r-{s},{status},{when},{s},primary,student,,,sch1," for s in (*students, *extra_users)]
    if teacher:
        users.append(user_line("tch1", "t@u.ma", stamp))
        enrollments.append(enr_line("e-tch1", "cls1", "tch1", role="teacher", stamp=stamp))
        roles.append(f"r-tch1,{status},{when},tch1,primary,teacher,,,sch1,")
    return {
        "orgs": [
            f"dist1,{status},{when},Université A,district,UA,",
            f"sch1,{status},{when},Faculté de médecine,school,FM,dist1",
        ],
        "academicSessions": [
            f"y27,{status},{when},2026-2027,schoolYear,2026-09-01,2027-06-30,,2027",
            f"t1,{status},{when},Automne 2026,term,2026-09-01,2027-01-31,y27,2027",
            f"t2,{status},{when},Printemps 2027,term,2027-02-01,2027-06-30,y27,2027",
        ],
        "courses": [f"crs1,{status},{when},y27,Data science,{course_code},,sch1,,"],
        "classes": [f'cls1,{status},{when},Data science A,,crs1,,scheduled,B12,sch1,"t1,t2",,,'],
        "users": users,
        "roles": roles,
        "enrollments": enrollments,
    }


def zip_of(files: dict, *, mode="bulk", version="1.2", modes=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        names = [n for n in H if n in files and not (n == "roles" and version == "1.1")]
        manifest = MANIFEST_12.replace("1.2", version) + "".join(
            f"file.{n},{(modes or {}).get(n, mode)}\n" for n in names
        )
        zf.writestr("manifest.csv", manifest)
        for name in names:
            header = USERS_11 if (name == "users" and version == "1.1") else H[name]
            zf.writestr(f"{name}.csv", "\r\n".join([header, *files[name]]) + "\r\n")
    return buf.getvalue()


def run(org, data, **kw):
    return oneroster_import(organization=org, fileobj=io.BytesIO(data), size=len(data), endpoint="test", **kw)


@pytest.fixture
def course(db):
    return CourseFactory(code="ds-101")


def test_every_file_is_stored_with_its_references(org, course):
    body = run(org, zip_of(base_files(extra_users=("nobody",))))
    sch = Org.objects.get(organization=org, sourced_id="sch1")
    assert sch.parent.sourced_id == "dist1" and sch.parent.type == "district" and sch.type == "school"
    t1 = AcademicSession.objects.get(organization=org, sourced_id="t1")
    assert (str(t1.start_date), str(t1.end_date), t1.school_year, t1.parent.sourced_id) == (
        "2026-09-01", "2027-01-31", "2027", "y27",
    )  # fmt: skip
    rc = RosterCourse.objects.get(organization=org, sourced_id="crs1")
    assert (rc.course_code, rc.org, rc.school_year.sourced_id, rc.course) == ("ds-101", sch, "y27", course)
    cls = RosterClass.objects.get(organization=org, sourced_id="cls1")
    assert cls.roster_course == rc and cls.school == sch and cls.course == course and cls.location == "B12"
    assert sorted(cls.terms.values_list("sourced_id", flat=True)) == ["t1", "t2"]
    # Every user, even one no enrollment names; name and address kept; linked once an account exists.
    nobody = RosterUser.objects.get(organization=org, sourced_id="nobody")
    assert (nobody.given_name, nobody.email, nobody.user, nobody.role) == (
        "Given nobody",
        "nobody@u.ma",
        None,
        "student",
    )
    s1 = RosterUser.objects.get(organization=org, sourced_id="s1")
    assert s1.user == User.objects.get(external_id="s1") and s1.primary_org == sch
    assert RosterUser.objects.get(sourced_id="tch1").role == "teacher"
    assert RosterRole.objects.filter(organization=org).count() == 4
    assert set(RosterEnrollment.objects.values_list("sourced_id", "role")) == {
        ("e-s1", "student"), ("e-s2", "student"), ("e-tch1", "teacher"),
    }  # fmt: skip
    assert body["oneroster"]["roster"]["users"] == {"created": 4, "updated": 0, "unchanged": 0, "deactivated": 0}
    assert body["counts"]["created"] == 2


def test_a_oneroster_11_users_file_maps_onto_the_same_model(org, course):
    files = base_files()
    files["users"] = [
        "s1,,,true,sch1,student,s1,,Amina,Alaoui,,,s1@u.ma,,,,,",
        "tch1,,,true,sch1,teacher,tch1,,Karim,Bennani,,,t@u.ma,,,,,",
        "s2,,,true,sch1,student,s2,,B,C,,,s2@u.ma,,,,,",
    ]
    run(org, zip_of(files, version="1.1"))
    tch = RosterUser.objects.get(organization=org, sourced_id="tch1")
    assert (tch.role, tch.primary_org.sourced_id, tch.given_name) == ("teacher", "sch1", "Karim")
    assert Enrollment.objects.filter(user__external_id="s1", course=course).exists()


def test_the_same_bulk_again_changes_nothing_and_says_so(org, course):
    data = zip_of(base_files())
    run(org, data)
    stamps = dict(RosterEnrollment.objects.values_list("sourced_id", "updated_at"))
    body = run(org, data)
    for name, counts in body["oneroster"]["roster"].items():
        assert counts["created"] == counts["updated"] == counts["deactivated"] == 0, name
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "dropped": 0}
    assert dict(RosterEnrollment.objects.values_list("sourced_id", "updated_at")) == stamps


def test_a_bulk_deactivates_what_it_omits_and_a_delta_upserts_against_what_is_stored(org, course, settings):
    settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE = 0.5
    run(org, zip_of(base_files(students=("s1", "s2", "s3"))))
    body = run(org, zip_of(base_files(students=("s1", "s2"))))
    assert body["oneroster"]["roster"]["enrollments"]["deactivated"] == 1
    assert not RosterEnrollment.objects.get(sourced_id="e-s3").is_active  # kept, not deleted
    assert not RosterUser.objects.get(sourced_id="s3").is_active
    assert Enrollment.objects.get(user__external_id="s3").status == "dropped"
    assert body["counts"]["dropped"] == 1

    # A delta naming only an enrollment and a new user: the class and school come from the DB.
    delta = {
        "users": [user_line("s4", "s4@u.ma", DELTA)],
        "enrollments": [enr_line("e-s4", "cls1", "s4", stamp=DELTA), enr_line("e-s1", "cls1", "s1", stamp=GONE)],
    }
    body = run(org, zip_of(delta, mode="delta"))
    assert Enrollment.objects.get(user__external_id="s4").status == "active"
    assert Enrollment.objects.get(user__external_id="s1").status == "dropped"
    assert Enrollment.objects.get(user__external_id="s2").status == "active"
    assert RosterEnrollment.objects.filter(is_active=True).count() == 3  # s2, s4, tch1
    assert RosterUser.objects.get(sourced_id="s1").is_active  # only its enrollment went


def test_a_delta_never_resolves_to_another_universitys_records_and_a_late_refusal_changes_nothing(
    org, other_org, course
):
    run(other_org, zip_of(base_files()))  # the other university has cls1, s1...
    run(org, zip_of(base_files(students=("s1",), teacher=False)))
    before = {
        m.__name__: m.objects.count()
        for m in (Org, RosterClass, RosterUser, RosterEnrollment, User, Enrollment, LearnerInvite)
    }
    audit_before = AuditEntry.objects.count()
    delta = {
        "orgs": [f"sch9,{DELTA[0]},{DELTA[1]},New school,school,,dist1"],  # valid: would be stored
        "users": [user_line("s7", "s7@u.ma", DELTA)],
        "enrollments": [
            enr_line("e-s7", "cls1", "s7", stamp=DELTA),  # fine
            enr_line("e-x", "cls1", "tch1", role="teacher", stamp=DELTA),  # tch1 is the other university's
        ],
    }
    with pytest.raises(OneRosterRefused) as caught:
        run(org, zip_of(delta, mode="delta"))
    details = caught.value.extra["details"]
    assert [(d["file"], d["line"], d["column"], d["code"]) for d in details] == [
        ("enrollments.csv", 3, "userSourcedId", "invalid_reference")
    ]
    assert '"tch1"' in details[0]["message"]
    after = {m.__name__: m.objects.count() for m in (Org, RosterClass, RosterUser, RosterEnrollment, User, Enrollment,
                                                      LearnerInvite)}  # fmt: skip
    assert after == before
    assert AuditEntry.objects.count() == audit_before + 1
    refused = AuditEntry.objects.order_by("-id").first()
    assert (refused.action, refused.counts, refused.organization) == ("oneroster.import.refused", {"errors": 1}, org)
    assert not AuditEntry.objects.filter(organization=org, action="oneroster.import", id__gt=refused.id).exists()


def test_an_unmapped_class_keeps_its_students_until_the_admin_maps_its_course(org, course):
    body = run(org, zip_of(base_files(course_code="SIS-DS")))
    assert body["oneroster"]["unmapped"]["classes"] == {"count": 1, "sourced_ids": ["cls1"]}
    assert RosterEnrollment.objects.filter(role="student", is_active=True).count() == 2
    assert not Enrollment.objects.exists() and not User.objects.filter(external_id="s1").exists()

    admin = UserFactory(organization=org)
    OrganizationMembership.objects.create(user=admin, organization=org)
    stranger = UserFactory(organization=org)
    with pytest.raises(CommandError):
        call_command("oneroster_map_course", "crs1", "ds-101", "--org", org.slug, "--user", stranger.email)
    assert not Enrollment.objects.exists()
    call_command("oneroster_map_course", "crs1", "ds-101", "--org", org.slug, "--user", admin.email)
    rc = RosterCourse.objects.get(sourced_id="crs1")
    assert rc.course == course and rc.is_mapped_by_admin
    assert set(Enrollment.objects.values_list("user__external_id", "status")) == {("s1", "active"), ("s2", "active")}

    # An import never overrides the admin's mapping.
    other = CourseFactory(code="SIS-DS")
    run(org, zip_of(base_files(course_code="SIS-DS")))
    assert RosterCourse.objects.get(sourced_id="crs1").course == course
    assert RosterClass.objects.get(sourced_id="cls1").course == course
    assert not Enrollment.objects.filter(course=other).exists()


def test_the_mapping_endpoint(api, org, course):
    run(org, zip_of(base_files(course_code="SIS-DS")))
    resp = api.http.put(
        "/api/v1/oneroster/courses/crs1/mapping", {"course_code": "nope"}, content_type="application/json"
    )
    assert resp.status_code == 400, resp.json()
    assert resp.json()["error"]["details"][0]["field"] == "course_code"
    resp = api.http.put(
        "/api/v1/oneroster/courses/missing/mapping", {"course_code": "ds-101"}, content_type="application/json"
    )
    assert resp.status_code == 404
    resp = api.http.put(
        "/api/v1/oneroster/courses/crs1/mapping", {"course_code": "ds-101"}, content_type="application/json"
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["course_code"] == "ds-101" and resp.json()["is_mapped_by_admin"] is True
    assert Enrollment.objects.filter(course=course, status="active").count() == 2


def test_teachers_become_instructors_only_where_the_university_may_and_lose_only_what_the_roster_gave(org, course):
    run(org, zip_of(base_files()))
    assert not course.instructors.exists() and not User.objects.filter(external_id="tch1").exists()

    RosterPolicy.objects.create(organization=org, assign_teachers=True)
    body = run(org, zip_of(base_files()))
    teacher = User.objects.get(organization=org, external_id="tch1")
    assert list(course.instructors.all()) == [teacher]
    assert LearnerInvite.objects.filter(user=teacher).exists()  # the same invitation flow
    assert not Enrollment.objects.filter(user=teacher).exists()
    assert body["oneroster"]["teachers"]["added"] == 1
    by_hand = UserFactory(organization=org)
    course.instructors.add(by_hand)

    # tch1 is left out of the next bulk: the roster's assignment goes, the hand-given one stays.
    run(org, zip_of(base_files(teacher=False)))
    assert list(course.instructors.all()) == [by_hand]
    assert not RosterInstructor.objects.exists()


def test_an_erasure_clears_the_roster_users_personal_fields(org, course):
    run(org, zip_of(base_files()))
    user = User.objects.get(external_id="s1")
    account_erase(user_id=user.pk)
    ru = RosterUser.objects.get(organization=org, sourced_id="s1")
    assert (ru.username, ru.given_name, ru.family_name, ru.email) == ("", "", "", "")
    assert RosterUser.objects.get(organization=org, sourced_id="s2").email == "s2@u.ma"
    # The university sends its roster again: the erased learner's record still says nothing of them.
    run(org, zip_of(base_files()))
    ru.refresh_from_db()
    assert (ru.username, ru.given_name, ru.family_name, ru.email) == ("", "", "", "")
    assert RosterUser.objects.get(organization=org, sourced_id="s2").email == "s2@u.ma"


def test_the_command_prints_file_line_column_and_exits_non_zero(org, course, tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(zip_of({"enrollments": [enr_line("e-x", "cls-missing", "s1", stamp=DELTA)]}, mode="delta"))
    with pytest.raises(CommandError):
        call_command("import_oneroster", str(bad), "--org", org.slug)
    err = capsys.readouterr().err
    assert "enrollments.csv:2:classSourcedId: " in err


def test_the_command_prints_the_roster_summary_and_the_unmapped(org, course, tmp_path, capsys):
    good = tmp_path / "good.zip"
    good.write_bytes(zip_of(base_files(course_code="SIS-DS")))
    call_command("import_oneroster", str(good), "--org", org.slug)
    out = capsys.readouterr().out
    assert "enrollments: 3 created, 0 updated, 0 unchanged, 0 deactivated" in out
    assert "unmapped classes: 1 (cls1)" in out


def test_the_shared_bulk_then_delta_packages(org):
    for code in COURSE_CODES:
        CourseFactory(code=code)
    packages = build_packages()
    run(org, packages["bulk.zip"])
    assert Enrollment.objects.filter(status="active").count() == 6
    assert sorted(RosterClass.objects.get(sourced_id="cls-ds-a").terms.values_list("sourced_id", flat=True)) == [
        "term-1"
    ]
    body = run(org, packages["delta.zip"])
    # stu-0004 is tobedeleted: their enrollments go; stu-0001 joins cls-cy-a (stored by the bulk).
    assert not RosterUser.objects.get(sourced_id="stu-0004").is_active
    assert set(Enrollment.objects.filter(user__external_id="stu-0004").values_list("status", flat=True)) == {"dropped"}
    assert Enrollment.objects.get(user__external_id="stu-0001", course__code="cy-101").status == "active"
    assert RosterClass.objects.get(sourced_id="cls-ds-a").title == "Data science A (renamed)"
    assert body["oneroster"]["roster"]["classes"]["updated"] == 1


def test_a_big_package_imports_at_the_default_settings(org):
    for code in COURSE_CODES:
        CourseFactory(code=code)
    data = big_package(users=5000, enrollments=12000)
    body = run(org, data)
    assert RosterEnrollment.objects.filter(organization=org, is_active=True).count() == 12000
    # 3 classes of 2 courses: 5,000 students in each course, one enrollment per learner and course.
    assert body["counts"]["created"] == Enrollment.objects.count() == 10000
    assert body["learners"]["created"] == 5000


def test_a_bulk_dropping_most_enrollments_needs_force_and_a_dry_run_changes_nothing(org, course, settings):
    settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE = 0.5
    run(org, zip_of(base_files(students=("s1", "s2", "s3"))))
    truncated = zip_of(base_files(students=("s1",)))
    with pytest.raises(DropThresholdExceeded):
        run(org, truncated)
    assert Enrollment.objects.filter(status="active").count() == 3
    assert RosterEnrollment.objects.filter(is_active=True).count() == 4

    body = run(org, truncated, dry_run=True, force=True)
    assert body["counts"]["dropped"] == 2
    assert Enrollment.objects.filter(status="active").count() == 3
    assert RosterEnrollment.objects.filter(is_active=True).count() == 4
    assert AuditEntry.objects.filter(action="oneroster.import.dry_run").count() == 1

    assert run(org, truncated, force=True)["counts"]["dropped"] == 2
    assert Enrollment.objects.filter(status="active").count() == 1


def test_a_delta_moving_an_org_counts_one_update(org, course):
    run(org, zip_of(base_files()))
    moved = {"orgs": [f"sch1,{DELTA[0]},{DELTA[1]},Faculté de médecine,school,FM,"], "enrollments": []}
    body = run(org, zip_of(moved, mode="delta"))
    assert body["oneroster"]["roster"]["orgs"] == {"created": 0, "updated": 1, "unchanged": 0, "deactivated": 0}
    assert Org.objects.get(organization=org, sourced_id="sch1").parent is None


def test_a_class_moved_to_another_course_drops_its_students_from_the_old_one(org, course):
    run(org, zip_of(base_files()))
    other = CourseFactory(code="ds-102")
    run(org, zip_of(base_files(course_code="ds-102")), force=True)  # 2 of 2 dropped: past the threshold
    assert set(Enrollment.objects.filter(course=course).values_list("status", flat=True)) == {"dropped"}
    assert Enrollment.objects.filter(course=other, status="active").count() == 2


def test_a_disabled_teacher_is_no_longer_an_instructor(org, course):
    RosterPolicy.objects.create(organization=org, assign_teachers=True)
    run(org, zip_of(base_files()))
    assert course.instructors.filter(external_id="tch1").exists()
    files = base_files()
    files["users"] = [
        line.replace(",true,", ",false,") if line.startswith("tch1,") else line for line in files["users"]
    ]
    run(org, zip_of(files))
    assert not course.instructors.exists()
