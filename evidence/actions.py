"""Appending to the evidence log, and sealing it. The only writer of Event and Checkpoint.

See docs/evidence.md for the design: entries are chained per lane; a transaction locks one
lane's head (any lane nobody else holds), so concurrent transactions never wait for each other
unless every lane is busy, and the chain never forks.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from buzon.bulk import insert_new
from evidence import chain, keys, merkle
from evidence.models import ChainHead, Checkpoint, Event, EventKind
from evidence.signals import events_recorded

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import User
    from mailboxes.models import Notification
    from people.models import Person
    from procedures.models import Procedure


class EvidenceOutsideTransactionError(RuntimeError):
    """An event must be written in the same transaction as the change it records."""


@dataclass(frozen=True)
class EventSpec:
    kind: EventKind
    actor: User | None
    person: Person | None = None
    procedure: Procedure | None = None
    notification: Notification | None = None
    data: dict[str, Any] = field(default_factory=dict)
    content_sha256: str | None = None
    attachments_sha256: list[str] | None = None


def record(
    kind: EventKind,
    *,
    actor: User | None,
    person: Person | None = None,
    procedure: Procedure | None = None,
    notification: Notification | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    spec = EventSpec(kind, actor, person, procedure, notification, data or {})
    return record_many([spec])[0]


def lane_count() -> int:
    """PostgreSQL appends on several lanes at once; SQLite has one writer at a time anyway."""
    return settings.BUZON_EVIDENCE_LANES if connection.vendor == "postgresql" else 1


def ensure_heads(lanes: int | None = None, using: str = "default") -> None:
    """Create the missing lane heads (run after migrate, outside business transactions: a
    transaction that creates a head holds it until it ends)."""
    count = max(lanes or settings.BUZON_EVIDENCE_LANES, 1)
    ChainHead.objects.using(using).bulk_create(
        [ChainHead(lane=lane, seq=0, hash=chain.GENESIS) for lane in range(count)],
        ignore_conflicts=True,
    )


def _lock_a_lane() -> ChainHead:
    """The head of a lane this transaction may append to, locked until it ends."""
    lanes = lane_count()
    heads = ChainHead.objects.filter(lane__lt=lanes)
    for _attempt in range(2):
        if lanes == 1:
            head = heads.select_for_update().first()
        else:
            # Any lane no other transaction holds (a lane this transaction already holds is
            # never skipped, so a second append in the same transaction cannot wait).
            head = heads.select_for_update(skip_locked=True).order_by("?").first()
            if head is None and heads.count() == lanes:
                # Every lane busy: queue behind one of them.
                head = heads.select_for_update().get(lane=random.randrange(lanes))  # noqa: S311
        if head is not None:
            return head
        ensure_heads(lanes)  # heads missing (emptied by hand?): make them, then lock one
    raise RuntimeError("no evidence lane head could be locked")


def record_many(events: list[EventSpec]) -> list[Event]:
    """Append events, chained, in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise EvidenceOutsideTransactionError("events recorded outside a transaction")
    if not events:
        return []
    head = _lock_a_lane()
    now = timezone.now()
    if head.at is not None and head.at > now:
        now = head.at  # this host's clock is behind the last appender's: time never goes back
    seq, prev = head.seq, head.hash
    rows = []
    for spec in events:
        seq += 1
        actor = spec.actor if spec.actor is not None and spec.actor.pk else None
        canonical = chain.dumps(
            chain.entry_body(
                lane=head.lane,
                seq=seq,
                prev=prev,
                at=now,
                kind=str(spec.kind),
                actor=actor.pk if actor else None,
                person=spec.person.pk if spec.person else None,
                procedure=spec.procedure.pk if spec.procedure else None,
                notification=spec.notification.pk if spec.notification else None,
                content_sha256=spec.content_sha256,
                attachments_sha256=spec.attachments_sha256,
                data=spec.data,
            )
        )
        digest = chain.sha256_hex(canonical)
        rows.append(
            Event(
                lane=head.lane,
                seq=seq,
                occurred_at=now,
                kind=spec.kind,
                actor=actor,
                person=spec.person,
                procedure=spec.procedure,
                notification=spec.notification,
                canonical=canonical,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    insert_new(rows)
    ChainHead.objects.filter(lane=head.lane).update(seq=seq, hash=prev, at=now)
    events_recorded.send(sender=Event, events=rows)
    return rows


def about(
    notification: Notification,
    kind: EventKind,
    *,
    actor: User | None,
    data: dict[str, Any],
    attachments_sha256: list[str] | None = None,
) -> EventSpec:
    """An event about a notification: it names the notification's person and procedure, and
    carries the hashes of its content and attachments, so each entry proves what it is about."""
    if attachments_sha256 is None:
        attachments_sha256 = list(
            notification.attachments.order_by("id").values_list("sha256", flat=True)
        )
    return EventSpec(
        kind,
        actor,
        person=notification.person,
        procedure=notification.procedure,
        notification=notification,
        data=data,
        content_sha256=notification.content_sha256,
        attachments_sha256=attachments_sha256,
    )


def record_about(
    notification: Notification, kind: EventKind, *, actor: User | None, data: dict[str, Any]
) -> Event:
    """Record an event about a notification, in the caller's transaction."""
    return record_many([about(notification, kind, actor=actor, data=data)])[0]


# --- Checkpoints ------------------------------------------------------------------------------


def covered_entries(
    since: dict[str, int], heads: dict[str, dict[str, Any]]
) -> list[tuple[int, int, str]]:
    """(lane, seq, hash) of the entries after `since` up to `heads`, in lane then seq order:
    the leaves of a checkpoint's Merkle tree."""
    rows: list[tuple[int, int, str]] = []
    for lane_key in sorted(heads, key=int):
        first = since.get(lane_key, 0)
        last = heads[lane_key]["seq"]
        if last <= first:
            continue
        rows.extend(
            Event.objects.filter(lane=int(lane_key), seq__gt=first, seq__lte=last)
            .order_by("seq")
            .values_list("lane", "seq", "hash")
        )
    return rows


def statement_for(
    *,
    number: int,
    at: datetime,
    previous: Checkpoint | None,
    heads: dict[str, dict[str, Any]],
    since: dict[str, int],
    entries: int,
    root: str,
    key_id: str,
) -> str:
    return chain.dumps(
        {
            "v": chain.FORMAT_VERSION,
            "type": "buzon-evidence-checkpoint",
            "agency": settings.AGENCY["name"],
            "number": number,
            "at": chain.timestamp(at),
            "prev": previous.hash if previous else chain.GENESIS,
            "since": since,
            "heads": heads,
            "entries": entries,
            "merkle_root": root,
            "key": key_id,
        }
    )


def seal(*, force: bool = False) -> Checkpoint | None:
    """Seal the log: a signed checkpoint over what was appended since the previous one.

    Returns the new checkpoint, or None when nothing was appended since (unless `force`).
    Concurrent calls are safe: they serialise on the latest checkpoint, and a second first
    checkpoint loses on the unique number and returns None.
    """
    key = keys.current_key()
    try:
        with transaction.atomic():
            previous = Checkpoint.objects.select_for_update().order_by("-number").first()
            lane_heads = [h for h in ChainHead.objects.order_by("lane") if h.seq > 0]
            heads = {str(h.lane): {"seq": h.seq, "hash": h.hash} for h in lane_heads}
            since: dict[str, int] = (
                {lane: head["seq"] for lane, head in previous.body["heads"].items()}
                if previous
                else {}
            )
            leaves = covered_entries(since, heads)
            if not leaves and previous is not None and not force:
                return None
            # No earlier than anything it seals, whatever this host's clock says.
            now = max([timezone.now(), *(h.at for h in lane_heads if h.at is not None)])
            if previous is not None:
                now = max(now, previous.created_at)
            root = merkle.root([h for _lane, _seq, h in leaves])
            statement = statement_for(
                number=previous.number + 1 if previous else 1,
                at=now,
                previous=previous,
                heads=heads,
                since=since,
                entries=len(leaves),
                root=root,
                key_id=key.key_id,
            )
            token = None
            if settings.BUZON_TSA_URL:
                from evidence import tsa

                try:
                    token = tsa.timestamp(hashlib.sha256(statement.encode()).digest())
                except tsa.TimestampError:
                    # A TSA outage must not stop sealing (the window of unsealed entries would
                    # grow); the checkpoint is still signed, and verify_evidence counts the
                    # checkpoints without a token.
                    log.exception("no RFC 3161 timestamp for checkpoint; sealed without one")
            return Checkpoint.objects.create(
                number=previous.number + 1 if previous else 1,
                created_at=now,
                statement=statement,
                hash=chain.sha256_hex(statement),
                merkle_root=root,
                entries=len(leaves),
                key_id=key.key_id,
                signature=key.sign(statement.encode()),
                timestamp_token=token,
            )
    except IntegrityError:
        return None


# --- Certificates -----------------------------------------------------------------------------

if TYPE_CHECKING:
    from evidence.models import Certificate


def issue_certificate(
    notification: Notification, *, requested_by: User | None
) -> tuple[Certificate, bytes]:
    """Issue a constancia de notificación: a signed snapshot of the notification's evidence as
    of now, registered under a fresh verification code. Every call issues a new one.

    Rendering and signing happen outside any transaction (they take milliseconds and hold no
    lock); the certificate's row and its evidence entry are then written together.
    """
    from evidence.certificates import latest_checkpoint, render_certificate
    from evidence.models import Certificate
    from evidence.proofs import sealing_checkpoint
    from verification.codes import new_code

    deposit = notification.events.filter(kind=EventKind.NOTIFICATION_DEPOSITED).first()
    latest = Checkpoint.objects.order_by("-number").first()
    if deposit is not None and sealing_checkpoint(deposit, latest) is None:
        seal()  # so that the certificate carries the deposit's inclusion proof
    code = new_code()
    issued_at = timezone.now()
    pdf = render_certificate(notification, code=code, issued_at=issued_at)
    digest = hashlib.sha256(pdf).hexdigest()
    checkpoint = latest_checkpoint(issued_at)  # the one the PDF shows
    with transaction.atomic():
        certificate = Certificate.objects.create(
            code=code,
            notification=notification,
            issued_at=issued_at,
            requested_by=requested_by if requested_by is not None and requested_by.pk else None,
            sha256=digest,
            size=len(pdf),
            checkpoint=checkpoint,
        )
        record_about(
            notification,
            EventKind.CERTIFICATE_ISSUED,
            actor=requested_by,
            data={
                "code": code,
                "sha256": digest,
                "issued_at": chain.timestamp(issued_at),
                "checkpoint": checkpoint.number if checkpoint else None,
            },
        )
    return certificate, pdf
