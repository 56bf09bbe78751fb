"""Print how much content the platform holds, by track and by language, then in all: courses,
modules, lessons, words of lesson prose, assignments and quiz questions (fixed and in banks).

    python manage.py content_stats             # the platform's database
    python manage.py content_stats --demo      # the demo course folders, without loading them
    python manage.py content_stats --courses   # also one line per course"""

from django.core.management.base import BaseCommand

from courses.content_stats import database_counts, totals
from courses.demo import demo_course_dirs
from courses.demo.checks import check_course

COLUMNS = ("courses", "modules", "lessons", "words", "assignments", "questions")


class Command(BaseCommand):
    help = "Count the content (courses, lessons, words, questions) by track and by language."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="count the demo course folders instead")
        parser.add_argument("--courses", action="store_true", help="also print one line per course")

    def handle(self, *args, demo, courses, **options):
        if demo:
            rows = [r.counts for r in (check_course(f, run_blocks=False, grade=False) for f in demo_course_dirs())]
            rows = [r for r in rows if r is not None]
        else:
            rows = database_counts()
        width = max([len("data-governance"), *(len(r.code) for r in rows)]) + 2
        header = "".join(c.rjust(12) for c in COLUMNS)

        def table(title: str, sums: dict) -> None:
            self.stdout.write(f"\n{title}".ljust(width + 1) + header)
            for name, t in sums.items():
                self.stdout.write((name or "-").ljust(width) + "".join(f"{t[c]:>12,}" for c in COLUMNS))

        if courses:
            self.stdout.write("course".ljust(width) + "lang  track            " + header)
            for r in rows:
                cells = (1, r.modules, r.lessons, r.words, sum(r.assignments.values()), r.questions)
                self.stdout.write(
                    r.code.ljust(width) + r.language.ljust(6) + (r.track or "-").ljust(17)
                    + "".join(f"{v:>12,}" for v in cells)
                )  # fmt: skip
        table("by track", totals(rows, lambda r: r.track))
        table("by language", totals(rows, lambda r: r.language))
        table("in all", totals(rows, lambda r: "all"))
