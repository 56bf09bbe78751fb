"""A university's learners, written in bulk: the accounts side of the enrollment sync.

A sync creates learners, and changes the address and name only of the learners it created
(`User.created_by_organization`) that hold no role since. Any other account is never changed by
a sync: a self sign-up, a member of this university without an external id, another university's
member, an instructor, a university admin, staff. A row whose address already has an account
gets a new *stand-in* learner (inactive, an undeliverable login address, the row's address as
`roster_email`) that holds the external id and enrollments, until the address's owner confirms a
link. Changes of address follow this app's rules: an activated learner's new address waits for
the owner's confirmation (queued EmailChange rows, sent by `email_changes_notify_pending`), a
never-activated one's is corrected at once (its invitation must then go out again: the caller
owns invitations).

`learners_plan` decides everything from two reads, whatever the batch's size; `learners_write`
applies a plan with a handful of bulk statements, in the caller's transaction. The plan's cost
and outcome are the same whether an address has an account or not, so a caller never tells.
`stand_in_replace` ends a stand-in once its address's owner linked their account."""

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Subquery
from django.db.models.functions import Lower

from kernel import bulk

from ..models import AuditEntry, EmailChange, Organization
from ..selectors import privileged_condition

User = get_user_model()


class RosterLearner(Protocol):
    """A learner as a university's roster gives it (the address is already lower-cased)."""

    email: str
    full_name: str


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


def stand_in_email() -> str:
    """The login address of a stand-in: unique, and undeliverable (RFC 2606 reserves .invalid)."""
    return f"stand-in-{uuid.uuid4().hex}@stand-in.invalid"


def learners_plan(*, organization: Organization, learners: Mapping[str, RosterLearner]) -> LearnerPlan:
    """Decide, from two reads whatever the batch's size, what a university's roster (external id
    -> learner) creates and changes: this university's learners with the batch's external ids,
    and which of the batch's addresses already have an account (any account, anywhere). Writes
    nothing."""
    pending = EmailChange.objects.filter(user_id=OuterRef("pk"), status=EmailChange.Status.PENDING)
    existing = {
        row[0]: row[1:]
        for row in User.objects.filter(organization=organization, **bulk.in_filter("external_id", learners))
        .annotate(
            # Activated: a usable password, or an active account (which may hold no roster address,
            # so it is never re-addressed in place, whatever way it was activated).
            usable=ExpressionWrapper(
                ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX) | Q(is_active=True), output_field=BooleanField()
            ),
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
                plan.create.append((ext, stand_in_email(), row.email, row.full_name))
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
            plan.readdress.append((pk, stand_in_email(), row.email, new_name))
        else:
            plan.readdress.append((pk, row.email, "", new_name))
        plan.reinvite.append(pk)
        if not roster:  # the old address received an invitation: it is told it was withdrawn
            plan.changes.append((pk, email, row.email, EmailChange.Status.CORRECTED))
        plan.updated += 1
    return plan


def learners_unsettled(*, organization: Organization, stage: bulk.Stage) -> set[str]:
    """The external ids of a staged batch (columns external_id, email, full_name: the address
    lower-cased) that `learners_plan` may do something about: not yet a learner of this
    university, or one it created whose shown address or name differs, who has a pending change
    of address, or who is a stand-in (whether its address still has an account is the plan's to
    tell). A superset: the plan decides (roles, links). Compared in the database, one statement:
    a resync of unchanged learners brings back nothing."""
    users, changes = User._meta.db_table, EmailChange._meta.db_table
    query = f"""
        SELECT DISTINCT t.external_id FROM {stage.name} t
        LEFT JOIN {users} u ON u.organization_id = %(org)s AND u.external_id = t.external_id
        WHERE u.id IS NULL
           OR (u.created_by_organization_id = %(org)s AND (
                  lower(COALESCE(NULLIF(u.roster_email, ''), u.email)) <> t.email
               OR (t.full_name <> '' AND u.full_name <> t.full_name)
               OR u.roster_email <> ''
               OR EXISTS (SELECT 1 FROM {changes} c WHERE c.user_id = u.id AND c.status = %(pending)s)))
    """  # noqa: S608 - table names from the models, values bound
    with connection.cursor() as cursor:
        cursor.execute(query, {"org": organization.pk, "pending": EmailChange.Status.PENDING})
        return {r[0] for r in cursor.fetchall()}


def learners_write(*, plan: LearnerPlan, organization: Organization, now: datetime) -> list[int]:
    """Apply a plan with bulk statements, in the caller's transaction: create the new learners
    and stand-ins, rename, re-address, queue the changes of address. Fills `plan.user_ids` with
    the created learners; returns their ids, in the plan's order. Sends nothing."""
    created = learners_create_bulk(learners=plan.create, organization=organization, now=now)
    for (ext, *_rest), pk in zip(plan.create, created, strict=True):
        plan.user_ids[ext] = pk
    learners_rename_bulk(names=plan.rename, now=now)
    learners_readdress_bulk(addresses=plan.readdress, now=now)
    email_changes_queue_bulk(changes=plan.changes, supersede=plan.supersede, requested_by=organization.name, now=now)
    return created


def learners_create_bulk(
    *, learners: list[tuple[str, str, str, str]], organization: Organization, now: datetime
) -> list[int]:
    """Insert a university's new learners and stand-ins, (external id, email, roster_email, full
    name) each: inactive with an unusable password (they activate by e-mail, or a stand-in's
    address owner links their account), created by and members of this university. Returns their
    ids in order."""
    if not learners:
        return []
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


def learners_rename_bulk(*, names: list[tuple[int, str]], now: datetime) -> None:
    """Give learners, (pk, full name) each, their roster's name."""
    if names:
        User.objects.bulk_update(
            [User(pk=pk, full_name=name, updated_at=now) for pk, name in names],
            ["full_name", "updated_at"],
            batch_size=1000,
        )


def learners_readdress_bulk(*, addresses: list[tuple[int, str, str, str]], now: datetime) -> None:
    """Correct never-activated learners' addresses at once, (pk, email, roster_email, full name)
    each (a stand-in when the roster's address has an account). Each gets a new unusable
    password: every invitation or link sent to the old address stops working."""
    if addresses:
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
                for pk, email, roster, name in addresses
            ],  # fmt: skip
            ["email", "roster_email", "full_name", "email_verified_at", "password", "updated_at"],
            batch_size=1000,
        )


