"""The platform's pages and endpoints (urls.py lists them). The LTI work is the `lti1p3platform`
library's (lti.py); these views route requests to it, keep the store and render plain HTML."""

import json
import logging
import secrets
import typing as t
from urllib.parse import urlencode, urlsplit

import jwt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html, format_html_join
from lti1p3platform.exceptions import (
    LtiDeepLinkingResponseException,
    LtiException,
    MissingRequiredClaim,
    PreflightRequestValidationException,
    UnsupportedGrantType,
)
from lti1p3platform.framework.django.request import DjangoRequest
from lti1p3platform.framework.django.response import wrap_json_resp

from . import lti
from .store import CONTEXTS, INSTRUCTOR, USERS, now_iso, store, tool_registration

log = logging.getLogger("lti_platform")

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"


def page(title: str, body: str, status: int = 200) -> HttpResponse:
    html = format_html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
        "<style>body{{font-family:sans-serif;margin:1rem}} iframe{{width:100%;height:80vh;border:1px solid #888}}"
        " table{{border-collapse:collapse}} td,th{{border:1px solid #888;padding:.3rem}}</style></head>"
        "<body><h1>{}</h1>{}</body></html>",
        title,
        title,
        body,
    )
    return HttpResponse(html, status=status)


def error_page(message: str, status: int = 400) -> HttpResponse:
    log.warning("refused (%s): %s", status, message)
    return page("Error", format_html('<p id="error">{}</p>', message), status=status)


def json_error(error: str, description: str, status: int) -> JsonResponse:
    log.warning("refused (%s): %s: %s", status, error, description)
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _user(request: HttpRequest) -> str | None:
    user = request.GET.get("user", "")
    return user if user in USERS else None


def _context(context_id: str) -> dict | None:
    return CONTEXTS.get(context_id)


# --- keys and configuration ---------------------------------------------------------------------


def jwks(request: HttpRequest) -> JsonResponse:
    conf = lti.PlatformConf(store=store())
    conf.get_registration()
    return JsonResponse(conf.get_jwks())


def openid_configuration(request: HttpRequest) -> JsonResponse:
    issuer = store().issuer
    return JsonResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": f"{issuer}/jwks",
            "registration_endpoint": f"{issuer}/dynreg/register",
            "scopes_supported": [
                "openid",
                lti.SCOPE_LINEITEM,
                lti.SCOPE_LINEITEM_READONLY,
                lti.SCOPE_RESULT_READONLY,
                lti.SCOPE_SCORE,
                lti.SCOPE_NRPS,
            ],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            PLATFORM_CONFIGURATION: {
                "product_family_code": "kafaat-test-lms",
                "version": "1.0",
                "messages_supported": [
                    {"type": "LtiResourceLinkRequest"},
                    {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
                ],
                "variables": [],
            },
        }
    )


# --- course pages --------------------------------------------------------------------------------


def course(request: HttpRequest, context_id: str) -> HttpResponse:
    user, context = _user(request), _context(context_id)
    if user is None or context is None:
        return error_page("Unknown user or course", 404)
    with store().lock:
        links = [dict(link) for link in store().resource_links.values() if link["context_id"] == context_id]
    rows = format_html_join(
        "",
        '<li class="resource-link" data-link-id="{}">{} <a href="/course/{}/view/{}/?user={}">Launch</a></li>',
        ((link["id"], link["title"], context_id, link["id"], user) for link in links),
    )
    body = format_html(
        '<p>Signed in as <span id="user">{}</span> ({})</p><h2>{} ({})</h2><ul id="resource-links">{}</ul>{}'
        '<p><a href="/course/{}/gradebook/?user={}">Gradebook</a></p>',
        user,
        USERS[user]["name"],
        context["title"],
        context["label"],
        rows,
        format_html('<p><a id="add-content" href="/course/{}/add/?user={}">Add content</a></p>', context_id, user)
        if INSTRUCTOR in USERS[user]["roles"]
        else "",
        context_id,
        user,
    )
    return page(context["title"], body)


