from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from integrations.models import Scope
from integrations.services.clients import api_client_create
from kernel.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API client (OAuth 2 client credentials) for a university; prints the secret once."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument(
            "--scopes", required=True, nargs="+", help=f"one or more of: {', '.join(Scope.values)} (space or comma)"
        )
        parser.add_argument("--name", default="API client")

    def handle(self, *args, org, scopes, name, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization has the slug {org!r}.")
        wanted = [s for part in scopes for s in part.replace(",", " ").split()]
        try:
            creds = api_client_create(organization=organization, name=name, scopes=wanted)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"client_id: {creds.client_id}")
        self.stdout.write(f"client_secret: {creds.client_secret}")
        self.stdout.write(f"scopes: {creds.client.scopes}")
        self.stdout.write("The secret is stored hashed: copy it now, it will not be shown again.")
