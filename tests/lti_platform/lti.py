"""The `lti1p3platform` classes made concrete for this platform: the registration lookup, the OIDC
login, the message launch (with the faults a test asks for), AGS and NRPS over the store.

Deliberately not imported: `lti1p3platform.framework.templates` (and so its Django message launch),
which needs pkg_resources and Jinja2; the auto-post form is rendered in views.py instead."""

import datetime
import time
import typing as t

from django.http import HttpResponseRedirect
from lti1p3platform.exceptions import LineItemNotFoundException, LtiServiceException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage

from .store import CONTEXTS, USERS, Store, now_iso

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
SCORE_FIELDS = ("userId", "scoreGiven", "scoreMaximum", "activityProgress", "gradingProgress", "timestamp", "comment")
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


class FaultyRegistration(Registration):
    """Signs the id_token as the library does, unless the test asked for a broken one: iat/exp
    moved, or signed with a key that is not in /jwks (under the platform key's kid)."""

    launch_faults: dict | None = None
    foreign_private_key: str | None = None

    def platform_encode_and_sign(self, payload: dict[str, t.Any], expiration: int | None = None) -> str:
        faults = self.launch_faults or {}
        if not any(k in faults for k in ("iat_delta", "exp_delta", "sign_with_foreign_key")):
            return super().platform_encode_and_sign(payload, expiration=expiration)
        now = int(time.time())
        payload.update(
            {
                "iat": now + int(faults.get("iat_delta", 0)),
                "exp": now + (expiration or 300) + int(faults.get("exp_delta", 0)),
            }
        )
        key = self.foreign_private_key if faults.get("sign_with_foreign_key") else self.get_platform_private_key()
        assert key is not None
        return Registration.encode_and_sign(payload, key, headers={"kid": self.get_kid()})


class PlatformConf(LTI1P3PlatformConfAbstract):
    """One registration (client) of the store; client_id=None gives the platform alone (issuer and
    keys), which is all that checking an access token needs."""

    def init_platform_config(self, **kwargs: t.Any) -> None:
        self.store: Store = kwargs["store"]
        self.client_id: str | None = kwargs.get("client_id")
        self.deployment_id: str | None = kwargs.get("deployment_id")
        self.launch_faults: dict | None = kwargs.get("launch_faults")

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        registration = FaultyRegistration()
        registration.launch_faults = self.launch_faults
        registration.foreign_private_key = self.store.foreign_private_key
        registration.set_iss(self.store.issuer)
        registration.set_platform_private_key(self.store.private_key)
        registration.set_platform_public_key(self.store.public_key)
        if self.client_id is not None:
            with self.store.lock:
                data = self.store.registrations[self.client_id]
            registration.set_client_id(self.client_id)
            registration.set_deployment_id(self.deployment_id or data["deployment_ids"][0])
            for value, setter in (
                (data["oidc_login_url"], registration.set_oidc_login_url),
                (data["launch_url"], registration.set_launch_url),
                (data["deeplink_launch_url"], registration.set_deeplink_launch_url),
                (data["jwks_uri"], registration.set_tool_key_set_url),
            ):
                if value:
                    setter(value)
        return registration

    def unverified_jwt_body(self, token: str) -> dict[str, t.Any]:
        """The claims of a JWT before its signature is checked, to find whose it is (the library's
        own parse; LtiException when it is no JWT)."""
        self.validate_jwt_format(token)
        return self._jwt["body"]


class PlatformOIDCLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> HttpResponseRedirect:
        return HttpResponseRedirect(url)