def course_view(request: HttpRequest, context_id: str, link_id: str) -> HttpResponse:
    user, context = _user(request), _context(context_id)
    with store().lock:
        link = store().resource_links.get(link_id)
    if user is None or context is None or link is None or link["context_id"] != context_id:
        return error_page("Unknown user, course or link", 404)
    src = "/launch/init?" + urlencode({"link": link_id, "user": user})
    return page(
        link["title"],
        format_html(
            '<p><a href="/course/{}/?user={}">Back to the course</a></p>'
            '<iframe id="lti-frame" name="lti-frame" title="{}" src="{}" allow="fullscreen"></iframe>',
            context_id,
            user,
            link["title"],
            src,
        ),
    )


def course_add(request: HttpRequest, context_id: str) -> HttpResponse:
    user, context = _user(request), _context(context_id)
    if user is None or context is None:
        return error_page("Unknown user or course", 404)
    if INSTRUCTOR not in USERS[user]["roles"]:
        return error_page("Only instructors add content", 403)
    params = {"dl": "1", "user": user, "context": context_id, "client": request.GET.get("client", "")}
    return page(
        "Add content",
        format_html(
            '<iframe id="lti-frame" name="lti-frame" title="Choose content" src="/launch/init?{}"></iframe>',
            urlencode(params),
        ),
    )


def gradebook(request: HttpRequest, context_id: str) -> HttpResponse:
    context = _context(context_id)
    if context is None:
        return error_page("Unknown course", 404)
    s = store()
    with s.lock:
        items = [dict(i) for i in s.line_items.values() if i["context_id"] == context_id]
        latest = {i["id"]: s.latest_scores(i["id"]) for i in items}
    header = format_html_join("", '<th data-line-item-id="{}">{}</th>', ((i["id"], i["label"]) for i in items))

    def cell(item: dict, user_id: str) -> str:
        score = latest[item["id"]].get(user_id)
        if score is None or score.get("scoreGiven") is None:
            return format_html('<td data-line-item-id="{}" data-user="{}"></td>', item["id"], user_id)
        return format_html(
            '<td data-line-item-id="{}" data-user="{}" data-grading-progress="{}">{} / {}</td>',
            item["id"],
            user_id,
            score.get("gradingProgress") or "",
            score["scoreGiven"],
            score["scoreMaximum"],
        )

    rows = format_html_join(
        "",
        '<tr data-user="{}"><th>{}</th>{}</tr>',
        ((u, USERS[u]["name"], format_html_join("", "{}", ((cell(i, u),) for i in items))) for u in context["members"]),
    )
    return page(
        "Gradebook",
        format_html('<table id="gradebook"><tr><th>Learner</th>{}</tr>{}</table>', header, rows),
    )


# --- OIDC: third-party initiated login, then the authorization endpoint --------------------------


def _registered(client_id: str) -> dict | None:
    with store().lock:
        registration = store().registrations.get(client_id)
        return dict(registration) if registration else None


def launch_init(request: HttpRequest) -> HttpResponse:
    """Starts a launch: redirects the browser to the tool's login URL with a message hint that
    names the link (or deep linking), the user and the client."""
    s = store()
    user = _user(request)
    if user is None:
        return error_page("Unknown user", 404)
    if request.GET.get("dl"):
        if INSTRUCTOR not in USERS[user]["roles"]:
            return error_page("Only instructors add content", 403)
        context_id = request.GET.get("context") or "ctx-1"
        client_id = request.GET.get("client") or "kafaat-test-client"
        link, message_type = None, "LtiDeepLinkingRequest"
    else:
        with s.lock:
            link = s.resource_links.get(request.GET.get("link", ""))
        if link is None:
            return error_page("Unknown resource link", 404)
        context_id, client_id, message_type = link["context_id"], link["client_id"], "LtiResourceLinkRequest"
    registration = _registered(client_id)
    if registration is None or not registration["oidc_login_url"]:
        return error_page(f"No tool is registered for client {client_id}", 409)
    deployment_id = link["deployment_id"] if link else registration["deployment_ids"][0]
    hint_data = {
        "user": user,
        "message_type": message_type,
        "link_id": link["id"] if link else None,
        "context_id": context_id,
        "client_id": client_id,
        "deployment_id": deployment_id,
    }
    if link is None:
        dl_request = secrets.token_urlsafe(12)
        hint_data["dl_request"] = dl_request
        with s.lock:
            s.deep_link_requests[dl_request] = {
                "client_id": client_id,
                "deployment_id": deployment_id,
                "context_id": context_id,
                "user": user,
                "created_at": now_iso(),
                "used": False,
            }
    hint = s.new_hint(**hint_data)
    conf = lti.PlatformConf(store=s, client_id=client_id, deployment_id=deployment_id)
    login = lti.PlatformOIDCLogin(request, conf)
    login.set_lti_message_hint(hint=hint)
    if link is not None:
        login.set_launch_url(link["url"])
    else:
        login.set_deeplinking_launch_url()
    return login.initiate_login(user)


