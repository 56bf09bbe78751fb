"""Starts the test LTI platform (server.py) as a subprocess for pytest.

platform = LtiPlatformServer().start()
platform.register_tool(live_server_url)          # the pre-made client now points at Kafaat
platform.control(next_launch={"exp_delta": -600}) # the next launch carries an expired id_token
page.goto(platform.course_url(user="learner1"))
platform.stop()
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import requests

from tests.processes import ARTIFACTS, ROOT, free_port, wait_for

PREMADE_CLIENT_ID = "kafaat-test-client"
PREMADE_DEPLOYMENT_ID = "dep-1"


class LtiPlatformServer:
    """One platform subprocess on http://localhost:<port>; its output goes to
    test-artifacts/lti-platform-<port>.log and its state to <state_dir>/state.json."""

    client_id = PREMADE_CLIENT_ID
    deployment_id = PREMADE_DEPLOYMENT_ID
    context_id = "ctx-1"

    def __init__(self, *, port: int | None = None, state_dir: Path | str | None = None, tool_base: str | None = None):
        self.port = port or free_port()
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="lti-platform-"))
        self.tool_base = tool_base
        self.log_path = ARTIFACTS / f"lti-platform-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    # --- addresses ---
    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def auth_login_url(self) -> str:
        """The OIDC authorization endpoint (pylti1p3's `auth_login_url`)."""
        return f"{self.url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    auth_token_url = token_url  # pylti1p3's name

    @property
    def keyset_url(self) -> str:
        return f"{self.url}/jwks"

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def replay_url(self) -> str:
        return f"{self.url}/_replay"

    def course_url(self, *, user: str = "learner1", context_id: str = "ctx-1") -> str:
        return f"{self.url}/course/{context_id}/?user={user}"

    def link_view_url(self, link_id: str, *, user: str = "learner1", context_id: str = "ctx-1") -> str:
        return f"{self.url}/course/{context_id}/view/{link_id}/?user={user}"

    def add_content_url(
        self, *, user: str = "teacher1", client_id: str | None = None, context_id: str = "ctx-1"
    ) -> str:
        query = {"user": user, **({"client": client_id} if client_id else {})}
        return f"{self.url}/course/{context_id}/add/?{urlencode(query)}"

    def gradebook_url(self, *, context_id: str = "ctx-1") -> str:
        return f"{self.url}/course/{context_id}/gradebook/"

    def dynreg_start_url(self, initiation_url: str) -> str:
        return f"{self.url}/dynreg/start/?{urlencode({'url': initiation_url})}"

    # --- process ---
    def start(self, timeout: float = 30) -> "LtiPlatformServer":
        ARTIFACTS.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "tests.lti_platform.server", "--port", str(self.port)]
        cmd += ["--state-dir", str(self.state_dir)]
        if self.tool_base:
            cmd += ["--tool-base", self.tool_base]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "DJANGO_"))}
        env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()  # the child holds its own descriptor
        wait_for(self._answers, timeout=timeout, message=f"the LTI platform on port {self.port} (see {self.log_path})")
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the LTI platform exited with {self.proc.returncode}; see {self.log_path}")
        try:
            return requests.get(self.keyset_url, timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> "LtiPlatformServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- test controls ---
    def control(self, **body) -> dict:
        """POST /_control. Keys: down (bool), next_launch (dict, once), register_tool (dict),
        add_link (dict), reset (bool). Returns the platform's answer (faults, registration, link)."""
        response = requests.post(f"{self.url}/_control", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict:
        response = requests.get(f"{self.url}/_state", timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> dict:
        """Back to the start: only the pre-made client (no tool), no links, scores or faults."""
        return self.control(reset=True)

    def register_tool(
        self, tool_base: str, *, client_id: str = PREMADE_CLIENT_ID, deployment_id: str = PREMADE_DEPLOYMENT_ID, **urls
    ) -> dict:
        """Points a client at a tool laid out as Kafaat is ({tool_base}/lti/login/, /lti/launch/,
        /lti/jwks.json); `urls` may override oidc_login_url, launch_url, deeplink_launch_url,
        redirect_uris, jwks_uri, custom_parameters. Returns the registration."""
        spec = {"tool_base": tool_base, "client_id": client_id, "deployment_id": deployment_id, **urls}
        return self.control(register_tool=spec)["registration"]

    def add_link(
        self,
        *,
        title: str,
        url: str | None = None,
        custom: dict | None = None,
        line_item: dict | None = None,
        client_id: str = PREMADE_CLIENT_ID,
    ) -> dict:
        """Places a resource link in ctx-1 without deep linking (line_item: {scoreMaximum, label,
        resourceId, tag}). Returns the link, with its `id` and `line_item_id`."""
        spec = {"title": title, "url": url, "custom": custom, "line_item": line_item, "client_id": client_id}
        return self.control(add_link=spec)["link"]

    def scores(self) -> list[dict]:
        """Every score the platform received, in order (refused ones have status 'refused')."""
        return self.state()["scores"]
