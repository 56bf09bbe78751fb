from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from kernel.errors import ApplicationError
from roster import gradebook


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Export a roster class's gradebook as a OneRoster 1.2 Gradebook CSV zip (bulk, or the delta after "
        "--since); prints the next cursor."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--class", dest="class_sid", required=True, help="the class's sourcedId")
        parser.add_argument("--term", help="an academic session's sourcedId: the window is its dates")
        parser.add_argument("--from", dest="start", help="first day of the window (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", help="last day of the window (YYYY-MM-DD)")
        parser.add_argument("--since", help="the cursor printed by the last export: export only what changed")
        parser.add_argument("-o", "--output", required=True, help="the zip to write")

    def handle(self, *args, org, class_sid, term, start, end, since, output, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"--org: no organization has the slug {org!r}.")
        if term and (start or end):
            raise CommandError("--term: give a term or --from/--to, not both.")
        window = gradebook.Window()
        if term:
            session = gradebook.term_get(organization_id=organization.pk, sourced_id=term)
            if session is None:
                raise CommandError(f"--term: no academic session of {org} has the sourcedId {term!r}.")
            window = gradebook.Window(start=session.start_date, end=session.end_date, term=session)
        elif start or end:
            if not (start and end):
                raise CommandError("--from and --to go together.")
            window = gradebook.Window(start=_date(start, "--from"), end=_date(end, "--to"))
            if window.end < window.start:
                raise CommandError("--to: the range ends before it starts.")
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"{output}: no such directory.")
        try:
            cls = gradebook.class_get(organization_id=organization.pk, sourced_id=class_sid)
            export = gradebook.gradebook_export(roster_class=cls, window=window, since=since)
        except ApplicationError as exc:
            option = {"since": "--since", "class": "--class"}.get(exc.field or "", "--class")
            if exc.status_code == 404:
                raise CommandError(f"--class: {org} has no class with the sourcedId {class_sid!r}.") from exc
            raise CommandError(f"{option}: {exc.message}") from exc
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as fh:
            for chunk in gradebook.zip_chunks(export):
                fh.write(chunk)
        partial.replace(path)
        self.stderr.write(f"{output}: {export.mode} gradebook of class {class_sid}")
        self.stdout.write(export.next_cursor)