def _auth_refused(message: str, params: dict) -> HttpResponse:
    with store().lock:
        store().auth_errors.append({"at": now_iso(), "error": message, "params": params})
        store().save()
    return error_page(message, 400)


def auth(request: HttpRequest) -> HttpResponse:
    """The OIDC authorization endpoint: checks the tool's authentication request against the
    registration and the message hint, then answers with the signed launch (an auto-post form)."""
    s = store()
    params = {**request.GET.dict(), **request.POST.dict()}
    client_id = params.get("client_id", "")
    registration = _registered(client_id)
    if registration is None:
        return _auth_refused(f"Unknown client_id {client_id!r}", params)
    if params.get("redirect_uri") not in registration["redirect_uris"]:
        return _auth_refused(f"redirect_uri {params.get('redirect_uri')!r} is not registered", params)
    if "openid" not in params.get("scope", "").split():
        return _auth_refused("scope must include openid", params)
    if params.get("response_type") != "id_token":
        return _auth_refused("response_type must be id_token", params)
    if params.get("response_mode") != "form_post":
        return _auth_refused("response_mode must be form_post", params)
    if params.get("prompt", "none") != "none":
        return _auth_refused("prompt must be none", params)
    with s.lock:
        hint = dict(s.message_hints.get(params.get("lti_message_hint", ""), {}))
    if not hint:
        return _auth_refused("Unknown lti_message_hint", params)
    if hint["client_id"] != client_id:
        return _auth_refused("The message hint is for another client", params)
    if params.get("login_hint") != hint["user"]:
        return _auth_refused("login_hint does not match the user who started the launch", params)
    if not params.get("nonce") or not params.get("state"):
        return _auth_refused("nonce and state are required", params)
    with s.lock:
        faults = s.faults.get("next_launch") or {}
        s.faults["next_launch"] = None  # a fault is for one launch, the first the tool asks for
    conf = lti.PlatformConf(
        store=s, client_id=client_id, deployment_id=hint["deployment_id"], launch_faults=faults or None
    )
    launch = lti.PlatformLaunch(DjangoRequest(request), conf, hint=hint, faults=faults)
    try:
        launch_data = launch.lti_launch()
    except PreflightRequestValidationException:
        return _auth_refused("nonce, state, redirect_uri and client_id are required", params)
    form = {"action": launch_data["launch_url"], "id_token": launch_data["id_token"], "state": launch_data["state"]}
    with s.lock:
        s.last_launch_form = form
        s.launches.append(
            {
                "at": now_iso(),
                "client_id": client_id,
                "user": hint["user"],
                "message_type": hint["message_type"],
                "link_id": hint["link_id"],
                "faults": faults,
                "claims": launch.launch_message,
                "redirect_uri": form["action"],
                "state": form["state"],
            }
        )
        s.save()
    return auto_post_form(form)


def auto_post_form(form: dict) -> HttpResponse:
    html = format_html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Launching</title></head><body>'
        '<form id="lti-launch" method="post" action="{}">'
        '<input type="hidden" name="id_token" value="{}"><input type="hidden" name="state" value="{}">'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('lti-launch').submit();</script></body></html>",
        form["action"],
        form["id_token"],
        form["state"],
    )
    return HttpResponse(html)


