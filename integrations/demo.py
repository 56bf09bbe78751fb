"""The demo's people and machine (`manage.py seed_demo`), so that the three audiences can be tried
at once: a learner, an instructor of the demo courses, a university admin whose university counts
the learner among its learners and has an API client (University API v1), and staff.

Its logins are written to a file readable by its owner alone (var/demo-logins.txt), which
`make run` prints once the servers answer. Idempotent: nothing is created twice, and a password
or client secret the file holds that still works is kept; one the file does not hold (first run,
file deleted, password changed) is replaced by a new one, since only hashes are stored."""

import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.services.roles import membership_grant
from accounts.services.signup import user_create
from courses.models import Course

from .models import ApiClient, Scope
from .services.clients import api_client_create, api_client_rotate_secret

# (role, e-mail, full name, flags)
DEMO_USERS = [
    ("learner", "learner@kafaat.local", "Demo Learner", {}),
    ("instructor", "instructor@kafaat.local", "Demo Instructor", {}),
    ("university admin", "university@kafaat.local", "Demo University Admin", {}),
    ("staff", "staff@kafaat.local", "Demo Staff", {"is_staff": True, "is_superuser": True}),
]
DEMO_UNIVERSITY = {"slug": "universite-demo", "name": "Université de démonstration"}
DEMO_API_CLIENT = "Demo student information system"

_LOGIN_LINE = re.compile(r"^\s*(?P<role>[a-z ]+?)\s{2,}(?P<email>\S+@\S+)\s+(?P<password>\S+)\s*$")
_SECRET_LINE = re.compile(r"^\s*client_secret\s+(?P<secret>\S+)\s*$")


@dataclass
class DemoLogins:
    base_url: str
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (role, e-mail, password)
    university: str = ""
    client_id: str = ""
    client_secret: str = ""

    def text(self) -> str:
        """The file's text (plain lines, so it can be read back and copied from)."""
        width = max(len(role) for role, _e, _p in self.users) + 2
        email_width = max(len(email) for _r, email, _p in self.users) + 2
        token_url = f"{self.base_url}/o/token/"
        lines = [f"Kafaat is running at {self.base_url}/", "", "Demo logins (e-mail, password):"]
        lines += [f"  {role:{width}}{email:{email_width}}{password}" for role, email, password in self.users]
        lines += [
            "",
            f"University API v1 client of {self.university} (OAuth 2 client credentials):",
            f"  client_id      {self.client_id}",
            f"  client_secret  {self.client_secret}",
            f"  token          curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials {token_url}",
        ]
        return "\n".join(lines) + "\n"


def read_known_secrets(path: Path) -> tuple[dict[str, str], str]:
    """The passwords ({e-mail: password}) and client secret a logins file holds ("" when none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return {}, ""
    passwords, secret = {}, ""
    for line in text.splitlines():
        if m := _SECRET_LINE.match(line):
            secret = m["secret"]
        elif m := _LOGIN_LINE.match(line):
            passwords[m["email"]] = m["password"]
    return passwords, secret


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable and writable by its owner alone (0600), atomically: the
    file is never there with wider permissions, nor half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _password_for(user, known: str | None) -> str | None:
    """`known` if it still logs this user in, else None (a new password is needed)."""
    return known if known and user.check_password(known) else None


@transaction.atomic
def demo_people_seed(
    *, base_url: str, courses: list[Course], known_passwords: dict[str, str], known_secret: str
) -> DemoLogins:
    """Create (once) the demo users, the demo university with the learner as its learner and the
    university admin as its admin, and its API client; make the instructor teach every demo
    course. Returns the logins, with the passwords and secret kept or replaced as the module says."""
    User = get_user_model()
    logins = DemoLogins(base_url=base_url)
    university, _created = Organization.objects.get_or_create(
        slug=DEMO_UNIVERSITY["slug"], defaults={"name": DEMO_UNIVERSITY["name"], "kind": Organization.Kind.UNIVERSITY}
    )
    logins.university = university.name
    for role, email, name, flags in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            # The demo addresses cannot receive mail: mark them confirmed, or every page nags the
            # demo users to confirm an address nobody can read.
            user = user_create(email=email, password=password, full_name=name, email_verified_at=timezone.now(),
                               **flags)  # fmt: skip
        else:
            password = _password_for(user, known_passwords.get(email))
            if password is None:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save(update_fields=["password"])
        logins.users.append((role, email, password))
        if role == "learner" and user.organization_id is None:
            user.organization = university
            user.save(update_fields=["organization"])
        elif role == "university admin":
            membership_grant(user=user, organization=university)
        elif role == "instructor":
            for course in courses:
                course.instructors.add(user)
    client = ApiClient.objects.filter(organization=university, name=DEMO_API_CLIENT, is_active=True).first()
    if client is None:
        creds = api_client_create(organization=university, name=DEMO_API_CLIENT, scopes=list(Scope.values))
        logins.client_id, logins.client_secret = creds.client_id, creds.client_secret
    elif known_secret and check_password(known_secret, client.application.client_secret):
        logins.client_id, logins.client_secret = client.application.client_id, known_secret
    else:  # the secret is lost (stored hashed only): a new one, and the old one's tokens revoked
        creds = api_client_rotate_secret(client=client)
        logins.client_id, logins.client_secret = creds.client_id, creds.client_secret
    return logins
