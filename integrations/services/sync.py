"""The enrollment sync: a university's batch of (learner, course, status) rows upserted in bulk.

Policy: a batch is all or nothing. Every row is validated first (sync_rows.py); if any row is
wrong, the answer lists every error (row index, field, message) and nothing is written. Otherwise
learners and enrollments are written with a handful of bulk statements in one transaction,
together with the enrollment.changed events, the invitations of new learners, the audit entry
and the idempotency record. Syncs of one university are serialized by a lock on its organization
row. Each subject's writes belong to its app: the learners to accounts (accounts.services.learners), the
enrollments to courses (courses.enrollments); this module plans the batch, and writes what is
the integration's own: invitations, events, audit, idempotency.

Accounts (issue 12). A university's sync creates learners, and changes the address and name only
of the learners it created that hold no role since (accounts.services.learners says which). A row whose
address already has an account gets a new *stand-in* learner that holds the external id and
enrollments; the address's owner is then e-mailed a link offer (integrations.services.links) when
their account may be linked (a plain learner, of no other university), or told that nothing
changed. The answer, the cost in queries and the reads are the same as for an address with no
account: the sync never tells whether an address has an account. Changes of address follow
accounts' rules: an activated learner's new address waits for the owner's confirmation (queued
EmailChange rows), a never-activated one's is corrected at once and the invitation goes out
again."""

import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organization, User
from accounts.services.learners import LearnerPlan, learners_plan, learners_unsettled, learners_write
from courses.enrollments import (
    enrollments_differing,
    enrollments_drop_bulk,
    enrollments_status_map,
    enrollments_upsert_bulk,
    open_course_ids,
    organization_enrollments_absent,
    organization_enrollments_open,
)
from courses.models import Enrollment
from kernel import bulk
from kernel.errors import ApplicationError
from kernel.models import OutboxEvent

from ..models import ApiClient, AuditEntry, IdempotencyRecord, LearnerInvite
from .events import kick_dispatch
from .sync_rows import SyncRow, parse_rows

MODES = ("upsert", "full")
STAGE_COLUMNS = [
    ("external_id", "text"),
    ("email", "text"),
    ("full_name", "text"),
    ("course_id", "bigint"),
    ("status", "text"),
]
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
class SyncOutcome:
    status_code: int
    body: dict
    replayed: bool = False
    created_user_ids: list[int] = field(default_factory=list)


@dataclass
class EnrollmentPlan:
    """What a batch does to its enrollments: the answer's counts, and the writes behind them."""

    counts: dict = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "dropped": 0})
    upserts: list[SyncRow] = field(default_factory=list)  # new and changed
    changes: list[tuple[SyncRow, str | None]] = field(default_factory=list)  # row, previous status
    batch_keys: set[tuple[int, int]] = field(default_factory=set)  # (user, course) of known learners
    drops: list[tuple[int, int, int, str, str]] = field(default_factory=list)  # (pk, user, course, status, ext)


