"""python manage.py generate_load_data --learners 100000 --submissions 1000000"""

import time

from django.core.management.base import BaseCommand, CommandError

from analytics import loaddata


class Command(BaseCommand):
    help = "Fill the database with realistic synthetic learners, enrollments and submissions (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=1000)
        parser.add_argument("--submissions", type=int, default=10000)
        parser.add_argument("--prefix", default="load", help="names every generated row, so several sets can coexist")
        parser.add_argument("--seed", type=int, default=8)

    def handle(self, *args, learners, submissions, prefix, seed, **options):
        if learners < 1 or submissions < 0:
            raise CommandError("--learners must be at least 1 and --submissions at least 0")
        if not prefix.replace("-", "").isalnum():
            raise CommandError("--prefix may hold only letters, digits and dashes")
        started = time.monotonic()
        try:
            counts = loaddata.generate(
                learners=learners, submissions=submissions, prefix=prefix, seed=seed, log=self.stdout.write
            )
        except ValueError as exc:
            raise CommandError(f"{exc} (choose another --prefix)") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"generated {counts['learners']} learners, {counts['enrollments']} enrollments, "
                f"{counts['submissions']} submissions in {time.monotonic() - started:.0f}s "
                f"(5,000-learner course: {counts['flagship']})"
            )
        )
