from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization, User
from integrations.services.oneroster import oneroster_course_map
from kernel.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Map a stored OneRoster course (by sourcedId) onto one of our open courses, as a university admin; "
        "its classes' stored students are then enrolled. An empty code unmaps it."
    )

    def add_arguments(self, parser):
        parser.add_argument("sourced_id", help="the roster course's sourcedId")
        parser.add_argument("course_code", help="our course's code ('' to unmap)")
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--user", required=True, help="the e-mail address of the admin acting")

    def handle(self, *args, sourced_id, course_code, org, user, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization has the slug {org!r}.")
        actor = User.objects.filter(email__iexact=user).first()
        if actor is None:
            raise CommandError(f"No user has the address {user!r}.")
        try:
            body = oneroster_course_map(
                organization=organization,
                sourced_id=sourced_id,
                course_code=course_code or None,
                user=actor,
                endpoint="cli/oneroster_map_course",
            )
        except ApplicationError as exc:
            raise CommandError(f"{sourced_id}: {exc.message}") from exc
        counts = body["counts"]
        self.stdout.write(
            f"{sourced_id} -> {body['course_code'] or '(unmapped)'}: {counts['created']} enrolled, "
            f"{counts['updated']} updated, {counts['dropped']} dropped"
        )
