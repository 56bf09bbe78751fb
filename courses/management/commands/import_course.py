"""Create a course from a zip archive, or with --update bring an existing one in line with it.
One transaction: a broken archive changes nothing and the message names the file and line. The
command line is trusted like staff: with --update it may rename competencies other courses use."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses import archive


class Command(BaseCommand):
    help = "Import a course archive: import_course FILE [--update]"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--update", action="store_true", help="Replace the course if its code exists.")

    def handle(self, *args, file, update, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        try:
            outcome = archive.archive_import(data=data, update=update)
        except archive.ArchiveError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        course = outcome.course
        self.stdout.write(f"{file} -> {course.code} ({course.status})")
        for kept in outcome.kept:
            self.stdout.write(f"{file}: competency {kept['code']} kept its name {kept['name']!r} (without --update)")
