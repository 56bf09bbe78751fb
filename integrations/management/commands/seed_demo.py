"""Load the demo content and the demo's people: users, a university with its admin and API
client (integrations.demo). Idempotent. Writes the logins to a file readable by its owner alone
(default var/demo-logins.txt), which `make run` prints in a frame once the servers answer. It
lives in integrations, the top layer, since the demo spans courses, accounts and the API."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from courses.demo import load_demo_content
from integrations.demo import demo_people_seed, read_known_secrets, write_private


class Command(BaseCommand):
    help = "Load demo paths, courses, users, a university and its API client (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default=settings.SITE_URL, help="URL printed for the demo (default: SITE_URL)."
        )
        parser.add_argument(
            "--logins-file",
            type=Path,
            default=settings.VAR_DIR / "demo-logins.txt",
            help="Where the demo logins are written, mode 0600 (default: var/demo-logins.txt).",
        )
        parser.add_argument(
            "--no-print", action="store_true", help="Write the logins file only (make run prints it later)."
        )

    def handle(self, *args, base_url, logins_file, no_print, **options):
        base_url = base_url.rstrip("/")
        passwords, secret = read_known_secrets(logins_file)
        with transaction.atomic():
            courses = load_demo_content(report=lambda text: self.stderr.write(self.style.WARNING(text)))
            logins = demo_people_seed(
                base_url=base_url, courses=courses, known_passwords=passwords, known_secret=secret
            )
        write_private(logins_file, logins.text())
        if no_print:
            self.stdout.write(f"Demo loaded: {len(courses)} courses; logins in {logins_file}")
            return
        self.stdout.write("")
        self.stdout.write(logins.text())
        self.stdout.write(f"(also in {logins_file}, readable by you alone)")
