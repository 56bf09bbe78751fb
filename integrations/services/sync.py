"""The enrollment sync: a university's batch of (learner, course, status) rows upserted in bulk.

Policy: a batch is all or nothing. Every row is validated first; if any row is wrong, the answer
lists every error (row index, field, message) and nothing is written. Otherwise learners and
enrollments are written with a handful of bulk statements in one transaction, together with the
enrollment.changed events, the invitations of new learners, the audit entry and the idempotency
record. Syncs of one university are serialized by a lock on its organization row.

Rows are validated by hand, not by a ModelSerializer per row: that costs one query per row
(DESIGN.md's floors); here the whole batch costs a constant number of queries.

Accounts (issue 12). A university's sync creates learners, and changes the address and name only
of the learners it created (`User.created_by_organization`) that hold no role since. Any other
account is never changed by a sync: a self sign-up, a member of this university without an
external id, another university's member, an instructor, a university admin, staff. A row whose
address already has an account gets a new *stand-in* learner (inactive, an undeliverable login
address, the row's address as `roster_email`) that holds the external id and enrollments; the
address's owner is then e-mailed a link offer (integrations.services.links) when their account
may be linked (a plain learner, of no other university), or told that nothing changed. The
answer, the cost in queries and the reads are the same as for an address with no account: the
sync never tells whether an address has an account. Changes of address follow accounts' rules:
an activated learner's new address waits for the owner's confirmation (queued EmailChange rows),
a never-activated one's is corrected at once and the invitation goes out again."""

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import EmailChange, Organization
from accounts.selectors import privileged_condition
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
    learners: dict[str, SyncRow] = {}
    for row in rows:
        learners.setdefault(row.external_id, row)

    plan = _plan_learners(organization=organization, learners=learners)
    user_ids = plan.user_ids
    created_user_ids: list[int] = []
    if not dry_run:
        created_user_ids = _write_learners(plan, organization=organization, now=now)

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
        "learners": {"created": len(plan.create), "updated": plan.updated},
    }
    AuditEntry.objects.create(
        organization=organization,
        client=client,
        endpoint=endpoint,
        action="enrollments.sync.dry_run" if dry_run else "enrollments.sync",
        # Staff-only: how many new learners stand in for an address that has an account (pending
        # links). Never in the answer, which must not tell.
        counts={**counts, "rows": len(rows), "learners_created": len(plan.create), "stand_ins": plan.stand_ins},
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


@dataclass
class LearnerPlan:
    """What a batch does to its learners, decided from two reads (see the module docstring)."""

    user_ids: dict[str, int] = field(default_factory=dict)  # external id -> existing account
    create: list[tuple[str, str, str, str]] = field(default_factory=list)  # (ext, email, roster_email, name)
    rename: list[tuple[int, str]] = field(default_factory=list)  # (pk, full_name)
    # Never-activated learners whose address is corrected now: (pk, email, roster_email, full_name).
    readdress: list[tuple[int, str, str, str]] = field(default_factory=list)
    changes: list[tuple[int, str, str, str]] = field(default_factory=list)  # EmailChange (user, old, new, status)
    supersede: list[int] = field(default_factory=list)  # users whose pending change is replaced or withdrawn
    reinvite: list[int] = field(default_factory=list)  # invitations (or link offers) to send again
    updated: int = 0  # learners whose details, as the university sees them, changed
    stand_ins: int = 0


def _stand_in_email() -> str:
    """The login address of a stand-in: unique, and undeliverable (RFC 2606 reserves .invalid)."""
    return f"stand-in-{uuid.uuid4().hex}@stand-in.invalid"


def _plan_learners(*, organization, learners: dict[str, SyncRow]) -> LearnerPlan:
    """Two reads, whatever the batch's size: this university's learners with the batch's external
    ids, and which of the batch's addresses already have an account (any account, anywhere)."""
    pending = EmailChange.objects.filter(user_id=OuterRef("pk"), status=EmailChange.Status.PENDING)
    existing = {
        row[0]: row[1:]
        for row in User.objects.filter(organization=organization, **bulk.in_filter("external_id", learners))
        .annotate(
            usable=ExpressionWrapper(~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX), output_field=BooleanField()),
            privileged=ExpressionWrapper(privileged_condition(), output_field=BooleanField()),
            pending_email=Subquery(pending.values("new_email")[:1]),
        )
        .values_list("external_id", "pk", "email", "roster_email", "full_name", "created_by_organization_id",
                     "usable", "privileged", "pending_email")
    }  # fmt: skip
    taken = set(
        User.objects.annotate(address=Lower("email"))
        .filter(**bulk.in_unnested("address", {r.email for r in learners.values()}))
        .values_list("address", flat=True)
    )
    plan = LearnerPlan()
    for ext, row in learners.items():
        found = existing.get(ext)
        if found is None:
            # A new learner. When the address already has an account, a stand-in holds the row
            # until that account's owner confirms the link; the answer is the same either way.
            if row.email in taken:
                plan.create.append((ext, _stand_in_email(), row.email, row.full_name))
                plan.stand_ins += 1
            else:
                plan.create.append((ext, row.email, "", row.full_name))
            continue
        pk, email, roster, name, creator, usable, privileged, pending_email = found
        plan.user_ids[ext] = pk
        if creator != organization.pk or privileged:
            # Linked by its owner, adopted by an older sync, or given a role since: the batch
            # manages its enrollments in this university's courses, never the account.
            continue
        new_name = row.full_name or name
        renamed = new_name != name
        shown = (roster or email).lower()
        if row.email == shown:
            changed = renamed
            if pending_email is not None:  # the university withdraws the change it asked for
                plan.supersede.append(pk)
                changed = True
            if roster and row.email not in taken:
                # The address of a pending link has no account any more: a plain invitation now.
                # Nothing the university sees changes, so it is not counted.
                plan.readdress.append((pk, row.email, "", new_name))
                plan.reinvite.append(pk)
            elif renamed:
                plan.rename.append((pk, new_name))
            plan.updated += changed
            continue
        if usable:
            # Activated: the new address waits for its owner's confirmation; the old one is told.
            if pending_email != row.email:
                if pending_email is not None:
                    plan.supersede.append(pk)
                plan.changes.append((pk, email, row.email, EmailChange.Status.PENDING))
            if renamed:
                plan.rename.append((pk, new_name))
            plan.updated += pending_email != row.email or renamed
            continue
        # Never activated (an invitee, or a stand-in): corrected now. The invitation, or the link
        # offer when the new address has an account, goes to the new address.
        if row.email in taken:
            plan.readdress.append((pk, _stand_in_email(), row.email, new_name))
        else:
            plan.readdress.append((pk, row.email, "", new_name))
        plan.reinvite.append(pk)
        if not roster:  # the old address received an invitation: it is told it was withdrawn
            plan.changes.append((pk, email, row.email, EmailChange.Status.CORRECTED))
        plan.updated += 1
    return plan


