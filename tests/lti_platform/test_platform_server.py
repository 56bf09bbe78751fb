"""The test LTI platform on its own, over HTTP: its keys and configuration, the token endpoint's
checks, AGS and NRPS behind tokens, the OIDC launch it signs (and the faults it can forge), deep
linking back and dynamic registration. A tiny HTTP server here plays the tool's JWKS; pylti1p3
(the library Kafaat's tool side uses) plays the tool's service calls."""

import html
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from lti1p3platform.registration import Registration as PlatformRegistration
from pylti1p3.registration import Registration as ToolRegistration
from pylti1p3.service_connector import ServiceConnector

from tests.lti_platform.store import new_rsa_key

AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_RESULTS = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


class ToolKeys:
    """A tool's key pair and the JWKS document it serves."""

    def __init__(self) -> None:
        self.private_key, self.public_key = new_rsa_key()
        self.jwk = PlatformRegistration.get_jwk(self.public_key)
        self.kid = self.jwk["kid"]

    def sign(self, claims: dict, *, private_key: str | None = None) -> str:
        return jwt.encode(claims, private_key or self.private_key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def tool():
    """A stand-in tool on localhost that serves only its JWKS at /lti/jwks.json."""
    keys = ToolKeys()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path != "/lti/jwks.json":
                self.send_error(404)
                return
            body = json.dumps({"keys": [keys.jwk]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("localhost", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    keys.base = f"http://localhost:{server.server_address[1]}"
    yield keys
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(lti_platform, tool):
    lti_platform.register_tool(tool.base)
    return lti_platform


def assertion(platform, tool, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_url,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **overrides,
    }
    return tool.sign(claims)


def token_request(platform, client_assertion: str, scope: str = AGS_SCORE) -> requests.Response:
    return requests.post(
        platform.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
            "scope": scope,
        },
        timeout=10,
    )


def service_connector(platform, tool) -> ServiceConnector:
    registration = (
        ToolRegistration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_token_url(platform.token_url)
        .set_auth_login_url(platform.auth_login_url)
        .set_key_set_url(platform.keyset_url)
        .set_tool_private_key(tool.private_key)
        .set_tool_public_key(tool.public_key)
    )
    return ServiceConnector(registration)


def score(user_id: str, given: float, maximum: float = 10, **extra) -> dict:
    return {
        "userId": user_id,
        "scoreGiven": given,
        "scoreMaximum": maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": extra.pop("timestamp", "2026-12-03T10:00:00+00:00"),
        **extra,
    }


def start_launch(platform, query: dict) -> dict:
    """/launch/init as the browser's iframe would open it; returns the tool login's query."""
    response = requests.get(f"{platform.url}/launch/init", params=query, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def authenticate(platform, login: dict, **overrides) -> requests.Response:
    """The tool's OIDC authentication request, answering its login initiation."""
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": login["target_link_uri"],
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "state": "state-123",
        "nonce": "nonce-456",
        **overrides,
    }
    return requests.get(platform.auth_login_url, params=params, timeout=10)


def form_fields(page: str) -> dict:
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    fields["action"] = re.search(r'action="([^"]*)"', page).group(1)
    return {k: html.unescape(v) for k, v in fields.items()}


def verify_id_token(platform, id_token: str) -> dict:
    key = jwt.PyJWKClient(platform.keyset_url).get_signing_key_from_jwt(id_token)
    return jwt.decode(id_token, key.key, algorithms=["RS256"], audience=platform.client_id, issuer=platform.issuer)


def test_serves_its_public_key_set_and_platform_configuration(lti_platform):
    keys = requests.get(lti_platform.keyset_url, timeout=10).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert "d" not in keys[0]  # no private part

    config = requests.get(lti_platform.openid_configuration_url, timeout=10).json()
    assert config["issuer"] == lti_platform.issuer
    assert config["authorization_endpoint"] == lti_platform.auth_login_url
    assert config["token_endpoint"] == lti_platform.token_url
    assert config["jwks_uri"] == lti_platform.keyset_url
    assert config["registration_endpoint"] == f"{lti_platform.url}/dynreg/register"
    assert {AGS_SCORE, AGS_RESULTS, AGS_LINEITEM, NRPS} <= set(config["scopes_supported"])
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    messages = config["https://purl.imsglobal.org/spec/lti-platform-configuration"]["messages_supported"]
    assert {m["type"] for m in messages} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}


def test_token_refused_for_an_assertion_not_signed_by_the_tools_key(platform, tool):
    other_private_key, _ = new_rsa_key()
    forged = tool.sign(
        {"iss": platform.client_id, "sub": platform.client_id, "aud": platform.token_url, "exp": int(time.time()) + 60},
        private_key=other_private_key,
    )
    response = token_request(platform, forged)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()
    assert platform.state()["token_requests"][-1]["ok"] is False


def test_token_refused_for_a_wrong_audience_an_unknown_client_or_a_replayed_assertion(platform, tool):
    assert token_request(platform, assertion(platform, tool, aud="http://elsewhere/token")).status_code == 401
    unknown = assertion(platform, tool, iss="nobody", sub="nobody")
    assert token_request(platform, unknown).status_code == 401
    once = assertion(platform, tool)
    assert token_request(platform, once).status_code == 200
    assert token_request(platform, once).status_code == 401


def test_a_pylti1p3_tool_gets_a_token_posts_a_score_and_reads_it_back(platform, tool):
    link = platform.add_link(
        title="Quiz 1", custom={"kafaat_resource": "assignment:12"}, line_item={"scoreMaximum": 10}
    )
    lineitem_url = f"{platform.url}/ags/ctx-1/lineitems/{link['line_item_id']}"
    connector = service_connector(platform, tool)

    access_token = connector.get_access_token([AGS_SCORE, AGS_RESULTS, AGS_LINEITEM])
    assert access_token
    connector.make_service_request(  # raises unless the platform answers 2xx
        [AGS_SCORE, AGS_RESULTS, AGS_LINEITEM],
        f"{lineitem_url}/scores",
        is_post=True,
        data=json.dumps(score("learner1", 8, comment="Well done")),
        content_type="application/vnd.ims.lis.v1.score+json",
    )
    results = connector.make_service_request(
        [AGS_SCORE, AGS_RESULTS, AGS_LINEITEM],
        f"{lineitem_url}/results",
        accept="application/vnd.ims.lis.v2.resultcontainer+json",
    )["body"]
    assert [(r["userId"], r["resultScore"], r["resultMaximum"]) for r in results] == [("learner1", 8, 10)]

    logged = platform.scores()
    assert len(logged) == 1 and logged[0]["status"] == "accepted"
    assert logged[0]["raw"]["comment"] == "Well done" and logged[0]["received_at"]
    gradebook = requests.get(platform.gradebook_url(), timeout=10).text
    assert re.search(r'data-user="learner1" data-grading-progress="FullyGraded">8 / 10<', gradebook)


def test_scores_refused_without_a_bearer_token_or_with_a_token_of_another_scope(platform, tool):
    link = platform.add_link(title="Quiz 1", line_item={"scoreMaximum": 10})
    scores_url = f"{platform.url}/ags/ctx-1/lineitems/{link['line_item_id']}/scores"
    body = json.dumps(score("learner1", 9))
    headers = {"Content-Type": "application/vnd.ims.lis.v1.score+json"}

    assert requests.post(scores_url, data=body, headers=headers, timeout=10).status_code == 401
    forged = {"Authorization": "Bearer not-a-token", **headers}
    assert requests.post(scores_url, data=body, headers=forged, timeout=10).status_code == 401
    nrps_only = token_request(platform, assertion(platform, tool), scope=NRPS).json()["access_token"]
    wrong_scope = {"Authorization": f"Bearer {nrps_only}", **headers}
    assert requests.post(scores_url, data=body, headers=wrong_scope, timeout=10).status_code == 401
    assert platform.scores() == []

    # The NRPS token does open the memberships.
    members = requests.get(
        f"{platform.url}/nrps/ctx-1/memberships", headers={"Authorization": f"Bearer {nrps_only}"}, timeout=10
    )
    assert members.status_code == 200
    assert members.headers["Content-Type"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    assert {m["user_id"] for m in members.json()["members"]} == {"learner1", "learner2", "teacher1"}
    assert members.json()["context"]["id"] == "ctx-1"


def test_older_scores_and_strangers_scores_are_refused_but_logged(platform, tool):
    link = platform.add_link(title="Quiz 1", line_item={"scoreMaximum": 10})
    scores_url = f"{platform.url}/ags/ctx-1/lineitems/{link['line_item_id']}/scores"
    bearer = token_request(platform, assertion(platform, tool)).json()["access_token"]
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/vnd.ims.lis.v1.score+json"}

    def post(body):
        return requests.post(scores_url, data=json.dumps(body), headers=headers, timeout=10).status_code

    assert post(score("learner1", 5, timestamp="2026-12-03T10:00:00Z")) == 201
    assert post(score("learner1", 7, timestamp="2026-12-03T09:00:00Z")) == 409
    assert post(score("stranger", 7)) == 400
    assert [s["status"] for s in platform.scores()] == ["accepted", "refused", "refused"]
    assert "5 / 10" in requests.get(platform.gradebook_url(), timeout=10).text


def test_down_answers_503_on_token_lineitems_and_scores(platform, tool):
    link = platform.add_link(title="Quiz 1", line_item={"scoreMaximum": 10})
    bearer = token_request(platform, assertion(platform, tool)).json()["access_token"]
    platform.control(down=True)
    assert token_request(platform, assertion(platform, tool)).status_code == 503
    auth = {"Authorization": f"Bearer {bearer}"}
    assert requests.get(f"{platform.url}/ags/ctx-1/lineitems", headers=auth, timeout=10).status_code == 503
    scores_url = f"{platform.url}/ags/ctx-1/lineitems/{link['line_item_id']}/scores"
    assert requests.post(scores_url, json=score("learner1", 1), headers=auth, timeout=10).status_code == 503
    platform.control(down=False)
    assert requests.post(scores_url, json=score("learner1", 1), headers=auth, timeout=10).status_code == 201


def test_a_resource_link_launch_is_signed_with_the_claims_of_the_link_and_the_user(platform, tool):
    link = platform.add_link(
        title="Quiz 1", custom={"kafaat_resource": "assignment:12"}, line_item={"scoreMaximum": 10}
    )
    login = start_launch(platform, {"link": link["id"], "user": "learner1"})
    assert login["iss"] == platform.issuer and login["login_hint"] == "learner1"
    assert login["client_id"] == platform.client_id and login["lti_deployment_id"] == platform.deployment_id
    assert login["target_link_uri"] == f"{tool.base}/lti/launch/"

    form = form_fields(authenticate(platform, login).text)
    assert form["action"] == f"{tool.base}/lti/launch/" and form["state"] == "state-123"
    claims = verify_id_token(platform, form["id_token"])
    assert claims["sub"] == "learner1" and claims["nonce"] == "nonce-456"
    assert claims["name"] == "Salma Learner" and claims["email"] == "learner1@lms.example"
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    assert claims[CLAIM + "deployment_id"] == "dep-1"
    assert claims[CLAIM + "resource_link"]["id"] == link["id"]
    assert claims[CLAIM + "custom"] == {"kafaat_resource": "assignment:12"}
    assert claims[CLAIM + "context"]["id"] == "ctx-1"
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitem"] == f"{platform.url}/ags/ctx-1/lineitems/{link['line_item_id']}"
    assert ags["lineitems"] == f"{platform.url}/ags/ctx-1/lineitems" and AGS_SCORE in ags["scope"]
    nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]
    assert nrps["context_memberships_url"] == f"{platform.url}/nrps/ctx-1/memberships"

    replayed = form_fields(requests.get(platform.replay_url, timeout=10).text)
    assert replayed == form


def test_the_authorization_endpoint_refuses_a_foreign_redirect_uri_or_login_hint(platform, tool):
    link = platform.add_link(title="Quiz 1")
    login = start_launch(platform, {"link": link["id"], "user": "learner1"})
    platform.control(next_launch={"state": "state-bogus"})
    assert authenticate(platform, login, redirect_uri="http://localhost:1/evil").status_code == 400
    assert authenticate(platform, login, login_hint="teacher1").status_code == 400
    assert authenticate(platform, login, client_id="someone-else").status_code == 400
    assert authenticate(platform, login, nonce="").status_code == 400
    assert len(platform.state()["auth_errors"]) == 4
    # The refused requests left the fault for the first launch that is built.
    assert form_fields(authenticate(platform, login).text)["state"] == "state-bogus"
    assert form_fields(authenticate(platform, login).text)["state"] == "state-123"


def test_line_items_are_created_found_by_resource_link_and_updated_with_a_lineitem_token(platform, tool):
    link = platform.add_link(title="Quiz 1")
    bearer = token_request(platform, assertion(platform, tool), scope=AGS_LINEITEM).json()["access_token"]
    auth = {"Authorization": f"Bearer {bearer}"}
    lineitems = f"{platform.url}/ags/ctx-1/lineitems"
    created = requests.post(
        lineitems,
        json={"label": "Quiz 1", "scoreMaximum": 5, "resourceLinkId": link["id"], "resourceId": "quiz:1"},
        headers={**auth, "Content-Type": "application/vnd.ims.lis.v2.lineitem+json"},
        timeout=10,
    )
    assert created.status_code == 201
    assert created.json()["id"].startswith(f"{lineitems}/")
    assert requests.post(lineitems, json={"label": "No maximum"}, headers=auth, timeout=10).status_code == 400
    found = requests.get(lineitems, params={"resource_link_id": link["id"]}, headers=auth, timeout=10).json()
    assert [i["resourceId"] for i in found] == ["quiz:1"]
    assert requests.get(lineitems, params={"resource_link_id": "rl-x"}, headers=auth, timeout=10).json() == []
    updated = requests.put(
        created.json()["id"], json={"label": "Quiz one", "scoreMaximum": 6}, headers=auth, timeout=10
    )
    assert updated.status_code == 200 and updated.json()["scoreMaximum"] == 6
    item_id = created.json()["id"].rsplit("/", 1)[1]
    assert platform.state()["line_items"][item_id]["label"] == "Quiz one"
    # A lineitem token gives no right to post scores.
    scores = requests.post(f"{created.json()['id']}/scores", json=score("learner1", 1), headers=auth, timeout=10)
    assert scores.status_code == 401


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"exp_delta": -600}, jwt.ExpiredSignatureError),
        ({"sign_with_foreign_key": True}, jwt.InvalidSignatureError),
        ({"aud": "someone-else"}, jwt.InvalidAudienceError),
        ({"iss": "http://localhost:1"}, jwt.InvalidIssuerError),
        ({"iat_delta": 3600}, jwt.ImmatureSignatureError),
    ],
)
def test_a_forged_launch_is_applied_to_the_next_launch_only(platform, tool, fault, error):
    link = platform.add_link(title="Quiz 1")
    platform.control(next_launch=fault)
    forged = form_fields(authenticate(platform, start_launch(platform, {"link": link["id"], "user": "learner1"})).text)
    with pytest.raises(error):
        verify_id_token(platform, forged["id_token"])
    honest = form_fields(authenticate(platform, start_launch(platform, {"link": link["id"], "user": "learner1"})).text)
    assert verify_id_token(platform, honest["id_token"])["sub"] == "learner1"


