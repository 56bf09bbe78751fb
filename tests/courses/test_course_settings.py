"""Course settings on the course edit page: level, workload, track, cover image and co-instructors,
and the same settings carried by the course archive."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from courses import archive, services
from courses.models import Assignment, Course, CourseCover
from kernel.errors import ApplicationError
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, UserFactory, make_quiz
from tests.twofactor import login_with_2fa

from .images import JPEG_COVER, PNG_COVER


@pytest.fixture
def course(db):
    course = CourseFactory(code="set-1", title="Settings course", status="draft")
    module = ModuleFactory(course=course, position=1)
    LessonFactory(module=module, position=1)
    return course


@pytest.fixture
def instructor(course):
    user = UserFactory(full_name="Nadia Instructor")
    course.instructors.add(user)
    return user


@pytest.fixture
def author(client, instructor):
    login_with_2fa(client, instructor)
    return client


def _edit_url(course):
    return reverse("courses:author-course-edit", kwargs={"code": course.code})


def _settings(**extra):
    return {"title": "Settings course", "summary": "", "language": "fr", "level": "advanced", **extra}


def test_the_edit_page_saves_level_workload_and_track(author, course):
    page = author.get(_edit_url(course)).content.decode()
    assert 'name="level"' in page and 'name="workload_hours"' in page and 'name="track"' in page
    assert 'enctype="multipart/form-data"' in page
    response = author.post(_edit_url(course), _settings(workload_hours="24", track="health-law"))
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.level, course.workload_hours, course.track, course.language) == ("advanced", 24, "health-law", "fr")
    # Empty workload and track: unknown, none.
    author.post(_edit_url(course), _settings(workload_hours="", track=""))
    course.refresh_from_db()
    assert (course.workload_hours, course.track) == (None, "")


def test_a_post_without_a_level_keeps_the_course_level(author, course):
    Course.objects.filter(pk=course.pk).update(level="intermediate")
    author.post(_edit_url(course), {"title": "Renamed", "summary": "", "language": "en"})
    course.refresh_from_db()
    assert (course.title, course.level) == ("Renamed", "intermediate")


@pytest.mark.parametrize("hours", ["0", "1001", "-3", "2.5", "many"])
def test_a_workload_out_of_bounds_is_a_field_error(author, course, hours):
    response = author.post(_edit_url(course), _settings(workload_hours=hours))
    assert response.status_code == 400
    assert "workload_hours" in response.context["form"].errors
    course.refresh_from_db()
    assert course.workload_hours is None and course.level == "beginner"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"level": "expert"}, "level"),
        ({"workload_hours": 0}, "workload_hours"),
        ({"workload_hours": 1001}, "workload_hours"),
        ({"workload_hours": True}, "workload_hours"),
        ({"track": "astronomy"}, "track"),
    ],
)
def test_the_service_refuses_bad_settings_whoever_calls(course, instructor, fields, field):
    data = {"title": "T", "language": "en", **fields}
    with pytest.raises(ApplicationError) as exc:
        services.course_update(user=instructor, course=course, **data)
    assert exc.value.field == field


def test_a_new_course_takes_its_settings_and_defaults_to_beginner(client, instructor):
    login_with_2fa(client, instructor)
    url = reverse("courses:author-course-new")
    assert client.post(url, {"code": "lvl-new", "title": "New", "language": "en"}).status_code == 302
    assert Course.objects.get(code="lvl-new").level == "beginner"
    data = {"code": "lvl-adv", "title": "Adv", "language": "ar", "level": "advanced", "workload_hours": "6",
            "track": "cybersecurity", "cover": SimpleUploadedFile("c.png", PNG_COVER, "image/png")}  # fmt: skip
    assert client.post(url, data).status_code == 302
    made = Course.objects.get(code="lvl-adv")
    assert (made.level, made.workload_hours, made.track) == ("advanced", 6, "cybersecurity")
    assert bytes(made.cover.data) == PNG_COVER


@pytest.mark.parametrize("code", ["new", "import", "paths"])
def test_codes_the_authoring_addresses_use_are_reserved(client, instructor, code):
    login_with_2fa(client, instructor)
    response = client.post(reverse("courses:author-course-new"), {"code": code, "title": "X", "language": "en"})
    assert response.status_code == 400 and "code" in response.context["form"].errors
    assert not Course.objects.filter(code=code).exists()


# --- Cover ----------------------------------------------------------------------------------------


def _upload(author, course, name, data, **extra):
    return author.post(_edit_url(course), _settings(cover=SimpleUploadedFile(name, data), **extra))


@pytest.mark.parametrize("name,data,content_type", [("c.png", PNG_COVER, "image/png"),
                                                    ("c.jpg", JPEG_COVER, "image/jpeg")])  # fmt: skip
def test_an_uploaded_cover_is_served_with_its_content_type(author, course, name, data, content_type):
    assert _upload(author, course, name, data).status_code == 302
    cover = CourseCover.objects.get(course=course)
    assert cover.content_type == content_type
    response = author.get(reverse("courses:cover", kwargs={"code": course.code}))
    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert response.content == data
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    # The edit page shows it and offers to remove it.
    page = author.get(_edit_url(course)).content.decode()
    assert f"?v={cover.version}" in page and 'name="remove_cover"' in page


@pytest.mark.parametrize(
    "name,data",
    [
        ("c.gif", b"GIF89a" + b"\x00" * 20),  # an image, but not one we take
        ("c.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"),  # text named .png
        ("c.png", JPEG_COVER),  # a JPEG named .png
        ("c.txt", b"hello"),
    ],
)
def test_anything_but_a_png_or_jpeg_is_a_field_error(author, course, name, data):
    response = _upload(author, course, name, data)
    assert response.status_code == 400 and "cover" in response.context["form"].errors
    assert not CourseCover.objects.filter(course=course).exists()


@override_settings(COURSE_COVER_MAX_BYTES=100)
def test_a_cover_over_the_size_limit_is_a_field_error(author, course):
    response = _upload(author, course, "c.jpg", JPEG_COVER)
    assert response.status_code == 400 and "cover" in response.context["form"].errors
    assert not CourseCover.objects.filter(course=course).exists()
    with pytest.raises(ApplicationError) as exc:  # the service checks too
        services.cover_store(course=course, data=JPEG_COVER)
    assert exc.value.field == "cover"


def test_a_cover_is_replaced_and_removed(author, course):
    _upload(author, course, "c.png", PNG_COVER)
    first = CourseCover.objects.get(course=course).digest
    _upload(author, course, "c.jpg", JPEG_COVER)
    assert CourseCover.objects.get(course=course).digest != first
    author.post(_edit_url(course), _settings(remove_cover="on"))
    assert not CourseCover.objects.filter(course=course).exists()
    assert author.get(reverse("courses:cover", kwargs={"code": course.code})).status_code == 404


def test_a_draft_courses_cover_is_for_its_editors_and_a_published_one_is_cached_for_good(client, course, instructor):
    cover = services.cover_store(course=course, data=PNG_COVER)
    url = reverse("courses:cover", kwargs={"code": course.code})
    assert client.get(url).status_code == 404  # draft: anonymous
    login_with_2fa(client, UserFactory())
    assert client.get(url).status_code == 404  # draft: a learner
    login_with_2fa(client, instructor)
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
    Course.objects.filter(pk=course.pk).update(status="published")
    client.logout()
    current = client.get(url, {"v": cover.version})
    assert current.status_code == 200 and "immutable" in current["Cache-Control"]
    assert "public" in current["Cache-Control"]
    stale = client.get(url, {"v": "0000"})
    assert "immutable" not in stale["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=current["ETag"]).status_code == 304


def test_loading_a_course_page_does_not_load_the_cover_bytes(client, course):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Course.objects.filter(pk=course.pk).update(status="published")
    services.cover_store(course=course, data=PNG_COVER)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("courses:detail", kwargs={"code": course.code}))
    assert page.status_code == 200
    assert "/cover/?v=" in page.content.decode()
    assert not any('"courses_coursecover"."data"' in q["sql"] for q in ctx.captured_queries)


# --- Co-instructors -------------------------------------------------------------------------------


def _add_url(course):
    return reverse("courses:author-instructor-add", kwargs={"code": course.code})


def _remove_url(course, user):
    return reverse("courses:author-instructor-remove", kwargs={"code": course.code, "pk": user.pk})


def test_a_co_instructor_is_added_by_email_whatever_its_case(author, course):
    colleague = UserFactory(email="karim@example.org", full_name="Karim")
    response = author.post(_add_url(course), {"email": "  Karim@Example.ORG "})
    assert response.status_code == 302
    assert course.instructors.filter(pk=colleague.pk).exists()
    page = author.get(_edit_url(course)).content.decode()
    assert "Karim" in page and "karim@example.org" in page


@pytest.mark.parametrize("case", ["unknown", "inactive", "erased", "already", "malformed"])
def test_an_address_that_names_no_usable_account_is_a_field_error(author, course, instructor, case):
    from django.utils import timezone

    email = {"unknown": "nobody@example.org", "malformed": "not-an-address", "already": instructor.email}.get(
        case, f"{case}@example.org"
    )
    if case == "inactive":
        UserFactory(email=email, is_active=False)
    if case == "erased":
        UserFactory(email=email, erased_at=timezone.now())
    response = author.post(_add_url(course), {"email": email})
    assert response.status_code == 400
    assert "email" in response.context["instructor_form"].errors
    assert list(course.instructors.all()) == [instructor]


def test_an_instructor_removes_another_and_then_cannot_remove_the_last(author, course, instructor):
    colleague = UserFactory()
    course.instructors.add(colleague)
    assert author.post(_remove_url(course, colleague)).status_code == 302
    assert list(course.instructors.all()) == [instructor]
    response = author.post(_remove_url(course, instructor), follow=True)
    assert list(course.instructors.all()) == [instructor]
    assert "at least one instructor" in response.content.decode()
    with pytest.raises(ApplicationError):
        services.course_instructor_remove(user=instructor, course=course, instructor_id=instructor.pk)


def test_staff_cannot_leave_a_course_without_instructors_either(client, course, instructor):
    staff = UserFactory(is_staff=True)
    login_with_2fa(client, staff)
    client.post(_remove_url(course, instructor))
    assert list(course.instructors.all()) == [instructor]


def test_an_instructor_who_leaves_the_course_goes_back_to_the_authoring_home(author, course, instructor):
    course.instructors.add(UserFactory())
    response = author.post(_remove_url(course, instructor))
    assert response.status_code == 302 and response["Location"] == reverse("courses:author-home")
    assert not course.instructors.filter(pk=instructor.pk).exists()
    assert author.get(_edit_url(course)).status_code == 403


@pytest.mark.parametrize("role", ["learner", "other_instructor"])
def test_only_the_courses_editors_add_or_remove_instructors(client, course, instructor, role):
    user = UserFactory()
    if role == "other_instructor":
        CourseFactory().instructors.add(user)
    login_with_2fa(client, user)
    target = UserFactory(email="target@example.org")
    assert client.post(_add_url(course), {"email": target.email}).status_code == 403
    assert client.post(_add_url(course), {"email": user.email}).status_code == 403
    assert client.post(_remove_url(course, instructor)).status_code == 403
    assert list(course.instructors.all()) == [instructor]


# --- Archive ------------------------------------------------------------------------------------


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _delete(course):
    Assignment.objects.filter(course=course).update(current_version=None)
    Course.objects.filter(pk=course.pk).delete()


@pytest.mark.parametrize("cover,entry", [(PNG_COVER, "cover.png"), (JPEG_COVER, "cover.jpg"), (None, None)])
def test_settings_and_cover_survive_export_import_export_byte_for_byte(course, cover, entry):
    Course.objects.filter(pk=course.pk).update(level="intermediate", workload_hours=30, track="data-governance")
    course.refresh_from_db()
    make_quiz(module=course.modules.first(), title="Quiz", slug="quiz")
    if cover:
        services.cover_store(course=course, data=cover)
    first = archive.course_export(course=course)
    files = _files(first)
    head = files["course.yaml"].decode()
    assert "level: intermediate\nworkload_hours: 30\ntrack: data-governance\n" in head
    if cover:
        assert f"cover: {entry}\n" in head and files[entry] == cover
    else:
        assert "cover:" not in head and not any(n.startswith("cover.") for n in files)
    _delete(course)
    imported = archive.course_import(data=first)
    assert (imported.level, imported.workload_hours, imported.track) == ("intermediate", 30, "data-governance")
    assert archive.course_export(course=imported) == first
    again = archive.course_import(data=first, update=True)
    assert archive.course_export(course=again) == first


def test_an_archive_without_the_settings_gets_the_defaults_and_an_update_drops_a_cover(course):
    services.cover_store(course=course, data=PNG_COVER)
    files = _files(archive.course_export(course=course))
    head = files["course.yaml"].decode().replace("level: beginner\n", "").replace("cover: cover.png\n", "")
    files["course.yaml"] = head.encode()
    del files["cover.png"]
    Course.objects.filter(pk=course.pk).update(level="advanced", workload_hours=5, track="health-law")
    updated = archive.course_import(data=archive.zip_files(files), update=True)
    assert (updated.level, updated.workload_hours, updated.track) == ("beginner", None, "")
    assert not CourseCover.objects.filter(course=updated).exists()


@pytest.mark.parametrize(
    "line,field",
    [
        ("level: expert", "level"),
        ("workload_hours: 0", "workload_hours"),
        ("workload_hours: 1001", "workload_hours"),
        ("workload_hours: twelve", "workload_hours"),
        ("track: astronomy", "track"),
        ("cover: ../etc/passwd", "cover"),
    ],
)
def test_bad_settings_in_an_archive_are_refused_naming_the_field(course, line, field):
    files = _files(archive.course_export(course=course))
    replacement = line if line.startswith("level") else f"level: beginner\n{line}"
    files["course.yaml"] = files["course.yaml"].replace(b"level: beginner\n", f"{replacement}\n".encode())
    with pytest.raises(archive.ArchiveError) as exc:
        archive.course_import(data=archive.zip_files(files), update=True)
    assert exc.value.entry == "course.yaml" and exc.value.message.endswith(exc.value.detail)
    assert f"field {field}" in exc.value.message


@pytest.mark.parametrize(
    "entry,data,problem",
    [
        ("cover.png", b"<html>not an image</html>", "PNG or JPEG"),
        ("cover.png", JPEG_COVER, "does not match"),
        ("cover.jpg", None, "missing from the archive"),
    ],
)
def test_a_bad_cover_in_an_archive_is_refused_naming_the_entry(course, entry, data, problem):
    files = _files(archive.course_export(course=course))
    head = files["course.yaml"].replace(b"level: beginner\n", f"level: beginner\ncover: {entry}\n".encode())
    files["course.yaml"] = head
    if data is not None:
        files[entry] = data
    with pytest.raises(archive.ArchiveError, match=problem) as exc:
        archive.course_import(data=archive.zip_files(files), update=True)
    assert exc.value.entry == entry


@override_settings(COURSE_COVER_MAX_BYTES=100)
def test_a_cover_over_the_limit_in_an_archive_is_refused(course):
    files = _files(archive.course_export(course=course))
    files["course.yaml"] = files["course.yaml"].replace(b"level: beginner\n", b"level: beginner\ncover: cover.jpg\n")
    files["cover.jpg"] = JPEG_COVER
    with pytest.raises(archive.ArchiveError, match="too large") as exc:
        archive.course_import(data=archive.zip_files(files), update=True)
    assert exc.value.entry == "cover.jpg"


def test_an_archive_cannot_create_a_course_with_a_reserved_code(course):
    files = _files(archive.course_export(course=course))
    files["course.yaml"] = files["course.yaml"].replace(b"code: set-1", b"code: paths")
    with pytest.raises(archive.ArchiveError, match="reserved"):
        archive.course_import(data=archive.zip_files(files))
    assert not Course.objects.filter(code="paths").exists()
