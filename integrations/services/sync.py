"""The enrollment sync: a university's batch of (learner, course, status) rows upserted in bulk.

Policy: a batch is all or nothing. Every row is validated first; if any row is wrong, the answer
lists every error (row index, field, message) and nothing is written. Otherwise learners and
enrollments are written with a handful of bulk statements in one transaction, together with the
enrollment.changed events, the invitations of new learners, the audit entry and the idempotency
record. Syncs of one university are serialized by a lock on its organization row.

Rows are validated by hand, not by a ModelSerializer per row: that costs one query per row
(DESIGN.md's floors); here the whole batch costs a constant number of queries."""

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from config.errors import ApplicationError
from courses.models import Course, Enrollment, PublicationStatus

from ..models import ApiClient, AuditEntry, IdempotencyRecord, LearnerInvite, OutboxEvent
from . import bulk

User = get_user_model()

MODES = ("upsert", "full")
STATUSES = tuple(Enrollment.Status.values)
MAX_ERRORS = 1000


class SyncRefused(ApplicationError):
    """The batch has invalid rows; nothing was written."""


class DropThresholdExceeded(ApplicationError):
    status_code = 409


class IdempotencyKeyReused(ApplicationError):
    status_code = 422


class SyncConflict(ApplicationError):
    status_code = 409


@dataclass
class SyncRow:
    index: int
    external_id: str
    email: str
    full_name: str
    course_code: str
    status: str


@dataclass
class SyncOutcome:
    status_code: int
    body: dict
    replayed: bool = False
    created_user_ids: list[int] = field(default_factory=list)


def request_fingerprint(payload) -> str:
    """A stable hash of a request body, for Idempotency-Key comparisons."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _text(row: dict, name: str, *, required: bool, max_length: int, errors: list, index: int) -> str:
    value = row.get(name)
    if value is None or value == "":
        if required:
            errors.append({"row": index, "field": name, "code": "required", "message": _("This field is required.")})
        return ""
    if not isinstance(value, str):
        errors.append({"row": index, "field": name, "code": "invalid", "message": _("Must be a string.")})
        return ""
    value = value.strip()
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: a row error, not a database error
        errors.append(
            {"row": index, "field": name, "code": "invalid", "message": _("Must not contain NUL characters.")}
        )
        return ""
    if required and not value:
        errors.append({"row": index, "field": name, "code": "required", "message": _("This field is required.")})
    if len(value) > max_length:
        errors.append(
            {
                "row": index,
                "field": name,
                "code": "max_length",
                "message": _("Ensure this field has no more than %(n)d characters.") % {"n": max_length},
            }
        )
    return value


def parse_rows(raw_rows: list, *, courses: dict[str, int]) -> tuple[list[SyncRow], list[dict]]:
    """Check every row's shape and values, and their consistency within the batch."""
    rows: list[SyncRow] = []
    errors: list[dict] = []
    email_of: dict[str, str] = {}
    external_of: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, dict):
            errors.append({"row": index, "field": None, "code": "invalid", "message": _("Each row must be an object.")})
            continue
        before = len(errors)
        external_id = _text(raw, "external_id", required=True, max_length=128, errors=errors, index=index)
        email = _text(raw, "email", required=True, max_length=254, errors=errors, index=index).lower()
        given = _text(raw, "given_name", required=False, max_length=100, errors=errors, index=index)
        family = _text(raw, "family_name", required=False, max_length=100, errors=errors, index=index)
        code = _text(raw, "course_code", required=True, max_length=64, errors=errors, index=index)
        status = raw.get("status", Enrollment.Status.ACTIVE)
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                errors.append(
                    {"row": index, "field": "email", "code": "invalid", "message": _("Enter a valid e-mail address.")}
                )
        if code and code not in courses:
            errors.append(
                {
                    "row": index,
                    "field": "course_code",
                    "code": "unknown_course",
                    "message": _("No open course has the code %(code)s.") % {"code": code},
                }
            )
        if status not in STATUSES:
            errors.append(
                {
                    "row": index,
                    "field": "status",
                    "code": "invalid_choice",
                    "message": _("Must be one of: %(choices)s.") % {"choices": ", ".join(STATUSES)},
                }
            )
        if len(errors) > before:
            continue
        if (external_id, code) in seen:
            errors.append(
                {
                    "row": index,
                    "field": "course_code",
                    "code": "duplicate",
                    "message": _("This learner already has a row for this course in the batch."),
                }
            )
            continue
        seen.add((external_id, code))
        if email_of.setdefault(external_id, email) != email:
            errors.append(
                {
                    "row": index,
                    "field": "email",
                    "code": "conflict",
                    "message": _("Another row gives this learner a different e-mail address."),
                }
            )
            continue
        if external_of.setdefault(email, external_id) != external_id:
            errors.append(
                {
                    "row": index,
                    "field": "email",
                    "code": "conflict",
                    "message": _("Another row gives this e-mail address to a different learner."),
                }
            )
            continue
        full_name = " ".join(p for p in (given, family) if p)[:200]
        rows.append(SyncRow(index, external_id, email, full_name, code, status))
    return rows, errors


