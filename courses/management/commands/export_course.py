"""Write a course to a versioned zip archive (format described in courses/archive.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses import archive, selectors


class Command(BaseCommand):
    help = "Export a course to a zip archive: export_course CODE FILE"

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("file")

    def handle(self, *args, code, file, **options):
        course = selectors.course_get_by_code(code=code)
        if course is None:
            raise CommandError(f"no course with code {code!r}")
        data = archive.course_export(course=course)
        try:
            Path(file).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        self.stdout.write(f"{course.code} -> {file} ({len(data)} bytes)")