def _write_learners(plan: LearnerPlan, *, organization, now) -> list[int]:
    """Apply a plan with bulk statements. Returns the ids of the created learners."""
    created: list[int] = []
    if plan.create:
        created = _create_users(plan.create, organization=organization, now=now)
        for (ext, *_rest), pk in zip(plan.create, created, strict=True):
            plan.user_ids[ext] = pk
        bulk.insert(LearnerInvite, ["user_id", "organization_id"], [(pk, organization.pk) for pk in created], now=now)
    if plan.rename:
        User.objects.bulk_update(
            [User(pk=pk, full_name=name, updated_at=now) for pk, name in plan.rename],
            ["full_name", "updated_at"],
            batch_size=1000,
        )
    if plan.readdress:
        # A new unusable password: every invitation or link sent to the old address stops working.
        User.objects.bulk_update(
            [
                User(
                    pk=pk,
                    email=email,
                    roster_email=roster,
                    full_name=name,
                    email_verified_at=None,
                    updated_at=now,
                    password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
                )
                for pk, email, roster, name in plan.readdress
            ],  # fmt: skip
            ["email", "roster_email", "full_name", "email_verified_at", "password", "updated_at"],
            batch_size=1000,
        )
    replaced = plan.supersede + [c[0] for c in plan.changes]
    if replaced:
        EmailChange.objects.filter(**bulk.in_filter("user_id", replaced), status=EmailChange.Status.PENDING).update(
            status=EmailChange.Status.CANCELLED, decided_at=now
        )
    if plan.changes:
        # Queued: beat sends the confirmations and notices (accounts.services.email_changes_notify_pending).
        bulk.insert(
            EmailChange,
            ["user_id", "old_email", "new_email", "status", "requested_by", "decided_at"],
            [
                (pk, old, new, status, organization.name, None if status == EmailChange.Status.PENDING else now)
                for pk, old, new, status in plan.changes
            ],
            now=now,
        )
    if plan.reinvite:
        bulk.upsert(
            LearnerInvite,
            ["user_id", "organization_id", "sent_at"],
            [(pk, organization.pk, None) for pk in plan.reinvite],
            unique=["user"],
            update=["sent_at"],
            now=now,
        )
    return created


def _create_users(learners: list[tuple[str, str, str, str]], *, organization, now) -> list[int]:
    """Insert new learners, inactive with an unusable password (they activate by e-mail, or a
    stand-in's address owner links their account), created by this university. Returns their ids
    in order."""
    rows = [
        (UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30), email, roster, name, organization.pk, organization.pk,
         ext, False, now)
        for ext, email, roster, name in learners
    ]  # fmt: skip
    columns = ["password", "email", "roster_email", "full_name", "organization_id", "created_by_organization_id",
               "external_id", "is_active", "date_joined"]  # fmt: skip
    if bulk.use_copy():
        ids = bulk.allocate_ids(User, len(rows))
        bulk.insert(User, ["id", *columns], [(pk, *r) for pk, r in zip(ids, rows, strict=True)], now=now, with_pk=True)
        return ids
    users = User.objects.bulk_create([User(**dict(zip(columns, r, strict=True))) for r in rows], batch_size=1000)
    return [u.pk for u in users]