def test_deep_linking_places_the_tools_items_with_their_line_items(platform, tool):
    login = start_launch(platform, {"dl": "1", "user": "teacher1"})
    claims = verify_id_token(platform, form_fields(authenticate(platform, login).text)["id_token"])
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    settings = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    assert settings["deep_link_return_url"] == f"{platform.url}/deeplink/return"
    assert settings["accept_types"] == ["ltiResourceLink"]

    item = {
        "type": "ltiResourceLink",
        "title": "Assignment <12>",
        "url": f"{tool.base}/lti/launch/",
        "custom": {"kafaat_resource": "assignment:12"},
        "lineItem": {"scoreMaximum": 20, "label": "Assignment 12", "resourceId": "assignment:12", "tag": "grade"},
    }
    response_jwt = tool.sign(
        {
            "iss": platform.client_id,
            "aud": platform.issuer,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "nonce": "dl-nonce",
            CLAIM + "message_type": "LtiDeepLinkingResponse",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": "dep-1",
            "https://purl.imsglobal.org/spec/lti-dl/claim/data": settings["data"],
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [item],
        }
    )
    returned = requests.post(settings["deep_link_return_url"], data={"JWT": response_jwt}, timeout=10)
    assert returned.status_code == 200
    assert "Added: Assignment &lt;12&gt;" in returned.text

    state = platform.state()
    (link,) = state["resource_links"].values()
    assert link["custom"] == {"kafaat_resource": "assignment:12"} and link["url"] == item["url"]
    line_item = state["line_items"][link["line_item_id"]]
    assert (line_item["scoreMaximum"], line_item["resourceLinkId"], line_item["tag"]) == (20, link["id"], "grade")
    assert link["id"] in requests.get(platform.course_url(user="learner1"), timeout=10).text
    # The same response again is refused: the request it answers was answered.
    again = requests.post(settings["deep_link_return_url"], data={"JWT": response_jwt}, timeout=10)
    assert again.status_code == 400
    assert len(platform.state()["resource_links"]) == 1