def request_fingerprint(payload) -> str:
    """A stable hash of a request body, for Idempotency-Key comparisons."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _refuse(errors: list[dict]) -> None:
    shown = errors[:MAX_ERRORS]
    raise SyncRefused(
        ngettext(
            "%(n)d row is not valid; nothing was changed.",
            "%(n)d rows are not valid; nothing was changed.",
            len(errors),
        )
        % {"n": len(errors)},
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
    audit: bool = True,
) -> SyncOutcome:
    """Upsert a university's learners and enrollments in bulk; in full mode drop (never delete)
    its enrollments in the named courses that the batch omits. Writes enrollment.changed events,
    invitations for new learners, an audit entry and the idempotency record in one transaction.
    Raises SyncRefused (400, every row error), DropThresholdExceeded (409), IdempotencyKeyReused
    (422). `scope_course_codes` widens full mode's scope beyond the batch's own courses (used by
    OneRoster bulk files, where a class with no enrollment left is still named). `audit=False`
    leaves the audit entry to a caller that writes its own (the OneRoster import, one per package)."""
    if mode not in MODES:
        raise SyncRefused(_("Unknown mode."), field="mode", extra={"code": "invalid"})
    if len(raw_rows) > settings.INTEGRATIONS_SYNC_MAX_ROWS:
        raise SyncRefused(
            _("At most %(n)d rows per batch.") % {"n": settings.INTEGRATIONS_SYNC_MAX_ROWS},
            field="rows",
            extra={"code": "too_many_rows"},
        )
    courses = open_course_ids()
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
                audit=audit,
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
    audit=True,
) -> SyncOutcome:
    # Serialize syncs of one university: a replayed key sees the first request's record.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    replayed = _replayed(client=client, idempotency_key=idempotency_key, request_hash=request_hash, endpoint=endpoint)
    if replayed is not None:
        return replayed

    now = timezone.now()
    learners: dict[str, SyncRow] = {}
    for row in rows:
        learners.setdefault(row.external_id, row)
    staged = None
    if bulk.use_copy():
        # Read and compare in the database: the batch is COPied into a temporary table, and each
        # owning app brings back only what differs from it. A resync of unchanged rows brings
        # back nothing, plans nothing and writes nothing.
        staged = bulk.stage(
            "tmp_sync_batch",
            STAGE_COLUMNS,
            [(r.external_id, r.email, r.full_name, courses[r.course_code], r.status) for r in rows],
        )
        unsettled = learners_unsettled(organization=organization, stage=staged)
        learners = {ext: row for ext, row in learners.items() if ext in unsettled}
    plan = learners_plan(organization=organization, learners=learners)
    created_user_ids: list[int] = []
    if not dry_run:
        created_user_ids = learners_write(plan=plan, organization=organization, now=now)
        _invites_record(plan=plan, created=created_user_ids, organization=organization, now=now)

    if staged is not None:
        enrollments = _plan_enrollments_staged(
            rows=rows, stage=staged, organization=organization, user_ids=plan.user_ids, courses=courses
        )
    else:
        enrollments = _plan_enrollments(rows=rows, user_ids=plan.user_ids, courses=courses)
    if mode == "full":
        _plan_drops(
            enrollments,
            organization=organization,
            courses=courses,
            scope_codes={r.course_code for r in rows} | {c for c in (scope_course_codes or []) if c in courses},
            force=force,
            stage=staged,
        )
    if not dry_run:
        enrollments_upsert_bulk(
            enrollments=[(plan.user_ids[r.external_id], courses[r.course_code], r.status) for r in enrollments.upserts],
            source=source,
            now=now,
        )
        enrollments_drop_bulk(ids=[d[0] for d in enrollments.drops], now=now)
        _events_record(
            enrollments, organization=organization, user_ids=plan.user_ids, courses=courses, source=source, now=now
        )

    body = {
        "mode": mode,
        "dry_run": dry_run,
        "counts": enrollments.counts,
        "learners": {"created": len(plan.create), "updated": plan.updated},
    }
    # Every sync that changes something, and every dry run, is audited; one that changes nothing
    # leaves no trace but its idempotency record.
    if audit and (dry_run or _writes(plan, enrollments)):
        _audit_record(
            plan=plan,
            counts=enrollments.counts,
            rows=len(rows),
            organization=organization,
            client=client,
            endpoint=endpoint,
            mode=mode,
            dry_run=dry_run,
            force=force,
            idempotency_key=idempotency_key,
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


def accounts_ensure(*, organization: Organization, people: dict[str, SyncRow], now=None) -> dict[str, int]:
    """The accounts of these people (external id -> row), created as the sync creates learners'
    (inactive, invited from the `events` queue), in the caller's transaction. Used for a roster's
    teachers, who get an account to be made instructors but no enrollment. External id -> user id."""
    now = now or timezone.now()
    plan = learners_plan(organization=organization, learners=people)
    created = learners_write(plan=plan, organization=organization, now=now)
    _invites_record(plan=plan, created=created, organization=organization, now=now)
    return plan.user_ids


def _replayed(*, client, idempotency_key, request_hash, endpoint) -> SyncOutcome | None:
    """The first answer to a request retried with the same Idempotency-Key, or None. A key used
    again with another request is refused."""
    if not idempotency_key or client is None:
        return None
    record = IdempotencyRecord.objects.filter(client=client, key=idempotency_key).first()
    if record is None:
        return None
    if record.request_hash != request_hash or record.endpoint != endpoint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used with a different request."),
            extra={"code": "idempotency_key_reused"},
        )
    return SyncOutcome(record.status_code, record.response, replayed=True)


def _invites_record(*, plan: LearnerPlan, created: list[int], organization, now) -> None:
    """Queue the invitations of the new learners, and again those of the re-addressed ones (for a
    stand-in, the link offer); the `events` queue sends them (invites.py)."""
    bulk.insert(LearnerInvite, ["user_id", "organization_id"], [(pk, organization.pk) for pk in created], now=now)
    if plan.reinvite:
        bulk.upsert(
            LearnerInvite,
            ["user_id", "organization_id", "sent_at"],
            [(pk, organization.pk, None) for pk in plan.reinvite],
            unique=["user"],
            update=["sent_at"],
            now=now,
        )


def _plan_enrollments(*, rows: list[SyncRow], user_ids: dict[str, int], courses: dict[str, int]) -> EnrollmentPlan:
    """Compare the batch with the enrollments its known learners have (one read): what is new,
    changed, unchanged. A learner still to be created has none."""
    out = EnrollmentPlan()
    counts = out.counts
    current = enrollments_status_map(user_ids=user_ids.values(), course_ids={courses[r.course_code] for r in rows})
    for row in rows:
        uid = user_ids.get(row.external_id)
        previous = None
        if uid is not None:
            key = (uid, courses[row.course_code])
            out.batch_keys.add(key)
            previous = current.get(key)
        if previous is None:
            counts["created"] += 1
        elif previous != row.status:
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
            continue
        out.upserts.append(row)
        out.changes.append((row, previous))
    return out


def _plan_enrollments_staged(
    *, rows: list[SyncRow], stage, organization, user_ids: dict[str, int], courses: dict[str, int]
) -> EnrollmentPlan:
    """`_plan_enrollments` compared in the database (the batch staged): only the new and changed
    rows come back, in the batch's order; the learners they name join `user_ids`."""
    out = EnrollmentPlan()
    counts = out.counts
    differing = enrollments_differing(organization=organization, stage=stage)
    if differing:
        by_key = {(r.external_id, courses[r.course_code]): r for r in rows}
        found = []
        for ext, course_id, uid, previous in differing:
            if uid is not None:
                user_ids.setdefault(ext, uid)
            found.append((by_key[(ext, course_id)], previous))
        found.sort(key=lambda f: f[0].index)
        for row, previous in found:
            counts["created" if previous is None else "updated"] += 1
            out.upserts.append(row)
            out.changes.append((row, previous))
    counts["unchanged"] = len(rows) - counts["created"] - counts["updated"]
    return out


