"""Course files: the Files page (upload, list, delete) for the course's editors only, downloads
for learners of an assignment that attaches the file, and files in the course archive."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses import archive, services
from courses.models import CourseFile
from courses.selectors import builder_files
from kernel.errors import ApplicationError
from kernel.uploads import sniff_kind
from tests.factories import CourseFactory, ModuleFactory, UserFactory, enroll
from tests.grading.helpers import make_assignment
from tests.twofactor import login_with_2fa

PCAP = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 16
PCAPNG = b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a" + b"\x00" * 16
LOG = b"Mar 12 03:01:25 pacs-gw sshd[5113]: Accepted password for svc-backup\n"


@pytest.fixture
def world(db):
    course = CourseFactory(code="files-1")
    ModuleFactory(course=course, position=1)
    instructor, other = UserFactory(), UserFactory()
    course.instructors.add(instructor)
    CourseFactory(code="files-other").instructors.add(other)
    return {"course": course, "instructor": instructor, "other": other}


def _upload(client, code, file_name, content, **extra):
    data = {"file": SimpleUploadedFile(file_name, content), **extra}
    return client.post(reverse("courses:author-files", kwargs={"code": code}), data)


def test_captures_and_logs_are_recognised_by_their_content():
    assert sniff_kind(PCAP, "capture.pcap") == "pcap"
    assert sniff_kind(PCAPNG, "capture.pcapng") == "pcapng"
    assert sniff_kind(LOG, "auth.log") == "log"


def test_an_instructor_uploads_a_log_and_a_capture_and_sees_them_listed_with_their_sizes(client, world):
    login_with_2fa(client, world["instructor"])
    assert _upload(client, "files-1", "auth.log", LOG).status_code == 302
    assert _upload(client, "files-1", "dump.pcap", PCAP).status_code == 302
    rows = {f.name: f for f in CourseFile.objects.filter(course=world["course"])}
    assert (rows["auth.log"].content_kind, rows["auth.log"].size, bytes(rows["auth.log"].content)) == (
        "log", len(LOG), LOG
    )  # fmt: skip
    assert rows["dump.pcap"].content_kind == "pcap"
    page = client.get(reverse("courses:author-files", kwargs={"code": "files-1"})).content.decode()
    assert "auth.log" in page and "dump.pcap" in page and f"{len(LOG)}" in page


def test_a_file_whose_content_is_not_an_accepted_kind_is_refused_on_its_field(client, world):
    login_with_2fa(client, world["instructor"])
    response = _upload(client, "files-1", "tool.exe", b"MZ\x90\x00\x03\x00\x00\x00")
    assert response.status_code == 400
    assert 'id="id_file-errors"' in response.content.decode()
    assert not CourseFile.objects.exists()


def test_a_name_already_taken_is_refused_unless_replace_is_ticked(client, world):
    login_with_2fa(client, world["instructor"])
    _upload(client, "files-1", "auth.log", LOG)
    response = _upload(client, "files-1", "auth.log", b"other\n")
    assert response.status_code == 400 and 'id="id_name-errors"' in response.content.decode()
    assert bytes(CourseFile.objects.get().content) == LOG
    assert _upload(client, "files-1", "auth.log", b"other\n", replace="on").status_code == 302
    assert bytes(CourseFile.objects.get().content) == b"other\n"


def test_an_unsafe_name_is_refused_and_a_file_name_with_spaces_is_made_safe(client, world):
    login_with_2fa(client, world["instructor"])
    assert _upload(client, "files-1", "notes.txt", b"x\n", name="../etc/passwd").status_code == 400
    assert _upload(client, "files-1", "my notes.txt", b"x\n").status_code == 302
    assert list(CourseFile.objects.values_list("name", flat=True)) == ["my-notes.txt"]


def test_another_courses_instructor_can_neither_see_nor_upload_nor_delete(client, world):
    row = services.course_file_add(user=world["instructor"], course=world["course"], name="a.txt", content=b"a\n")
    login_with_2fa(client, world["other"])
    assert client.get(reverse("courses:author-files", kwargs={"code": "files-1"})).status_code == 403
    assert _upload(client, "files-1", "b.txt", b"b\n").status_code == 403
    url = reverse("courses:author-file-delete", kwargs={"code": "files-1", "pk": row.pk})
    assert client.post(url).status_code == 403
    assert list(CourseFile.objects.values_list("name", flat=True)) == ["a.txt"]


def test_a_file_an_assignment_attaches_cannot_be_deleted_one_no_assignment_uses_can(client, world):
    course, instructor = world["course"], world["instructor"]
    used = services.course_file_add(user=instructor, course=course, name="auth.log", content=LOG)
    spare = services.course_file_add(user=instructor, course=course, name="spare.txt", content=b"x\n")
    make_assignment("flag", {"flag": "FLAG{x}", "artifacts": ["auth.log"]}, course=course, title="Brute force")
    login_with_2fa(client, instructor)
    client.post(reverse("courses:author-file-delete", kwargs={"code": "files-1", "pk": used.pk}), {"confirm": "on"})
    client.post(reverse("courses:author-file-delete", kwargs={"code": "files-1", "pk": spare.pk}), {"confirm": "on"})
    assert list(CourseFile.objects.values_list("name", flat=True)) == ["auth.log"]
    with pytest.raises(ApplicationError, match="Brute force"):
        services.course_file_delete(user=instructor, course_file=used)
    page = client.get(reverse("courses:author-files", kwargs={"code": "files-1"})).content.decode()
    assert "Brute force" in page


def test_an_assignment_cannot_attach_a_file_the_course_does_not_have(world):
    with pytest.raises(ApplicationError) as exc:
        make_assignment("flag", {"flag": "FLAG{x}", "artifacts": ["missing.log"]}, course=world["course"])
    assert exc.value.field == "spec.artifacts[0]"


@pytest.mark.parametrize(
    "role,status",
    [("anonymous", 302), ("enrolled", 200), ("not_enrolled", 404), ("instructor", 200), ("other", 404)],
)
def test_an_attached_file_downloads_for_enrolled_learners_and_editors_only(client, world, role, status):
    course = world["course"]
    services.course_file_add(user=world["instructor"], course=course, name="auth.log", content=LOG)
    make_assignment("flag", {"flag": "FLAG{x}", "artifacts": ["auth.log"]}, course=course)
    users = {"enrolled": UserFactory(), "not_enrolled": UserFactory(), "instructor": world["instructor"],
             "other": world["other"]}  # fmt: skip
    enroll(users["enrolled"], course)
    if role != "anonymous":
        login_with_2fa(client, users[role])
    response = client.get(reverse("courses:file", kwargs={"code": "files-1", "name": "auth.log"}))
    assert response.status_code == status
    if status == 200:
        assert response.content == LOG
        assert response["Content-Disposition"] == 'attachment; filename="auth.log"'


def test_a_file_no_assignment_attaches_is_not_served_to_learners(client, world):
    services.course_file_add(user=world["instructor"], course=world["course"], name="key.txt", content=b"k\n")
    learner = UserFactory()
    enroll(learner, world["course"])
    login_with_2fa(client, learner)
    assert client.get(reverse("courses:file", kwargs={"code": "files-1", "name": "key.txt"})).status_code == 404


def test_a_file_a_lesson_links_downloads_for_learners_and_cannot_be_deleted_while_linked(client, world):
    from tests.factories import LessonFactory

    course, instructor = world["course"], world["instructor"]
    data = services.course_file_add(user=instructor, course=course, name="stays.csv", content=b"age\n34\n")
    services.course_file_add(user=instructor, course=course, name="stays.csv.bak", content=b"age\n1\n")
    services.course_file_add(user=instructor, course=course, name="hidden.csv", content=b"age\n9\n")
    # Linked at a sentence's end, and named by another course's address (which shares nothing).
    body = "Get [the data](/courses/files-1/files/stays.csv). See /courses/files-10/files/hidden.csv."
    LessonFactory(module=course.modules.first(), title="Meet the data", body_markdown=body)
    learner = UserFactory()
    enroll(learner, course)
    login_with_2fa(client, learner)

    def status(name):
        return client.get(reverse("courses:file", kwargs={"code": "files-1", "name": name})).status_code

    assert (status("stays.csv"), status("stays.csv.bak"), status("hidden.csv")) == (200, 404, 404)
    with pytest.raises(ApplicationError, match="Meet the data"):
        services.course_file_delete(user=instructor, course_file=data)
    login_with_2fa(client, instructor)
    page = client.get(reverse("courses:author-files", kwargs={"code": "files-1"})).content.decode()
    assert "Meet the data" in page and '<code dir="ltr">/courses/files-1/files/stays.csv</code>' in page


def _export(course) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive.course_export(course=course))) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_files_travel_in_the_archive_byte_for_byte_and_the_round_trip_is_stable(world):
    course, instructor = world["course"], world["instructor"]
    services.course_file_add(user=instructor, course=course, name="auth.log", content=LOG)
    services.course_file_add(user=instructor, course=course, name="dump.pcap", content=PCAP)
    make_assignment("flag", {"flag": "FLAG{x}", "artifacts": ["auth.log"]}, course=course)
    first = archive.course_export(course=course)
    entries = _export(course)
    assert entries["files/auth.log"] == LOG and entries["files/dump.pcap"] == PCAP
    course.code = "files-renamed"  # the archive's code is free again: it imports as a new course
    course.save()
    imported = archive.course_import(data=first)
    assert imported.pk != course.pk
    assert archive.course_export(course=imported) == first
    assert archive.course_export(course=archive.course_import(data=first, update=True)) == first


def test_an_update_import_removes_the_files_the_archive_no_longer_has(world):
    course, instructor = world["course"], world["instructor"]
    services.course_file_add(user=instructor, course=course, name="auth.log", content=LOG)
    data = archive.course_export(course=course)
    services.course_file_add(user=instructor, course=course, name="extra.txt", content=b"x\n")
    archive.course_import(data=data, update=True)
    assert list(course.files.values_list("name", flat=True)) == ["auth.log"]


def test_an_archive_whose_spec_attaches_a_file_it_does_not_carry_is_refused_naming_the_field(world):
    course = world["course"]
    services.course_file_add(user=world["instructor"], course=course, name="auth.log", content=LOG)
    make_assignment("flag", {"flag": "FLAG{x}", "artifacts": ["auth.log"]}, course=course, slug="brute")
    entries = {k: v for k, v in _export(course).items() if k != "files/auth.log"}
    with pytest.raises(archive.ArchiveError) as exc:
        archive.archive_read(archive.zip_files(entries))
    assert exc.value.entry == "assignments/brute.yaml" and exc.value.field == "spec.artifacts[0]"


def test_an_archive_file_of_a_refused_kind_or_name_is_refused(world):
    entries = _export(world["course"])
    for name, content in (("files/tool.exe", b"MZ\x90\x00\x00"), ("files/.hidden", b"x")):
        with pytest.raises(archive.ArchiveError) as exc:
            archive.archive_read(archive.zip_files({**entries, name: content}))
        assert exc.value.entry == name


def test_the_files_page_makes_as_many_queries_for_two_files_as_for_twenty(client, world):
    course, instructor = world["course"], world["instructor"]
    login_with_2fa(client, instructor)
    url = reverse("courses:author-files", kwargs={"code": "files-1"})

    def add(n):
        for _i in range(n):
            name = f"f{CourseFile.objects.count()}.txt"
            services.course_file_add(user=instructor, course=course, name=name, content=b"x\n")
            make_assignment("flag", {"flag": "F", "artifacts": [name]}, course=course)

    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    add(18)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)


def test_a_builder_is_offered_the_course_files_and_reads_their_content(world):
    services.course_file_add(user=world["instructor"], course=world["course"], name="data.csv", content=b"a,b\n1,2\n")
    offered = builder_files(course=world["course"])
    assert offered["files"] == [("data.csv", 8)]
    assert offered["read_file"]("data.csv") == b"a,b\n1,2\n" and offered["read_file"]("nope.csv") is None
