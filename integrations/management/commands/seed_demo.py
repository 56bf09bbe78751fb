"""Load the demo content and demo users. Idempotent: running it again changes nothing and never
prints a password twice (they are generated at first run and shown once)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from courses.demo import load_demo_content

DEMO_USERS = [
    ("learner@kafaat.local", "Demo Learner", {}),
    ("instructor@kafaat.local", "Demo Instructor", {}),
    ("staff@kafaat.local", "Demo Staff", {"is_staff": True, "is_superuser": True}),
]


class Command(BaseCommand):
    help = "Load demo paths, courses and users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default=settings.SITE_URL, help="URL printed for the demo (default: SITE_URL)."
        )

    def handle(self, *args, base_url, **options):
        User = get_user_model()
        lines = []
        with transaction.atomic():
            created_courses = load_demo_content(report=lambda text: self.stderr.write(self.style.WARNING(text)))
            for email, name, flags in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    password = secrets.token_urlsafe(12)
                    # The demo addresses cannot receive mail: mark them confirmed, or every page
                    # nags the demo users to confirm an address nobody can read.
                    user = User.objects.create_user(
                        email=email, password=password, full_name=name, email_verified_at=timezone.now(), **flags
                    )
                    lines.append(f"  {email:28} {password}")
                else:
                    lines.append(f"  {email:28} (password shown at first run; reset: manage.py changepassword {email})")
            instructor = User.objects.get(email="instructor@kafaat.local")
            for course in created_courses:
                course.instructors.add(instructor)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Kafaat is starting at {base_url}/"))
        self.stdout.write("Demo logins (learner, instructor, staff):")
        for line in lines:
            self.stdout.write(line)
        self.stdout.write("")