def replay(request: HttpRequest) -> HttpResponse:
    with store().lock:
        form = store().last_launch_form
    if form is None:
        return error_page("No launch to replay", 404)
    return auto_post_form(form)


# --- services: token, AGS, NRPS ------------------------------------------------------------------


def _down() -> bool:
    with store().lock:
        return bool(store().faults.get("down"))


def _log_token_request(entry: dict) -> None:
    with store().lock:
        store().token_requests.append({"at": now_iso(), **entry})
        store().save()


def _audiences(claims: dict) -> list:
    aud = claims.get("aud")
    return aud if isinstance(aud, list) else [aud]


def token(request: HttpRequest) -> JsonResponse:
    """Client credentials with a JWT client assertion (the library's get_access_token checks the
    grant and the signature against the tool's JWKS URL; the claims it leaves are checked here)."""
    if _down():
        return json_error("temporarily_unavailable", "the platform is down (test control)", 503)
    if request.method != "POST":
        return json_error("invalid_request", "POST only", 405)
    s = store()
    data = request.POST.dict()
    assertion = data.get("client_assertion", "")
    try:
        claims = lti.PlatformConf(store=s).unverified_jwt_body(assertion)
    except LtiException as error:
        _log_token_request({"ok": False, "error": str(error)})
        return json_error("invalid_client", str(error), 401)
    client_id = claims.get("sub")
    if _registered(str(client_id)) is None or claims.get("iss") != client_id:
        _log_token_request({"ok": False, "client_id": client_id, "error": "unknown client"})
        return json_error("invalid_client", "iss and sub must be a registered client_id", 401)
    conf = lti.PlatformConf(store=s, client_id=client_id)
    conf.get_registration()
    try:
        if data.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise MissingRequiredClaim("client_assertion_type must be jwt-bearer")
        answer = conf.get_access_token(data)
    except MissingRequiredClaim as error:
        _log_token_request({"ok": False, "client_id": client_id, "error": str(error)})
        return json_error("invalid_request", str(error), 400)
    except UnsupportedGrantType:
        _log_token_request({"ok": False, "client_id": client_id, "error": "unsupported grant"})
        return json_error("unsupported_grant_type", "client_credentials only", 400)
    except (LtiException, jwt.PyJWTError) as error:
        _log_token_request({"ok": False, "client_id": client_id, "error": f"{type(error).__name__}: {error}"})
        return json_error("invalid_client", f"{type(error).__name__}: {error}", 401)
    problem = None
    if f"{s.issuer}/token" not in _audiences(claims):
        problem = "aud must be the token endpoint"
    elif "exp" not in claims or "jti" not in claims:
        problem = "exp and jti are required"
    else:
        with s.lock:
            if claims["jti"] in s.used_assertion_jtis:
                problem = "this client assertion (jti) was used before"
            s.used_assertion_jtis.add(claims["jti"])
    if problem:
        _log_token_request({"ok": False, "client_id": client_id, "error": problem})
        return json_error("invalid_client", problem, 401)
    _log_token_request({"ok": True, "client_id": client_id, "scope": answer["scope"]})
    return JsonResponse(dict(answer))


def _service_response(handler: t.Callable[..., t.Any], service: t.Any, **kwargs: t.Any) -> JsonResponse:
    try:
        return wrap_json_resp(service.handle_resp(handler, **kwargs))
    except (LtiException, jwt.PyJWTError) as error:  # an expired, forged or foreign token
        return json_error("invalid_token", f"{type(error).__name__}: {error}", 401)


def _service_request(request: HttpRequest) -> DjangoRequest | JsonResponse:
    try:
        return DjangoRequest(request)
    except ValueError:
        return json_error("invalid_request", "The body is not JSON", 400)


