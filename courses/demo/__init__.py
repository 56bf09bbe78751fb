"""Demo content, loaded by `manage.py seed_demo`: each folder under courses/demo/courses/ is a
course laid out exactly like an export archive. It is zipped and loaded through the import
service (so the archive format carries the real content), then paths.yaml groups the courses
into one learning path per track. Idempotent: existing courses and paths are left alone."""

import logging
from pathlib import Path

import yaml
from django.db import transaction

from courses import archive
from courses.models import Competency, Course, LearningPath, PathCourse, PublicationStatus

log = logging.getLogger(__name__)
DEMO_DIR = Path(__file__).resolve().parent
COURSES_DIR = DEMO_DIR / "courses"


def demo_course_dirs() -> list[Path]:
    return sorted(p for p in COURSES_DIR.iterdir() if (p / "course.yaml").is_file())


def load_demo_content(*, report=None) -> list[Course]:
    """Import the demo courses that do not exist yet and create the demo paths. Returns every
    demo course present. A course whose archive is refused (for instance, an assignment kind
    whose grader is not installed) is reported through `report` and skipped."""
    report = report or log.warning
    codes = []
    for folder in demo_course_dirs():
        code = folder.name
        if not Course.objects.filter(code=code).exists():
            try:
                archive.course_import(data=archive.zip_directory(folder))
            except archive.ArchiveError as exc:
                report(f"demo course {code} not loaded: {exc.message}")
                continue
        codes.append(code)
    _load_paths()
    return list(Course.objects.filter(code__in=codes))


@transaction.atomic
def _load_paths() -> None:
    data = yaml.safe_load((DEMO_DIR / "paths.yaml").read_text(encoding="utf-8"))
    courses = {c.code: c for c in Course.objects.all()}
    for p in data["paths"]:
        path, created = LearningPath.objects.get_or_create(
            code=p["code"],
            defaults={
                "title": p["title"],
                "track": p["track"],
                "summary": p["summary"],
                "status": PublicationStatus.PUBLISHED,
            },
        )
        if created:
            path.competencies.set(Competency.objects.filter(code__in=p.get("competencies", [])))
        taken = set(path.path_courses.values_list("course_id", flat=True))
        position = max(path.path_courses.values_list("position", flat=True), default=0)
        for step in p["courses"]:
            course = courses.get(step["code"])
            if course is None or course.pk in taken:
                continue
            position += 1
            PathCourse.objects.create(path=path, course=course, position=position, gate=step["gate"])
