from django.core.management.base import BaseCommand

from certificates.services import issuer_key_rotate


class Command(BaseCommand):
    help = "Make a new issuer signing key; the old one is retired but stays published for verification."

    def handle(self, *args, **options):
        key = issuer_key_rotate()
        self.stdout.write(f"new active issuer key: {key.kid} ({key.public_key_multibase})")
