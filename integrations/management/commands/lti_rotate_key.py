"""Rotate the LTI tool's signing key: a new key signs from now on; keys rotated out more than a
week ago leave the published key set (platforms cache it, so the previous key stays a while)."""

from django.core.management.base import BaseCommand

from integrations.services import lti


class Command(BaseCommand):
    help = "Make a new LTI signing key; retire keys rotated out more than a week ago."

    def handle(self, *args, **options):
        key, retired = lti.tool_key_rotate()
        self.stdout.write(f"New LTI signing key {key.kid}; {retired} old key(s) retired.")