def email_changes_queue_bulk(
    *, changes: list[tuple[int, str, str, str]], supersede: list[int], requested_by: str, now: datetime
) -> None:
    """Record changes of address, (user, old, new, status) each, pending or already corrected,
    cancelling the pending change they replace (and those of `supersede`). Queued: beat sends the
    confirmations and notices (email_changes_notify_pending)."""
    replaced = supersede + [c[0] for c in changes]
    if replaced:
        EmailChange.objects.filter(**bulk.in_filter("user_id", replaced), status=EmailChange.Status.PENDING).update(
            status=EmailChange.Status.CANCELLED, decided_at=now
        )
    if changes:
        bulk.insert(
            EmailChange,
            ["user_id", "old_email", "new_email", "status", "requested_by", "decided_at"],
            [
                (pk, old, new, status, requested_by, None if status == EmailChange.Status.PENDING else now)
                for pk, old, new, status in changes
            ],
            now=now,
        )


def stand_in_replace(*, stand_in, account) -> None:
    """The owner of a stand-in's address confirmed the link: the reads recorded about the roster
    entry (the learner sees them on their privacy page) become the account's, a read recorded for
    both in the same slot (the gradebook showed both rows) kept once; the stand-in goes; the
    account gets the university's organization and external id. Nothing else of the account
    changes. Call it inside the caller's transaction, once other apps moved what is theirs."""
    twin = AuditEntry.objects.filter(
        subject_user=account, actor=OuterRef("actor"), action=OuterRef("action"), object_type=OuterRef("object_type"),
        object_id=OuterRef("object_id"), dedupe_slot=OuterRef("dedupe_slot"),
    )  # fmt: skip
    AuditEntry.objects.filter(subject_user=stand_in).filter(Exists(twin)).delete()
    AuditEntry.objects.filter(subject_user=stand_in).update(subject_user=account)
    organization, external_id = stand_in.organization, stand_in.external_id
    stand_in.delete()
    account.organization = organization
    account.external_id = external_id
    account.save(update_fields=["organization", "external_id", "updated_at"])


def stand_in_to_invitee(*, stand_in) -> bool:
    """The address a stand-in holds has no account any more: it becomes a plain invitee of that
    address (a new unusable password). False, and it stays a stand-in, when the address was taken
    again meanwhile. The caller sends the invitation."""
    try:
        with transaction.atomic():
            stand_in.email, stand_in.roster_email = stand_in.roster_email, ""
            stand_in.set_unusable_password()
            stand_in.save(update_fields=["email", "roster_email", "password", "updated_at"])
    except IntegrityError:
        return False
    return True