def _course_map() -> dict[str, int]:
    return dict(Course.objects.filter(status=PublicationStatus.PUBLISHED).values_list("code", "id"))


def _refuse(errors: list[dict]) -> None:
    shown = errors[:MAX_ERRORS]
    raise SyncRefused(
        _("%(n)d row(s) are not valid; nothing was changed.") % {"n": len(errors)},
        extra={"code": "invalid_rows", "details": shown, "errors_total": len(errors)},
    )


def enrollment_sync(
    *,
    organization: Organization,
    raw_rows: list,
    mode: str = "upsert",
    dry_run: bool = False,
    force: bool = False,
    client: ApiClient | None = None,
    endpoint: str = "enrollments/sync",
    source: str = Enrollment.Source.SYNC,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    scope_course_codes: list[str] | None = None,
) -> SyncOutcome:
    """Upsert a university's learners and enrollments in bulk; in full mode drop (never delete)
    its enrollments in the named courses that the batch omits. Writes enrollment.changed events,
    invitations for new learners, an audit entry and the idempotency record in one transaction.
    Raises SyncRefused (400, every row error), DropThresholdExceeded (409), IdempotencyKeyReused
    (422). `scope_course_codes` widens full mode's scope beyond the batch's own courses (used by
    OneRoster bulk files, where a class with no enrollment left is still named)."""
    if mode not in MODES:
        raise SyncRefused(_("Unknown mode."), field="mode", extra={"code": "invalid"})
    if len(raw_rows) > settings.INTEGRATIONS_SYNC_MAX_ROWS:
        raise SyncRefused(
            _("At most %(n)d rows per batch.") % {"n": settings.INTEGRATIONS_SYNC_MAX_ROWS},
            field="rows",
            extra={"code": "too_many_rows"},
        )
    courses = _course_map()
    rows, errors = parse_rows(raw_rows, courses=courses)
    if errors:
        _refuse(errors)
    try:
        with transaction.atomic():
            outcome = _sync_locked(
                organization=organization,
                rows=rows,
                courses=courses,
                mode=mode,
                dry_run=dry_run,
                force=force,
                client=client,
                endpoint=endpoint,
                source=source,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                scope_course_codes=scope_course_codes,
            )
    except IntegrityError as exc:
        # A concurrent sign-up took one of the e-mails between our check and our insert.
        raise SyncConflict(
            _("Another change to the same learners happened at the same time; retry the request."),
            extra={"code": "conflict"},
        ) from exc
    return outcome


