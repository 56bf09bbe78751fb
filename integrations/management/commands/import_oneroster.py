from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from integrations.services.oneroster import oneroster_import
from kernel.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a OneRoster 1.2 (or 1.1) CSV zip for a university: store its roster, enroll its students "
        "(the enrollment sync) and, where allowed, assign its teachers."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the OneRoster zip")
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--dry-run", action="store_true", help="report the changes without making them")
        parser.add_argument("--force", action="store_true", help="apply a bulk import that drops many enrollments")

    def handle(self, *args, file, org, dry_run, force, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization has the slug {org!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        try:
            with path.open("rb") as fh:
                body = oneroster_import(
                    organization=organization,
                    fileobj=fh,
                    size=path.stat().st_size,
                    dry_run=dry_run,
                    force=force,
                    endpoint="cli/import_oneroster",
                )
        except ApplicationError as exc:
            details = exc.extra.get("details", [])
            for d in details:
                # file:line:column: message (the column left out when the error is the line's).
                parts = (d.get("file") or file, d.get("line"), d.get("column") or d.get("field"))
                where = ":".join(str(x) for x in parts if x not in (None, ""))
                self.stderr.write(f"{where}: {d['message']}")
            more = exc.extra.get("errors_total", len(details)) - len(details)
            if more > 0:
                self.stderr.write(f"{file}: ... and {more} more errors (only the first {len(details)} are listed).")
            raise CommandError(f"{file}: {exc.message}") from exc
        counts, info = body["counts"], body["oneroster"]
        self.stdout.write(
            ("DRY RUN: " if dry_run else "")
            + f"{body['mode']} sync: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['dropped']} dropped; "
            f"{body['learners']['created']} new learners; skipped {info['skipped']}"
        )
        for name, c in info["roster"].items():
            self.stdout.write(
                f"  {name}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged, "
                f"{c['deactivated']} deactivated"
            )
        for kind, listed in info["unmapped"].items():
            if listed["count"]:
                more = listed["count"] - len(listed["sourced_ids"])
                self.stdout.write(
                    f"  unmapped {kind}: {listed['count']} ({', '.join(listed['sourced_ids'])}"
                    + (f" and {more} more" if more > 0 else "")
                    + ")"
                )
        teachers = info["teachers"]
        if teachers["enabled"]:
            self.stdout.write(f"  instructors: {teachers['added']} assigned, {teachers['removed']} removed")
