"""Rotate the LTI tool's signing key: a new key enters the published key set now and signs a day
later (platforms cache our key set); keys older than the signing one leave the set once it has
signed for a week."""

from django.core.management.base import BaseCommand

from integrations.services import lti


class Command(BaseCommand):
    help = "Publish a new LTI signing key (it signs in a day); retire keys a week behind the signing one."

    def handle(self, *args, **options):
        key, retired = lti.tool_key_rotate()
        starts = (key.created_at + lti.KEY_PUBLISH_AHEAD).isoformat(timespec="minutes")
        self.stdout.write(
            f"New LTI key {key.kid}: in the key set now, signing from {starts}; {retired} old key(s) retired."
        )