class PlatformLaunch(LTIAdvantageMessageLaunchAbstract):
    """Builds the launch the message hint names (a resource link, or deep linking) for its user."""

    def __init__(self, request: t.Any, platform_config: PlatformConf, *, hint: dict, faults: dict | None) -> None:
        super().__init__(request, platform_config)
        self.store = platform_config.store
        self.hint = hint
        self.faults = faults or {}

    def prepare_launch(self, preflight_response: dict[str, t.Any]) -> None:
        store, hint = self.store, self.hint
        issuer = store.issuer
        user = USERS[hint["user"]]
        context = CONTEXTS[hint["context_id"]]
        with store.lock:
            registration = dict(store.registrations[hint["client_id"]])
            link = dict(store.resource_links[hint["link_id"]]) if hint.get("link_id") else None
        self.set_user_data(hint["user"], user["roles"], full_name=user["name"], email_address=user["email"])
        self.set_extra_claims({"given_name": user["given_name"], "family_name": user["family_name"]})
        self.set_launch_context_claim(
            context["id"], context_types=context["type"], context_title=context["title"], context_label=context["label"]
        )
        self.set_launch_presentation_claim(
            document_target="iframe", return_url=f"{issuer}/course/{context['id']}/?user={hint['user']}"
        )
        self.set_extra_claims(
            {
                "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                    "guid": "kafaat-test-platform",
                    "name": "Kafaat test LMS",
                    "product_family_code": "kafaat-test-lms",
                    "version": "1.0",
                }
            }
        )
        custom = dict(registration.get("custom_parameters") or {})
        lineitem_url = None
        if link is not None:
            self.set_launch_url(link["url"])
            self.set_resource_link_claim(link["id"], title=link["title"], description=link.get("text") or None)
            custom.update(link.get("custom") or {})
            if link.get("line_item_id"):
                lineitem_url = f"{issuer}/ags/{context['id']}/lineitems/{link['line_item_id']}"
        if custom:
            self.set_custom_parameters_claim(custom)
        self.set_ags(f"{issuer}/ags/{context['id']}/lineitems", lineitem_url)
        self.set_nrps(f"{issuer}/nrps/{context['id']}/memberships")
        if hint["message_type"] == "LtiDeepLinkingRequest":
            self.set_dl(
                f"{issuer}/deeplink/return",
                title=context["title"],
                accept_types={"ltiResourceLink"},
                extra_data={"dl_request": hint["dl_request"]},
            )

    def get_launch_data(self) -> tuple[dict[str, t.Any], str]:
        message, state = super().get_launch_data()
        faults = self.faults
        for key in ("aud", "iss", "nonce"):
            if key in faults:
                message[key] = faults[key]
        if "deployment_id" in faults:
            message["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = faults["deployment_id"]
        message.update(faults.get("claims") or {})
        for claim in faults.get("drop_claims") or []:
            message.pop(claim, None)
        if "state" in faults:
            state = faults["state"]
        self.launch_message = message
        return message, state

    def render_launch_form(self, launch_data: dict[str, t.Any], **kwargs: t.Any) -> dict[str, t.Any]:
        # views.py renders the auto-post form (the library's own form needs Jinja2).
        return launch_data


def _line_item_url(store: Store, item: dict) -> str:
    return f"{store.issuer}/ags/{item['context_id']}/lineitems/{item['id']}"


def line_item_json(store: Store, item: dict) -> dict[str, t.Any]:
    data = {"id": _line_item_url(store, item), "scoreMaximum": item["scoreMaximum"], "label": item["label"]}
    for key in ("resourceId", "tag", "resourceLinkId", "startDateTime", "endDateTime", "gradesReleased"):
        if item.get(key) not in (None, ""):
            data[key] = item[key]
    return data


def _check_line_item_data(store: Store, context_id: str, data: t.Any) -> None:
    if not isinstance(data, dict):
        raise LtiServiceException("A line item is a JSON object", 400)
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise LtiServiceException("label is required", 400)
    maximum = data.get("scoreMaximum")
    if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
        raise LtiServiceException("scoreMaximum must be a number above 0", 400)
    link_id = data.get("resourceLinkId")
    if link_id is not None:
        link = store.resource_links.get(link_id)
        if link is None or link["context_id"] != context_id:
            raise LtiServiceException(f"No resource link {link_id} in this context", 400)


def _parse_timestamp(value: t.Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise LtiServiceException("timestamp is required (ISO 8601)", 400)
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise LtiServiceException(f"timestamp is not ISO 8601: {value}", 400) from error
    if parsed.tzinfo is None:
        raise LtiServiceException("timestamp must carry a time zone offset", 400)
    return parsed


class PlatformAGS(AssignmentsGradesService):
    """Line items, scores and results of one context. `scopes` narrows the token check to what
    the endpoint needs (the library's list would let a score-only token create line items)."""

    def __init__(self, request: t.Any, platform_config: PlatformConf, *, context_id: str, scopes: list[str]) -> None:
        store = platform_config.store
        super().__init__(request, platform_config, f"{store.issuer}/ags/{context_id}/lineitems")
        self.store = store
        self.context_id = context_id
        self.scopes = scopes

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes

    def _item(self, line_item_id: str) -> dict:
        item = self.store.line_items.get(line_item_id)
        if item is None or item["context_id"] != self.context_id:
            raise LineItemNotFoundException(line_item_id)
        return item

    def find_lineitems(self, page: int = 1, limit: int | None = None, **filters: t.Any) -> TPage:
        with self.store.lock:
            items = [i for i in self.store.line_items.values() if i["context_id"] == self.context_id]
            for param, key in (("resource_link_id", "resourceLinkId"), ("resource_id", "resourceId"), ("tag", "tag")):
                if filters.get(param):
                    items = [i for i in items if i.get(key) == filters[param]]
            return {"content": [line_item_json(self.store, i) for i in items], "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> dict:
        with self.store.lock:
            return line_item_json(self.store, self._item(line_item_id))

    def create_lineitem(self, creation_data: t.Any) -> dict:
        with self.store.lock:
            _check_line_item_data(self.store, self.context_id, creation_data)
            item_id = self.store.next_id("")
            item = {
                key: creation_data.get(key)
                for key in (
                    "label",
                    "scoreMaximum",
                    "resourceId",
                    "tag",
                    "resourceLinkId",
                    "startDateTime",
                    "endDateTime",
                )
            }
            item.update({"id": item_id, "context_id": self.context_id, "created_by": "ags", "created_at": now_iso()})
            self.store.line_items[item_id] = item
            self.store.save()
            return line_item_json(self.store, item)

    def update_lineitem(self, update_data: t.Any) -> dict:
        with self.store.lock:
            item = self._item(update_data["id"])
            _check_line_item_data(self.store, self.context_id, update_data)
            if update_data.get("resourceLinkId", item.get("resourceLinkId")) != item.get("resourceLinkId"):
                raise LtiServiceException("resourceLinkId cannot change", 400)
            for key in ("label", "scoreMaximum", "resourceId", "tag", "startDateTime", "endDateTime"):
                if key in update_data:
                    item[key] = update_data[key]
            self.store.save()
            return line_item_json(self.store, item)

    def delete_lineitem(self, line_item_id: str) -> None:
        with self.store.lock:
            self._item(line_item_id)
            del self.store.line_items[line_item_id]
            self.store.save()

    def update_score(self, line_item_id: str, score: t.Any) -> UpdateScoreStatus:
        # Every score that reaches here is logged, the refused ones too (with the reason).
        with self.store.lock:
            raw = self.request.json if self.request is not None else None
            entry = {
                "received_at": now_iso(),
                "line_item_id": line_item_id,
                "raw": raw,
                "status": "received",  # until checked: the check reads the accepted ones
                "reason": None,
            }
            if isinstance(score, dict):
                for key in SCORE_FIELDS:
                    entry[key] = score.get(key)
            self.store.scores.append(entry)
            try:
                status = self._apply_score(line_item_id, score)
                entry["status"] = "accepted"
            except (LtiServiceException, LineItemNotFoundException) as error:
                entry["status"] = "refused"
                entry["reason"] = getattr(error, "message", None) or f"no line item {line_item_id}"
                raise
            finally:
                self.store.save()
            return status

    def _apply_score(self, line_item_id: str, score: t.Any) -> UpdateScoreStatus:
        self._item(line_item_id)
        if not isinstance(score, dict):
            raise LtiServiceException("A score is a JSON object", 400)
        user_id = score.get("userId")
        if user_id not in CONTEXTS[self.context_id]["members"]:
            raise LtiServiceException(f"userId {user_id!r} is not a member of this context", 400)
        if score.get("activityProgress") not in ACTIVITY_PROGRESS:
            raise LtiServiceException("activityProgress is missing or unknown", 400)
        if score.get("gradingProgress") not in GRADING_PROGRESS:
            raise LtiServiceException("gradingProgress is missing or unknown", 400)
        timestamp = _parse_timestamp(score.get("timestamp"))
        given, maximum = score.get("scoreGiven"), score.get("scoreMaximum")
        if given is not None:
            if isinstance(given, bool) or not isinstance(given, int | float) or given < 0:
                raise LtiServiceException("scoreGiven must be a number of 0 or more", 400)
            if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
                raise LtiServiceException("scoreMaximum is required with scoreGiven, above 0", 400)
        previous = self.store.latest_scores(line_item_id).get(user_id)
        if previous is not None and timestamp < _parse_timestamp(previous["timestamp"]):
            raise LtiServiceException("This score is older than the last one received", 409)
        return UpdateScoreStatus.SUCCESS if previous is not None else UpdateScoreStatus.CREATED

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None, **_: t.Any
    ) -> TPage:
        with self.store.lock:
            item = self._item(line_item_id)
            url = _line_item_url(self.store, item)
            results = []
            for uid, score in self.store.latest_scores(line_item_id).items():
                if user_id and uid != user_id:
                    continue
                result = {"id": f"{url}/results/{uid}", "scoreOf": url, "userId": uid}
                if score.get("scoreGiven") is not None:
                    result.update({"resultScore": score["scoreGiven"], "resultMaximum": score["scoreMaximum"]})
                if score.get("comment"):
                    result["comment"] = score["comment"]
                results.append(result)
            return {"content": results, "has_next": False, "next": None}


class PlatformNRPS(NamesRoleProvisioningService):
    def __init__(self, request: t.Any, platform_config: PlatformConf, *, context_id: str) -> None:
        self.store = platform_config.store
        self.context_id = context_id
        super().__init__(request, platform_config, f"{self.store.issuer}/nrps/{context_id}/memberships")

    def get_context_by_id(self) -> Context:
        context = CONTEXTS[self.context_id]
        return Context(id=context["id"], label=context["label"], title=context["title"])

    def get_member_data_page(
        self, page: int = 1, limit: int | None = None, role: str | None = None, **_: t.Any
    ) -> TPage:
        members = []
        for user_id in CONTEXTS[self.context_id]["members"]:
            user = USERS[user_id]
            if role and role not in user["roles"] and not any(r.endswith(f"#{role}") for r in user["roles"]):
                continue
            members.append(
                {
                    "user_id": user_id,
                    "roles": user["roles"],
                    "name": user["name"],
                    "given_name": user["given_name"],
                    "family_name": user["family_name"],
                    "email": user["email"],
                    "status": "Active",
                }
            )
        return {"content": members, "has_next": False, "next": None}

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        with self.store.lock:
            link = self.store.resource_links.get(resource_link_id)
            return link is not None and link["context_id"] == context_id
