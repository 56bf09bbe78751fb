"""Check demo course folders (courses/demo/courses/<code>) the way the tests do: shape, words,
sources, every claimed output of a lesson's code blocks, every assignment's reference answer
against its grader, and a real import (rolled back). Prints each course's counts and problems.

    python manage.py check_demo                 # every demo course
    python manage.py check_demo ds-101 law-101  # some of them
    python manage.py check_demo ds-101 --show   # also print what each code block prints"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from courses import archive
from courses.demo import COURSES_DIR, demo_course_dirs
from courses.demo.checks import check_course


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Check the demo courses (all, or the codes given); exit 1 if any has a problem."

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*")
        parser.add_argument("--show", action="store_true", help="print each code block's actual output")
        parser.add_argument("--no-grade", action="store_true", help="skip the reference answers")

    def handle(self, *args, codes, show, no_grade, **options):
        folders = [COURSES_DIR / c for c in codes] if codes else demo_course_dirs()
        for f in folders:
            if not (f / "course.yaml").is_file():
                raise CommandError(f"{f}: no course.yaml (is {f.name} a demo course code?)")
        migrated = "courses_course" in connection.introspection.table_names()
        failed = 0
        for folder in folders:
            report = check_course(folder, grade=not no_grade, show=show)
            if migrated and not report.problems:
                try:
                    with transaction.atomic():
                        archive.course_import(data=archive.zip_directory(folder), update=True)
                        raise _Rollback
                except _Rollback:
                    pass
                except archive.ArchiveError as exc:
                    report.fail(folder.name, f"import refused: {exc.message}")
            for text in report.shown:
                self.stdout.write(text)
            c = report.counts
            if c:
                kinds = ", ".join(f"{k} {n}" for k, n in sorted(c.assignments.items()))
                self.stdout.write(
                    f"{c.code} [{c.language}, {c.track}, {c.level}]: {c.modules} modules, {c.lessons} lessons, "
                    f"{c.words} words, {c.questions} questions ({c.quiz_questions} in quizzes, "
                    f"{c.bank_questions} in banks), {c.claims} checked outputs; assignments: {kinds}"
                )
            for problem in report.problems:
                self.stdout.write(f"  PROBLEM {problem}")
            failed += bool(report.problems)
        if not migrated:
            self.stdout.write("(no import tried: run `python manage.py migrate` first to check the import too)")
        if failed:
            raise CommandError(f"{failed} course(s) with problems")
        self.stdout.write(self.style.SUCCESS("no problem"))
