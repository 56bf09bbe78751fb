"""The test platform's pages in Debian's chromium, with a minimal stand-in tool (an http.server
here, not Kafaat): the iframes, the auto-posted launch forms, the deep-linking return and the
dynamic-registration close message all work in a real browser."""

import html
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from lti1p3platform.registration import Registration as PlatformRegistration

from tests.lti_platform.store import new_rsa_key

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


class StandInTool:
    """Just enough of an LTI tool to drive the platform: OIDC login redirect, a launch page that
    shows who launched (or answers deep linking with one item), and a registration page."""

    def __init__(self, platform) -> None:
        self.platform = platform
        self.private_key, public_key = new_rsa_key()
        self.jwk = PlatformRegistration.get_jwk(public_key)
        self.registered: dict | None = None
        tool = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
                q = {k: v[0] for k, v in query.items()}
                if path == "/lti/jwks.json":
                    self.reply(json.dumps({"keys": [tool.jwk]}), "application/json")
                elif path == "/lti/login/":
                    params = {
                        "scope": "openid",
                        "response_type": "id_token",
                        "response_mode": "form_post",
                        "prompt": "none",
                        "client_id": q["client_id"],
                        "redirect_uri": q["target_link_uri"],
                        "login_hint": q["login_hint"],
                        "lti_message_hint": q["lti_message_hint"],
                        "state": secrets.token_urlsafe(8),
                        "nonce": secrets.token_urlsafe(8),
                    }
                    self.send_response(302)
                    self.send_header("Location", f"{q['iss']}/auth?{urlencode(params)}")
                    self.end_headers()
                elif path.startswith("/lti/register/"):
                    tool.register(q["openid_configuration"], q["registration_token"])
                    script = "window.parent.postMessage({subject: 'org.imsglobal.lti.close'}, '*');"
                    self.reply(f"<p>Registering</p><script>{script}</script>")
                else:
                    self.send_error(404)

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self.reply(tool.launch(form["id_token"]))

            def reply(self, body: str, content_type: str = "text/html; charset=utf-8") -> None:
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("localhost", 0), Handler)
        self.base = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def launch(self, id_token: str) -> str:
        key = jwt.PyJWKClient(self.platform.keyset_url).get_signing_key_from_jwt(id_token)
        claims = jwt.decode(id_token, key.key, algorithms=["RS256"], options={"verify_aud": False})
        if claims[CLAIM + "message_type"] != "LtiDeepLinkingRequest":
            custom = json.dumps(claims[CLAIM + "custom"])
            return f'<p id="launched">Launched as {html.escape(claims["sub"])}: {html.escape(custom)}</p>'
        settings = claims[DL + "deep_linking_settings"]
        now = int(time.time())
        response = {
            "iss": claims["aud"],
            "aud": claims["iss"],
            "iat": now,
            "exp": now + 60,
            "nonce": secrets.token_urlsafe(8),
            CLAIM + "message_type": "LtiDeepLinkingResponse",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": claims[CLAIM + "deployment_id"],
            DL + "data": settings["data"],
            DL + "content_items": [
                {
                    "type": "ltiResourceLink",
                    "title": "Assignment 12",
                    "url": f"{self.base}/lti/launch/",
                    "custom": {"kafaat_resource": "assignment:12"},
                    "lineItem": {"scoreMaximum": 10, "label": "Assignment 12"},
                }
            ],
        }
        signed = jwt.encode(response, self.private_key, algorithm="RS256", headers={"kid": self.jwk["kid"]})
        return (
            f'<form id="dl" method="post" action="{html.escape(settings["deep_link_return_url"])}">'
            f'<input type="hidden" name="JWT" value="{html.escape(signed)}"></form>'
            "<script>document.getElementById('dl').submit();</script>"
        )

    def register(self, openid_configuration: str, registration_token: str) -> None:
        config = requests.get(openid_configuration, timeout=10).json()
        body = {
            "application_type": "web",
            "response_types": ["id_token"],
            "grant_types": ["implicit", "client_credentials"],
            "initiate_login_uri": f"{self.base}/lti/login/",
            "redirect_uris": [f"{self.base}/lti/launch/"],
            "client_name": "Stand-in tool",
            "jwks_uri": f"{self.base}/lti/jwks.json",
            "token_endpoint_auth_method": "private_key_jwt",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                "domain": urlsplit(self.base).netloc,
                "target_link_uri": f"{self.base}/lti/launch/",
                "messages": [{"type": "LtiDeepLinkingRequest"}],
            },
        }
        answer = requests.post(
            config["registration_endpoint"],
            json=body,
            headers={"Authorization": f"Bearer {registration_token}"},
            timeout=10,
        )
        answer.raise_for_status()
        self.registered = answer.json()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: scripts/test.sh installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def stand_in_tool(lti_platform):
    tool = StandInTool(lti_platform)
    yield tool
    tool.stop()


def test_a_teacher_deep_links_an_item_then_a_learner_launches_it_in_the_course_iframe(
    lti_platform, stand_in_tool, page
):
    lti_platform.register_tool(stand_in_tool.base)
    page.goto(lti_platform.course_url(user="teacher1"))
    page.click("#add-content")
    frame = page.frame_locator("#lti-frame")
    frame.locator("#deeplink-added").wait_for()
    assert frame.locator("#deeplink-added").inner_text() == "Added: Assignment 12"

    page.goto(lti_platform.course_url(user="learner1"))
    page.get_by_role("link", name="Launch").click()
    launched = page.frame_locator("#lti-frame").locator("#launched")
    launched.wait_for()
    assert launched.inner_text() == 'Launched as learner1: {"kafaat_resource": "assignment:12"}'
    (launch,) = [x for x in lti_platform.state()["launches"] if x["message_type"] == "LtiResourceLinkRequest"]
    assert launch["user"] == "learner1"


def test_dynamic_registration_in_the_iframe_ends_with_tool_registered(lti_platform, stand_in_tool, page):
    page.goto(lti_platform.dynreg_start_url(f"{stand_in_tool.base}/lti/register/tok/"))
    page.locator("#dynreg-done").wait_for(state="visible")
    assert page.locator("#dynreg-done").inner_text() == "Tool registered"
    client_id = stand_in_tool.registered["client_id"]
    assert lti_platform.state()["registrations"][client_id]["oidc_login_url"] == f"{stand_in_tool.base}/lti/login/"
