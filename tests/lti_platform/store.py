"""The platform's whole state, in memory under one lock, written to `<state-dir>/state.json` after
each change (for a failed test's post-mortem). Users and the course are fixed; registrations,
resource links, line items, scores, deep-linking results and dynamic registrations are not."""

import copy
import datetime
import json
import secrets
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"

USERS = {
    "learner1": {"name": "Salma Learner", "given_name": "Salma", "family_name": "Learner", "roles": [LEARNER]},
    "learner2": {"name": "Karim Learner", "given_name": "Karim", "family_name": "Learner", "roles": [LEARNER]},
    "teacher1": {"name": "Nadia Teacher", "given_name": "Nadia", "family_name": "Teacher", "roles": [INSTRUCTOR]},
}
for _user_id, _user in USERS.items():
    _user["email"] = f"{_user_id}@lms.example"

CONTEXTS = {
    "ctx-1": {
        "id": "ctx-1",
        "title": "Health data 101",
        "label": "HD101",
        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
        "members": ["learner1", "learner2", "teacher1"],
    }
}

PREMADE_CLIENT_ID = "kafaat-test-client"
PREMADE_DEPLOYMENT_ID = "dep-1"


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def new_rsa_key() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def tool_registration(*, client_id: str, deployment_id: str, tool_base: str) -> dict:
    """A registration for a tool laid out as Kafaat is (the tool contract's URLs under tool_base)."""
    base = tool_base.rstrip("/")
    return {
        "client_id": client_id,
        "deployment_ids": [deployment_id],
        "client_name": "Kafaat",
        "oidc_login_url": f"{base}/lti/login/",
        "launch_url": f"{base}/lti/launch/",
        "deeplink_launch_url": f"{base}/lti/launch/",
        "redirect_uris": [f"{base}/lti/launch/"],
        "jwks_uri": f"{base}/lti/jwks.json",
        "custom_parameters": {},
        "source": "control",
    }


class Store:
    def __init__(self, *, issuer: str, state_dir: Path) -> None:
        self.issuer = issuer
        self.state_dir = state_dir
        self.lock = threading.RLock()
        self.private_key, self.public_key = new_rsa_key()
        # Signs launches when a test asks for a forged one (`sign_with_foreign_key`): not in /jwks.
        self.foreign_private_key, _ = new_rsa_key()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.registrations: dict[str, dict] = {
                PREMADE_CLIENT_ID: {
                    "client_id": PREMADE_CLIENT_ID,
                    "deployment_ids": [PREMADE_DEPLOYMENT_ID],
                    "client_name": None,
                    "oidc_login_url": None,
                    "launch_url": None,
                    "deeplink_launch_url": None,
                    "redirect_uris": [],
                    "jwks_uri": None,
                    "custom_parameters": {},
                    "source": "premade",
                }
            }
            self.resource_links: dict[str, dict] = {}
            self.line_items: dict[str, dict] = {}
            self.scores: list[dict] = []
            self.deep_link_requests: dict[str, dict] = {}
            self.deep_link_items: list[dict] = []
            self.deep_link_errors: list[dict] = []
            self.dynreg_tokens: dict[str, dict] = {}
            self.dynreg_registrations: list[dict] = []
            self.message_hints: dict[str, dict] = {}
            self.launches: list[dict] = []
            self.auth_errors: list[dict] = []
            self.token_requests: list[dict] = []
            self.used_assertion_jtis: set[str] = set()
            self.faults: dict = {"down": False, "next_launch": None}
            self.last_launch_form: dict | None = None
            self._counter = 0
            self.save()

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            return f"{prefix}{self._counter}"

    def snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(
                {
                    "issuer": self.issuer,
                    "registrations": self.registrations,
                    "resource_links": self.resource_links,
                    "line_items": self.line_items,
                    "scores": self.scores,
                    "deep_link_requests": self.deep_link_requests,
                    "deep_link_items": self.deep_link_items,
                    "deep_link_errors": self.deep_link_errors,
                    "dynreg_registrations": self.dynreg_registrations,
                    "dynreg_tokens": self.dynreg_tokens,
                    "message_hints": self.message_hints,
                    "launches": self.launches,
                    "auth_errors": self.auth_errors,
                    "token_requests": self.token_requests,
                    "faults": self.faults,
                    "last_launch_form": self.last_launch_form,
                }
            )

    def save(self) -> None:
        with self.lock:
            data = self.snapshot()
            path = self.state_dir / "state.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2, default=str))
            tmp.replace(path)

    def new_hint(self, **hint) -> str:
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.message_hints[token] = {**hint, "created_at": now_iso()}
            self.save()
        return token

    def latest_scores(self, line_item_id: str) -> dict[str, dict]:
        """The last accepted score of each user on a line item."""
        with self.lock:
            latest: dict[str, dict] = {}
            for score in self.scores:
                if score["line_item_id"] == line_item_id and score["status"] == "accepted":
                    latest[score["userId"]] = score
            return latest


STORE: Store | None = None


def store() -> Store:
    assert STORE is not None, "the server sets the store before serving"
    return STORE