def test_only_instructors_start_deep_linking(platform):
    response = requests.get(f"{platform.url}/launch/init", params={"dl": "1", "user": "learner1"}, timeout=10)
    assert response.status_code == 403
    assert requests.get(platform.add_content_url(user="learner1"), timeout=10).status_code == 403


def test_dynamic_registration_registers_a_tool_that_can_then_be_launched(lti_platform, tool):
    start = requests.get(lti_platform.dynreg_start_url(f"{tool.base}/lti/register/tok/"), timeout=10).text
    src = html.unescape(re.search(r'id="dynreg-frame" title="Tool registration" src="([^"]*)"', start).group(1))
    query = parse_qs(urlsplit(src).query)
    assert query["openid_configuration"] == [lti_platform.openid_configuration_url]
    registration_token = query["registration_token"][0]
    assert 'id="dynreg-done" hidden' in start

    request_body = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{tool.base}/lti/login/",
        "redirect_uris": [f"{tool.base}/lti/launch/"],
        "client_name": "Kafaat",
        "jwks_uri": f"{tool.base}/lti/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{AGS_SCORE} {NRPS}",
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": urlsplit(tool.base).netloc,
            "target_link_uri": f"{tool.base}/lti/launch/",
            "claims": ["iss", "sub", "name", "email"],
            "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": f"{tool.base}/lti/launch/"}],
        },
    }
    register = f"{lti_platform.url}/dynreg/register"
    assert (
        requests.post(register, json=request_body, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code
        == 401
    )
    auth = {"Authorization": f"Bearer {registration_token}"}
    incomplete = {k: v for k, v in request_body.items() if k != "jwks_uri"}
    assert requests.post(register, json=incomplete, headers=auth, timeout=10).status_code == 400

    answer = requests.post(register, json=request_body, headers=auth, timeout=10)
    assert answer.status_code == 200
    client_id = answer.json()["client_id"]
    deployment_id = answer.json()["https://purl.imsglobal.org/spec/lti-tool-configuration"]["deployment_id"]
    assert client_id and deployment_id and client_id != lti_platform.client_id
    assert requests.post(register, json=request_body, headers=auth, timeout=10).status_code == 401  # used up

    link = lti_platform.add_link(title="Registered", client_id=client_id)
    login = start_launch(lti_platform, {"link": link["id"], "user": "learner2"})
    assert (login["client_id"], login["lti_deployment_id"]) == (client_id, deployment_id)
    claims = verify_id_token_for(
        lti_platform, form_fields(authenticate(lti_platform, login).text)["id_token"], client_id
    )
    assert claims["sub"] == "learner2" and claims[CLAIM + "deployment_id"] == deployment_id


def verify_id_token_for(platform, id_token: str, client_id: str) -> dict:
    key = jwt.PyJWKClient(platform.keyset_url).get_signing_key_from_jwt(id_token)
    return jwt.decode(id_token, key.key, algorithms=["RS256"], audience=client_id, issuer=platform.issuer)