def _writes(plan: LearnerPlan, enrollments: EnrollmentPlan) -> bool:
    """Whether a sync writes anything (learners, addresses, invitations, enrollments)."""
    return bool(
        plan.create or plan.rename or plan.readdress or plan.changes or plan.supersede or plan.reinvite
    ) or bool(enrollments.upserts or enrollments.drops)


def _plan_drops(
    plan: EnrollmentPlan, *, organization, courses: dict[str, int], scope_codes: set[str], force, stage=None
) -> None:
    """Full mode: this university's enrollments in the scope's courses that the batch omits are
    dropped, unless that is more than the threshold's share of them and the sync is not forced
    (DropThresholdExceeded). With the batch staged, compared in the database."""
    course_ids = {courses[c] for c in scope_codes}
    if stage is not None:
        drops, total = organization_enrollments_absent(organization=organization, course_ids=course_ids, stage=stage)
    else:
        in_scope = organization_enrollments_open(organization=organization, course_ids=course_ids)
        drops, total = [e for e in in_scope if (e[1], e[2]) not in plan.batch_keys], len(in_scope)
    max_share = settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE
    if drops and not force and len(drops) > max_share * total:
        raise DropThresholdExceeded(
            _(
                "This full sync would drop %(n)d of %(total)d enrollments (more than %(share)d%%); "
                "send force=true to apply it."
            )
            % {"n": len(drops), "total": total, "share": round(max_share * 100)},
            extra={
                "code": "drop_threshold_exceeded",
                "details": [{"field": "force", "code": "required", "message": str(len(drops))}],
            },
        )
    plan.drops = drops
    plan.counts["dropped"] = len(drops)


def _events_record(plan: EnrollmentPlan, *, organization, user_ids, courses, source, now) -> None:
    """One enrollment.changed event per new, changed or dropped enrollment, in one statement; the
    `events` queue is nudged after the commit."""
    code_by_id = {cid: code for code, cid in courses.items()}
    # A dropped learner is absent from the batch: its address, as the university knows it, is read.
    email_of = {}
    if plan.drops:
        email_of = dict(
            User.objects.filter(**bulk.in_filter("pk", [d[1] for d in plan.drops]))
            .annotate(shown=Coalesce(NullIf("roster_email", Value("")), "email"))
            .values_list("pk", "shown")
        )
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
        for row, previous in plan.changes
    ] + [
        (
            "enrollment.changed",
            organization.pk,
            uid,
            {
                "learner": {"external_id": ext, "email": email_of.get(uid)},
                "course_code": code_by_id[cid],
                "status": Enrollment.Status.DROPPED,
                "previous_status": status,
                "source": source,
            },
        )
        for _pk, uid, cid, status, ext in plan.drops
    ]
    if events:
        bulk.insert(OutboxEvent, ["event_type", "organization_id", "user_id", "payload"], events, now=now)
        transaction.on_commit(lambda: kick_dispatch([organization.pk]), robust=True)


def _audit_record(
    *, plan: LearnerPlan, counts, rows, organization, client, endpoint, mode, dry_run, force, idempotency_key
) -> None:
    AuditEntry.objects.create(
        organization=organization,
        client=client,
        endpoint=endpoint,
        action="enrollments.sync.dry_run" if dry_run else "enrollments.sync",
        # Staff-only: how many new learners stand in for an address that has an account (pending
        # links). Never in the answer, which must not tell.
        counts={**counts, "rows": rows, "learners_created": len(plan.create), "stand_ins": plan.stand_ins},
        detail={"mode": mode, "force": force, "idempotency_key": idempotency_key or ""},
    )