def ags_lineitems(request: HttpRequest, context_id: str) -> JsonResponse:
    if _down():
        return json_error("temporarily_unavailable", "the platform is down (test control)", 503)
    if _context(context_id) is None:
        return json_error("not_found", "no such context", 404)
    lti_request = _service_request(request)
    if isinstance(lti_request, JsonResponse):
        return lti_request
    conf = lti.PlatformConf(store=store())
    conf.get_registration()
    if request.method == "POST":
        service = lti.PlatformAGS(lti_request, conf, context_id=context_id, scopes=[lti.SCOPE_LINEITEM])
        return _service_response(service.handle_create_lineitem, service)
    service = lti.PlatformAGS(
        lti_request, conf, context_id=context_id, scopes=[lti.SCOPE_LINEITEM, lti.SCOPE_LINEITEM_READONLY]
    )
    return _service_response(service.handle_get_lineitems, service)


def ags_lineitem(request: HttpRequest, context_id: str, line_item_id: str) -> JsonResponse:
    if _down():
        return json_error("temporarily_unavailable", "the platform is down (test control)", 503)
    if _context(context_id) is None:
        return json_error("not_found", "no such context", 404)
    lti_request = _service_request(request)
    if isinstance(lti_request, JsonResponse):
        return lti_request
    conf = lti.PlatformConf(store=store())
    conf.get_registration()
    if request.method == "GET":
        scopes, handler = [lti.SCOPE_LINEITEM, lti.SCOPE_LINEITEM_READONLY], "handle_get_lineitem"
    elif request.method == "DELETE":
        scopes, handler = [lti.SCOPE_LINEITEM], "handle_delete_lineitem"
    else:
        scopes, handler = [lti.SCOPE_LINEITEM], "handle_update_lineitem"
    service = lti.PlatformAGS(lti_request, conf, context_id=context_id, scopes=scopes)
    return _service_response(getattr(service, handler), service, line_item_id=line_item_id)


def ags_scores(request: HttpRequest, context_id: str, line_item_id: str) -> JsonResponse:
    if _down():
        return json_error("temporarily_unavailable", "the platform is down (test control)", 503)
    if _context(context_id) is None:
        return json_error("not_found", "no such context", 404)
    lti_request = _service_request(request)
    if isinstance(lti_request, JsonResponse):
        return lti_request
    conf = lti.PlatformConf(store=store())
    conf.get_registration()
    service = lti.PlatformAGS(lti_request, conf, context_id=context_id, scopes=[lti.SCOPE_SCORE])
    return _service_response(service.handle_update_score, service, line_item_id=line_item_id)


def ags_results(request: HttpRequest, context_id: str, line_item_id: str) -> JsonResponse:
    if _down():
        return json_error("temporarily_unavailable", "the platform is down (test control)", 503)
    if _context(context_id) is None:
        return json_error("not_found", "no such context", 404)
    conf = lti.PlatformConf(store=store())
    conf.get_registration()
    service = lti.PlatformAGS(DjangoRequest(request), conf, context_id=context_id, scopes=[lti.SCOPE_RESULT_READONLY])
    service.ags.lineitem_url = f"{store().issuer}/ags/{context_id}/lineitems/{line_item_id}"
    return _service_response(service.handle_get_results, service, line_item_id=line_item_id)


def nrps_memberships(request: HttpRequest, context_id: str) -> JsonResponse:
    if _context(context_id) is None:
        return json_error("not_found", "no such context", 404)
    conf = lti.PlatformConf(store=store())
    conf.get_registration()
    service = lti.PlatformNRPS(DjangoRequest(request), conf, context_id=context_id)
    return _service_response(service.handle_get_members, service)


# --- deep linking return -------------------------------------------------------------------------


def _deep_link_refused(message: str, claims: dict | None = None) -> HttpResponse:
    with store().lock:
        store().deep_link_errors.append({"at": now_iso(), "error": message, "claims": claims})
        store().save()
    return error_page(message, 400)