def _sync_locked(
    *,
    organization,
    rows,
    courses,
    mode,
    dry_run,
    force,
    client,
    endpoint,
    source,
    idempotency_key,
    request_hash,
    scope_course_codes,
) -> SyncOutcome:
    # Serialize syncs of one university: a replayed key sees the first request's record.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if idempotency_key and client is not None:
        record = IdempotencyRecord.objects.filter(client=client, key=idempotency_key).first()
        if record is not None:
            if record.request_hash != request_hash or record.endpoint != endpoint:
                raise IdempotencyKeyReused(
                    _("This Idempotency-Key was already used with a different request."),
                    extra={"code": "idempotency_key_reused"},
                )
            return SyncOutcome(record.status_code, record.response, replayed=True)

    now = timezone.now()
    errors: list[dict] = []
    learners: dict[str, SyncRow] = {}
    for row in rows:
        learners.setdefault(row.external_id, row)

    existing = {
        ext: (pk, email, name)
        for pk, ext, email, name in User.objects.filter(
            organization=organization, **bulk.in_filter("external_id", learners)
        ).values_list("pk", "external_id", "email", "full_name")
    }
    by_email = {
        email: (pk, org_id, ext)
        for pk, email, org_id, ext in User.objects.filter(
            **bulk.in_filter("email", [r.email for r in learners.values()])
        ).values_list("pk", "email", "organization_id", "external_id")
    }
    to_create: list = []
    to_update: list = []
    user_ids: dict[str, int] = {}
    for ext, row in learners.items():
        owner = by_email.get(row.email)
        if ext in existing:
            pk, email, name = existing[ext]
            user_ids[ext] = pk
            if owner is not None and owner[0] != pk:
                errors.append(_email_taken(row))
            elif email != row.email or (row.full_name and name != row.full_name):
                to_update.append(
                    User(pk=pk, email=row.email, full_name=row.full_name or name, external_id=ext, updated_at=now)
                )
        elif owner is not None:
            pk, org_id, owner_ext = owner
            if org_id == organization.pk and owner_ext is None:
                # A member of this university without an external id yet: adopt the account.
                user_ids[ext] = pk
                to_update.append(User(pk=pk, email=row.email, full_name=row.full_name, external_id=ext, updated_at=now))
            else:
                errors.append(_email_taken(row))
        else:
            # (external_id, email, full_name): plain tuples, no model instances for 10,000 rows.
            to_create.append((ext, row.email, row.full_name))
    if errors:
        _refuse(sorted(errors, key=lambda e: e["row"]))

    created_user_ids: list[int] = []
    if not dry_run:
        if to_create:
            created_user_ids = _create_users(to_create, organization=organization, now=now)
            for (ext, _email, _name), pk in zip(to_create, created_user_ids, strict=True):
                user_ids[ext] = pk
            bulk.insert(
                LearnerInvite,
                ["user_id", "organization_id"],
                [(pk, organization.pk) for pk in created_user_ids],
                now=now,
            )
        if to_update:
            User.objects.bulk_update(to_update, ["email", "full_name", "external_id", "updated_at"], batch_size=1000)

    # Enrollments: compare with what exists, then one upsert statement for the new and changed.
    course_ids = {courses[r.course_code] for r in rows}
    known_ids = [pk for pk in user_ids.values()]
    current = {
        (uid, cid): (pk, status)
        for pk, uid, cid, status in Enrollment.objects.filter(
            **bulk.in_filter("user_id", known_ids), course_id__in=course_ids
        ).values_list("pk", "user_id", "course_id", "status")
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "dropped": 0}
    upserts: list[tuple] = []
    changes: list[tuple[SyncRow, str | None]] = []  # row, previous status
    batch_keys: set[tuple[int, int]] = set()
    ext_by_uid = {}
    for row in rows:
        uid = user_ids.get(row.external_id)
        cid = courses[row.course_code]
        if uid is not None:
            batch_keys.add((uid, cid))
            ext_by_uid[uid] = row.external_id
        found = current.get((uid, cid)) if uid is not None else None
        if found is None:
            counts["created"] += 1
            upserts.append((uid, cid, row.status, source, now))
            changes.append((row, None))
        elif found[1] != row.status:
            counts["updated"] += 1
            upserts.append((uid, cid, row.status, source, now))
            changes.append((row, found[1]))
        else:
            counts["unchanged"] += 1

    drops: list[tuple[int, int, int, str, str]] = []
    if mode == "full":
        scope_codes = {r.course_code for r in rows} | {c for c in (scope_course_codes or []) if c in courses}
        scope_ids = {courses[c] for c in scope_codes}
        in_scope = list(
            Enrollment.objects.filter(
                course_id__in=scope_ids, user__organization=organization, user__external_id__isnull=False
            )
            .exclude(status=Enrollment.Status.DROPPED)
            .values_list("pk", "user_id", "course_id", "status", "user__external_id")
        )
        drops = [e for e in in_scope if (e[1], e[2]) not in batch_keys]
        max_share = settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE
        if drops and not force and len(drops) > max_share * len(in_scope):
            raise DropThresholdExceeded(
                _(
                    "This full sync would drop %(n)d of %(total)d enrollments (more than %(share)d%%); "
                    "send force=true to apply it."
                )
                % {"n": len(drops), "total": len(in_scope), "share": round(max_share * 100)},
                extra={
                    "code": "drop_threshold_exceeded",
                    "details": [{"field": "force", "code": "required", "message": str(len(drops))}],
                },
            )
        counts["dropped"] = len(drops)

    if not dry_run:
        # New and changed enrollments in one upsert; `source` only sticks on new rows.
        bulk.upsert(
            Enrollment,
            ["user_id", "course_id", "status", "source", "updated_at"],
            upserts,
            unique=["user", "course"],
            update=["status", "updated_at"],
            now=now,
        )
        if drops:
            Enrollment.objects.filter(pk__in=[d[0] for d in drops]).update(
                status=Enrollment.Status.DROPPED, updated_at=now
            )
        code_by_id = {cid: code for code, cid in courses.items()}
        events = [
            (
                "enrollment.changed",
                organization.pk,
                user_ids[row.external_id],
                {
                    "learner": {"external_id": row.external_id, "email": row.email},
                    "course_code": row.course_code,
                    "status": row.status,
                    "previous_status": previous,
                    "source": source,
                },
            )
            for row, previous in changes
        ] + [
            (
                "enrollment.changed",
                organization.pk,
                uid,
                {
                    "learner": {"external_id": ext, "email": None},
                    "course_code": code_by_id[cid],
                    "status": Enrollment.Status.DROPPED,
                    "previous_status": status,
                    "source": source,
                },
            )
            for _pk, uid, cid, status, ext in drops
        ]
        if events:
            bulk.insert(OutboxEvent, ["event_type", "organization_id", "user_id", "payload"], events, now=now)
            from .events import kick_dispatch

            transaction.on_commit(lambda: kick_dispatch(organization.pk), robust=True)

    body = {
        "mode": mode,
        "dry_run": dry_run,
        "counts": counts,
        "learners": {"created": len(to_create), "updated": len(to_update)},
    }
    AuditEntry.objects.create(
        organization=organization,
        client=client,
        endpoint=endpoint,
        action="enrollments.sync.dry_run" if dry_run else "enrollments.sync",
        counts={**counts, "rows": len(rows), "learners_created": len(to_create)},
        detail={"mode": mode, "force": force, "idempotency_key": idempotency_key or ""},
    )
    if idempotency_key and client is not None:
        IdempotencyRecord.objects.create(
            client=client,
            key=idempotency_key,
            endpoint=endpoint,
            request_hash=request_hash or "",
            status_code=200,
            response=body,
        )
    return SyncOutcome(200, body, created_user_ids=created_user_ids)


def _create_users(learners: list[tuple[str, str, str]], *, organization, now) -> list[int]:
    """Insert new learners, inactive with an unusable password (they activate by e-mail).
    Returns their ids in order."""
    rows = [
        (UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30), email, name, organization.pk, ext, False, now)
        for ext, email, name in learners
    ]
    columns = ["password", "email", "full_name", "organization_id", "external_id", "is_active", "date_joined"]
    if bulk.use_copy():
        ids = bulk.allocate_ids(User, len(rows))
        bulk.insert(User, ["id", *columns], [(pk, *r) for pk, r in zip(ids, rows, strict=True)], now=now, with_pk=True)
        return ids
    users = User.objects.bulk_create([User(**dict(zip(columns, r, strict=True))) for r in rows], batch_size=1000)
    return [u.pk for u in users]


def _email_taken(row: SyncRow) -> dict:
    return {
        "row": row.index,
        "field": "email",
        "code": "email_taken",
        "message": _("This e-mail address belongs to another account."),
    }
