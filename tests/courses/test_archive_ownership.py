"""An import changes only what its course owns. Competencies are shared by code between courses
(their assignments) and paths: an instructor's import may create new ones, and reference shared
ones as they are, but not rename or re-describe one that a course they do not teach uses. Driven
through the authoring page (real multipart upload), checked on the other course's pages."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses import archive, imports
from courses.models import Competency, CourseImportJob
from tests.factories import CourseFactory, ModuleFactory, PathFactory, UserFactory, add_to_path, enroll, make_quiz
from tests.twofactor import login_with_2fa

LAW = "Loi 09-08 : protection des données personnelles"


def _course(code: str, teacher, competency):
    course = CourseFactory(code=code, title=f"Course {code}")
    course.instructors.add(teacher)
    quiz = make_quiz(module=ModuleFactory(course=course, position=1), title=f"Quiz {code}")
    quiz.slug = f"quiz-{code}"
    quiz.save()
    quiz.competencies.add(competency)
    return course


@pytest.fixture
def shared(db):
    """law-09-08 is used by course A (taught by ix) and course B (taught by someone else), and
    listed by the path that holds B."""
    law = Competency.objects.create(code="law-09-08", name=LAW, description="Original description.")
    ix, other = UserFactory(), UserFactory()
    a, b = _course("law-a", ix, law), _course("law-b", other, law)
    path = PathFactory(code="law-path")
    path.competencies.add(law)
    add_to_path(path, b, 1)
    return {"law": law, "ix": ix, "other": other, "a": a, "b": b, "path": path}


def _tampered(course, **competency) -> bytes:
    """The course's own archive, with law-09-08 renamed and re-described and a new competency."""
    files = {}
    with zipfile.ZipFile(io.BytesIO(archive.course_export(course=course))) as zf:
        for name in zf.namelist():
            files[name] = zf.read(name).decode()
    name = competency.get("name", "TAMPERED by ix")
    files["course.yaml"] = (
        files["course.yaml"]
        .replace(f"name: '{LAW}'", f"name: {name}")
        .replace("description: Original description.", "description: Rewritten.")
        .replace(f"title: Course {course.code}", f"title: Course {course.code} v2")
        .replace("competencies:\n", "competencies:\n- code: ix-new\n  name: New from ix\n  description: ''\n", 1)
    )
    assert f"name: {name}" in files["course.yaml"], files["course.yaml"]
    files[f"assignments/quiz-{course.code}.yaml"] = files[f"assignments/quiz-{course.code}.yaml"].replace(
        "- law-09-08", "- ix-new\n- law-09-08"
    )
    return archive.zip_files({k: v.encode() for k, v in files.items()})


def _import(client, data: bytes, update=True):
    """Upload, then confirm what the summary shows (ticking "replace" for an existing course)."""
    upload = SimpleUploadedFile("a.zip", data, content_type="application/zip")
    fields = {"archive": upload, **({"update": "on"} if update else {})}
    response = client.post(reverse("courses:author-import"), fields)
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = CourseImportJob.objects.filter(status="awaiting").latest("pk")
    fields = {"replace": "on"} if job.summary["exists"] else {}
    return client.post(reverse("courses:author-import-confirm", kwargs={"pk": job.pk}), fields)


def test_an_instructor_cannot_rename_a_competency_another_course_uses(client, shared):
    login_with_2fa(client, shared["ix"])
    response = _import(client, _tampered(shared["a"]))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "law-09-08" in page and "keeps its name" in page and "TAMPERED by ix" in page  # what it kept, and why

    law = Competency.objects.get(code="law-09-08")
    assert (law.name, law.description) == (LAW, "Original description.")
    shared["a"].refresh_from_db()
    assert shared["a"].title == "Course law-a v2"  # the rest of the import went through
    assert Competency.objects.get(code="ix-new").name == "New from ix"  # a new competency may be created

    # Course B's pages still show the original name: its analytics for its instructor, its path
    # for a learner.
    login_with_2fa(client, shared["other"])
    analytics = client.get(reverse("analytics:course", kwargs={"code": "law-b"})).content.decode()
    assert LAW in analytics and "TAMPERED" not in analytics
    learner = UserFactory()
    enroll(learner, shared["b"])
    client.force_login(learner)
    progress = client.get(reverse("learning:path-progress", kwargs={"code": "law-path"})).content.decode()
    assert "Loi 09-08" in progress and "TAMPERED" not in progress


def test_a_path_listing_the_competency_counts_as_using_it(client, shared):
    """ix teaches every course whose assignments use law-09-08 once B drops it, but B is still
    in a path that lists it."""
    shared["b"].assignments.get().competencies.clear()
    login_with_2fa(client, shared["ix"])
    assert _import(client, _tampered(shared["a"])).status_code == 302
    assert Competency.objects.get(code="law-09-08").name == LAW


def test_who_teaches_every_course_using_it_may_rename_it(client, shared):
    shared["b"].instructors.add(shared["ix"])
    login_with_2fa(client, shared["ix"])
    response = _import(client, _tampered(shared["a"]))
    assert response.status_code == 302
    assert "keeps its name" not in client.get(response["Location"]).content.decode()
    assert Competency.objects.get(code="law-09-08").name == "TAMPERED by ix"


def test_staff_may_rename_a_shared_competency(client, shared):
    login_with_2fa(client, UserFactory(is_staff=True))
    assert _import(client, _tampered(shared["a"], name="Renamed by staff")).status_code == 302
    assert Competency.objects.get(code="law-09-08").description == "Rewritten."


def test_a_new_course_references_an_existing_competency_as_it_is_and_says_so(client, shared):
    data = _tampered(shared["a"])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["course.yaml"] = files["course.yaml"].replace(b"code: law-a\n", b"code: law-c\n")
    login_with_2fa(client, shared["ix"])
    response = _import(client, archive.zip_files(files), update=False)
    assert response["Location"] == reverse("courses:author-outline", kwargs={"code": "law-c"})
    assert "keeps its name" in client.get(response["Location"]).content.decode()
    assert Competency.objects.get(code="law-09-08").name == LAW


def test_a_background_import_reports_the_competencies_it_kept(client, shared):
    job = CourseImportJob.objects.create(requested_by=shared["ix"], update=True, archive=_tampered(shared["a"]))
    imports.course_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    kept = {"code": "law-09-08", "name": LAW, "archive_name": "TAMPERED by ix", "shared": True}
    assert job.status == "done" and job.kept == [kept]
    login_with_2fa(client, shared["ix"])
    page = client.get(reverse("courses:author-import-job", kwargs={"pk": job.pk})).content.decode()
    assert "law-09-08" in page and "keeps its name" in page
    assert Competency.objects.get(code="law-09-08").name == LAW


def test_without_update_an_existing_competency_keeps_its_name_and_the_import_says_how_to_rename_it(client, db):
    teacher = UserFactory()
    own = Competency.objects.create(code="own-1", name="Mine")
    course = _course("mine-1", teacher, own)
    with zipfile.ZipFile(io.BytesIO(archive.course_export(course=course))) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["course.yaml"] = (
        files["course.yaml"].replace(b"code: mine-1", b"code: mine-2").replace(b"name: Mine", b"name: Renamed")
    )
    login_with_2fa(client, teacher)
    response = _import(client, archive.zip_files(files), update=False)
    page = client.get(response["Location"]).content.decode()
    assert "already exists" in page and "import with update" in page
    assert Competency.objects.get(code="own-1").name == "Mine"