def deeplink_return(request: HttpRequest) -> HttpResponse:
    """The tool's LtiDeepLinkingResponse: the library checks the signature (tool's JWKS), the
    message type and the item types; the rest (aud, deployment, nonce, our data back) is checked
    here. Each ltiResourceLink becomes a link of the course, with its line item if it has one."""
    s = store()
    token = request.POST.get("JWT", "")
    try:
        claims = lti.PlatformConf(store=s).unverified_jwt_body(token)
    except LtiException as error:
        return _deep_link_refused(str(error))
    client_id = str(claims.get("iss"))
    registration = _registered(client_id)
    if registration is None:
        return _deep_link_refused(f"iss {client_id!r} is no registered client_id", claims)
    conf = lti.PlatformConf(store=s, client_id=client_id)
    conf.get_registration()
    conf.set_accepted_deeplinking_types(["ltiResourceLink"])
    try:
        items = conf.validate_deeplinking_resp({"JWT": token})
    except (LtiException, LtiDeepLinkingResponseException, jwt.PyJWTError) as error:
        return _deep_link_refused(f"{type(error).__name__}: {error}", claims)
    if s.issuer not in _audiences(claims):
        return _deep_link_refused("aud must be the platform issuer", claims)
    if not claims.get("nonce"):
        return _deep_link_refused("nonce is required", claims)
    deployment_id = claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
    if deployment_id not in registration["deployment_ids"]:
        return _deep_link_refused(f"deployment_id {deployment_id!r} is not this client's", claims)
    data = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data") or {}
    dl_request_id = data.get("dl_request") if isinstance(data, dict) else None
    with s.lock:
        dl_request = s.deep_link_requests.get(dl_request_id or "")
        if dl_request is None or dl_request["client_id"] != client_id:
            return _deep_link_refused("data does not name a deep-linking request of this client", claims)
        if dl_request["used"]:
            return _deep_link_refused("this deep-linking request was answered already", claims)
        dl_request["used"] = True
        added = []
        for item in items:
            link_id = s.next_id("rl-")
            link = {
                "id": link_id,
                "context_id": dl_request["context_id"],
                "client_id": client_id,
                "deployment_id": deployment_id,
                "title": item.get("title") or "Untitled",
                "text": item.get("text"),
                "url": item.get("url") or registration["launch_url"],
                "custom": item.get("custom") or {},
                "line_item_id": None,
                "content_item": item,
            }
            line_item = item.get("lineItem")
            if isinstance(line_item, dict):
                item_id = s.next_id("")
                s.line_items[item_id] = {
                    "id": item_id,
                    "context_id": dl_request["context_id"],
                    "label": line_item.get("label") or link["title"],
                    "scoreMaximum": line_item.get("scoreMaximum"),
                    "resourceId": line_item.get("resourceId"),
                    "tag": line_item.get("tag"),
                    "resourceLinkId": link_id,
                    "startDateTime": None,
                    "endDateTime": None,
                    "gradesReleased": line_item.get("gradesReleased"),
                    "created_by": "deep_linking",
                    "created_at": now_iso(),
                }
                link["line_item_id"] = item_id
            s.resource_links[link_id] = link
            added.append(link)
        s.deep_link_items.append(
            {"at": now_iso(), "client_id": client_id, "items": items, "link_ids": [a["id"] for a in added]}
        )
        s.save()
    titles = ", ".join(a["title"] for a in added) or "nothing"
    return page(
        "Content added",
        format_html(
            '<p id="deeplink-added">Added: {}</p>{}'
            '<p><a href="/course/{}/?user={}" target="_top">Back to the course</a></p>',
            titles,
            format_html('<p id="deeplink-msg">{}</p>', claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/msg"))
            if claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/msg")
            else "",
            dl_request["context_id"],
            dl_request["user"],
        ),
    )


# --- dynamic registration ------------------------------------------------------------------------


def dynreg_start(request: HttpRequest) -> HttpResponse:
    s = store()
    url = request.GET.get("url", "")
    if not url.startswith(("http://", "https://")):
        return error_page("url must be the tool's registration initiation URL", 400)
    registration_token = secrets.token_urlsafe(24)
    with s.lock:
        s.dynreg_tokens[registration_token] = {"url": url, "created_at": now_iso(), "used": False}
        s.save()
    query = urlencode(
        {
            "openid_configuration": f"{s.issuer}/.well-known/openid-configuration",
            "registration_token": registration_token,
        }
    )
    src = f"{url}{'&' if '?' in url else '?'}{query}"
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return page(
        "Register a tool",
        format_html(
            '<p id="dynreg-done" hidden>Tool registered</p>'
            '<iframe id="dynreg-frame" title="Tool registration" src="{}" data-tool-origin="{}"></iframe>'
            "<script>window.addEventListener('message', function (event) {{"
            " var frame = document.getElementById('dynreg-frame');"
            " if (!frame || event.origin !== frame.dataset.toolOrigin) return;"
            " if (!event.data || event.data.subject !== 'org.imsglobal.lti.close') return;"
            " document.getElementById('dynreg-done').hidden = false; frame.remove(); }});</script>",
            src,
            origin,
        ),
    )


def _dynreg_problem(body: t.Any) -> str | None:
    if not isinstance(body, dict):
        return "the registration request is a JSON object"
    for key in ("initiate_login_uri", "jwks_uri", "client_name"):
        if not isinstance(body.get(key), str) or not body[key]:
            return f"{key} is required"
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) and u for u in uris):
        return "redirect_uris must be a non-empty list of URLs"
    if body.get("application_type", "web") != "web":
        return "application_type must be web"
    if body.get("response_types", ["id_token"]) != ["id_token"]:
        return "response_types must be [id_token]"
    if not {"implicit", "client_credentials"} <= set(body.get("grant_types", ["implicit", "client_credentials"])):
        return "grant_types must include implicit and client_credentials"
    if body.get("token_endpoint_auth_method", "private_key_jwt") != "private_key_jwt":
        return "token_endpoint_auth_method must be private_key_jwt"
    config = body.get(TOOL_CONFIGURATION)
    if not isinstance(config, dict):
        return f"{TOOL_CONFIGURATION} is required"
    if not isinstance(config.get("target_link_uri"), str) or not config["target_link_uri"]:
        return "lti-tool-configuration.target_link_uri is required"
    if not isinstance(config.get("domain"), str) or not config["domain"]:
        return "lti-tool-configuration.domain is required"
    for message in config.get("messages") or []:
        if not isinstance(message, dict) or message.get("type") not in (
            "LtiResourceLinkRequest",
            "LtiDeepLinkingRequest",
        ):
            return f"unsupported message {message!r}"
    return None


def dynreg_register(request: HttpRequest) -> JsonResponse:
    s = store()
    if request.method != "POST":
        return json_error("invalid_request", "POST only", 405)
    auth_header = request.headers.get("Authorization", "").split()
    registration_token = auth_header[1] if len(auth_header) == 2 and auth_header[0].lower() == "bearer" else ""
    with s.lock:
        pending = s.dynreg_tokens.get(registration_token)
        if pending is None or pending["used"]:
            return json_error("invalid_token", "unknown or used registration token", 401)
    try:
        body = json.loads(request.body)
    except ValueError:
        return json_error("invalid_client_metadata", "the body is not JSON", 400)
    problem = _dynreg_problem(body)
    if problem:
        with s.lock:
            s.dynreg_registrations.append({"at": now_iso(), "request": body, "error": problem})
            s.save()
        return json_error("invalid_client_metadata", problem, 400)
    config = body[TOOL_CONFIGURATION]
    client_id = f"dynreg-{secrets.token_hex(6)}"
    deployment_id = f"dep-{secrets.token_hex(4)}"
    deeplink_url = next(
        (
            m.get("target_link_uri") or config["target_link_uri"]
            for m in config.get("messages") or []
            if m.get("type") == "LtiDeepLinkingRequest"
        ),
        None,
    )
    response = {
        **body,
        "client_id": client_id,
        "registration_client_uri": f"{s.issuer}/dynreg/clients/{client_id}",
        TOOL_CONFIGURATION: {**config, "deployment_id": deployment_id},
    }
    with s.lock:
        if s.dynreg_tokens[registration_token]["used"]:
            return json_error("invalid_token", "unknown or used registration token", 401)
        s.dynreg_tokens[registration_token]["used"] = True
        s.registrations[client_id] = {
            "client_id": client_id,
            "deployment_ids": [deployment_id],
            "client_name": body["client_name"],
            "oidc_login_url": body["initiate_login_uri"],
            "launch_url": config["target_link_uri"],
            "deeplink_launch_url": deeplink_url,
            "redirect_uris": body["redirect_uris"],
            "jwks_uri": body["jwks_uri"],
            "custom_parameters": config.get("custom_parameters") or {},
            "scope": body.get("scope", ""),
            "source": "dynreg",
        }
        s.dynreg_registrations.append({"at": now_iso(), "request": body, "response": response, "client_id": client_id})
        s.save()
    return JsonResponse(response)


# --- test controls -------------------------------------------------------------------------------

CONTROL_KEYS = {"down", "next_launch", "register_tool", "add_link", "reset"}


def control(request: HttpRequest) -> JsonResponse:
    """Faults and set-up for tests (see harness.LtiPlatformServer.control)."""
    s = store()
    if request.method != "POST":
        return json_error("invalid_request", "POST only", 405)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return json_error("invalid_request", "the body is not JSON", 400)
    if not isinstance(body, dict) or not set(body) <= CONTROL_KEYS:
        return json_error("invalid_request", f"known keys: {sorted(CONTROL_KEYS)}", 400)
    answer: dict[str, t.Any] = {}
    with s.lock:
        if body.get("reset"):
            s.reset()
        if "down" in body:
            s.faults["down"] = bool(body["down"])
        if "next_launch" in body:
            s.faults["next_launch"] = body["next_launch"] or None
        if "register_tool" in body:
            spec = body["register_tool"]
            client_id = spec.get("client_id") or "kafaat-test-client"
            deployment_id = spec.get("deployment_id") or "dep-1"
            registration = tool_registration(
                client_id=client_id, deployment_id=deployment_id, tool_base=spec["tool_base"]
            )
            for key in (
                "oidc_login_url",
                "launch_url",
                "deeplink_launch_url",
                "redirect_uris",
                "jwks_uri",
                "custom_parameters",
            ):
                if key in spec:
                    registration[key] = spec[key]
            s.registrations[client_id] = registration
            answer["registration"] = registration
        if "add_link" in body:
            spec = body["add_link"]
            client_id = spec.get("client_id") or "kafaat-test-client"
            registration = s.registrations[client_id]
            link_id = s.next_id("rl-")
            link = {
                "id": link_id,
                "context_id": spec.get("context_id") or "ctx-1",
                "client_id": client_id,
                "deployment_id": spec.get("deployment_id") or registration["deployment_ids"][0],
                "title": spec.get("title") or "Untitled",
                "text": spec.get("text"),
                "url": spec.get("url") or registration["launch_url"],
                "custom": spec.get("custom") or {},
                "line_item_id": None,
                "content_item": None,
            }
            if spec.get("line_item"):
                item_id = s.next_id("")
                s.line_items[item_id] = {
                    "id": item_id,
                    "context_id": link["context_id"],
                    "label": spec["line_item"].get("label") or link["title"],
                    "scoreMaximum": spec["line_item"].get("scoreMaximum", 100),
                    "resourceId": spec["line_item"].get("resourceId"),
                    "tag": spec["line_item"].get("tag"),
                    "resourceLinkId": link_id,
                    "startDateTime": None,
                    "endDateTime": None,
                    "created_by": "control",
                    "created_at": now_iso(),
                }
                link["line_item_id"] = item_id
            s.resource_links[link_id] = link
            answer["link"] = link
        s.save()
        answer["faults"] = dict(s.faults)
    return JsonResponse(answer)


def state(request: HttpRequest) -> JsonResponse:
    return JsonResponse(store().snapshot(), json_dumps_params={"default": str})
