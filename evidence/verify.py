"""Checking the evidence: the chain, its checkpoints, and the stored files it vouches for.

Nothing here trusts the database: each entry is checked against its own hash, its
predecessor, its mirrored columns and its lane head; each checkpoint against its signature
(with keys from the keyring directory, not from the database), the previous checkpoint, and a
Merkle root recomputed from the entries; each attachment file against its recorded SHA-256,
which must also be the one in the notification's deposit entry.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection
from django.utils.dateparse import parse_datetime

from evidence import chain, keys, merkle
from evidence.models import ChainHead, Checkpoint, Event, EventKind

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    where: str  # e.g. "entry 0:17 (id 123)", "checkpoint #4", "attachment 9f2c..."
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Report:
    entries: int = 0
    lanes: int = 0
    sealed: int = 0  # entries covered by a checkpoint
    checkpoints: int = 0
    timestamped: int = 0
    attachments: int = 0
    notifications: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(where, message))


@dataclass
class _Seal:
    """What one checkpoint claims, and what the entries turn out to be."""

    checkpoint: Checkpoint
    body: dict[str, Any]
    accumulator: merkle.Accumulator = field(default_factory=merkle.Accumulator)
    heads_seen: set[str] = field(default_factory=set)


_ENTRY_COLUMNS = (
    "id, lane, seq, kind, occurred_at, actor_id, person_id, procedure_id, notification_id, "
    "canonical, prev_hash, hash"
)


def _rows() -> Iterator[tuple[Any, ...]]:
    """Every entry, lane by lane, in sequence order; a server-side cursor on PostgreSQL."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM evidence_event ORDER BY lane, seq"  # noqa: S608
        )
        while batch := cursor.fetchmany(5000):
            yield from batch


def _as_datetime(value: Any) -> datetime:
    """A raw cursor's timestamp as an aware UTC datetime (SQLite gives naive UTC, or text)."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"not a timestamp: {value!r}")
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value  # type: ignore[no-any-return]


def _check_checkpoints(report: Report) -> dict[int, tuple[list[int], list[_Seal]]]:
    """Signatures and links of every checkpoint; returns, per lane, the checkpoints' upper
    bounds (sorted) and the checkpoints, so entries can be dealt to the seal that covers them."""
    trusted = keys.trusted_public_keys()
    previous: Checkpoint | None = None
    seals: list[_Seal] = []
    for checkpoint in Checkpoint.objects.order_by("number"):
        report.checkpoints += 1
        where = f"checkpoint #{checkpoint.number}"
        if chain.sha256_hex(checkpoint.statement) != checkpoint.hash:
            report.add(where, "its hash does not match its statement")
        try:
            body = json.loads(checkpoint.statement)
        except ValueError:
            report.add(where, "its statement is not JSON")
            previous = checkpoint
            continue
        public = trusted.get(body.get("key", ""))
        if public is None:
            report.add(where, f"signed with key {body.get('key')!r}, which is not in the keyring")
        elif not keys.signature_valid(public, checkpoint.signature, checkpoint.statement.encode()):
            report.add(where, "its signature is not valid")
        if body.get("number") != checkpoint.number:
            report.add(where, "its number differs from the signed one")
        if (
            body.get("key") != checkpoint.key_id
            or body.get("merkle_root") != checkpoint.merkle_root
        ):
            report.add(where, "its columns differ from the signed statement")
        expected_prev = previous.hash if previous else chain.GENESIS
        if body.get("prev") != expected_prev:
            report.add(where, "it does not follow the checkpoint before it (one is missing?)")
        expected_since = (
            {lane: head["seq"] for lane, head in json.loads(previous.statement)["heads"].items()}
            if previous
            else {}
        )
        if body.get("since") != expected_since:
            report.add(where, "it does not start where the checkpoint before it ended")
        elif previous is not None:
            before = json.loads(previous.statement)["heads"]
            for lane, head in body.get("heads", {}).items():
                unmoved = lane in before and head["seq"] == before[lane]["seq"] != 0
                if unmoved and head["hash"] != before[lane]["hash"]:
                    report.add(where, f"lane {lane} did not move, yet its head changed")
        if checkpoint.timestamp_token:
            report.timestamped += 1
            _check_timestamp(report, where, checkpoint)
        seals.append(_Seal(checkpoint, body))
        previous = checkpoint
    by_lane: dict[int, tuple[list[int], list[_Seal]]] = {}
    for seal in seals:
        for lane_key, head in seal.body.get("heads", {}).items():
            bounds, owners = by_lane.setdefault(int(lane_key), ([], []))
            if head["seq"] > (bounds[-1] if bounds else 0):
                bounds.append(head["seq"])
                owners.append(seal)
    return by_lane


def _check_timestamp(report: Report, where: str, checkpoint: Checkpoint) -> None:
    from django.conf import settings

    if not settings.BUZON_TSA_TRUST_ROOTS:
        return  # kept, but there is no trust root here to check it against
    from evidence import tsa

    digest = hashlib.sha256(checkpoint.statement.encode()).digest()
    try:
        tsa.verify_token(bytes(checkpoint.timestamp_token or b""), digest)
    except tsa.TimestampError as exc:
        report.add(where, f"its RFC 3161 timestamp does not verify: {exc}")


def _check_entries(
    report: Report,
    seals: dict[int, tuple[list[int], list[_Seal]]],
    progress: Callable[[int], None] | None,
) -> None:
    heads = {h.lane: h for h in ChainHead.objects.all()}
    lane: int | None = None
    expected_seq, prev = 1, chain.GENESIS
    to_datetime = _as_datetime
    timestamp = chain.timestamp
    sha256 = hashlib.sha256
    loads = json.loads

    def close_lane() -> None:
        if lane is None:
            return
        head = heads.pop(lane, None)
        if head is None or head.seq != expected_seq - 1 or head.hash != prev:
            report.add(
                f"lane {lane}",
                f"the log ends at {lane}:{expected_seq - 1}, but the lane head says "
                f"{lane}:{head.seq if head else '?'} (entries removed from the end?)",
            )

    for count, row in enumerate(_rows(), start=1):
        (pk, row_lane, seq, kind, occurred_at, actor, person, procedure, notification,
         canonical, prev_hash, digest) = row  # fmt: skip
        if row_lane != lane:
            close_lane()
            lane, expected_seq, prev = row_lane, 1, chain.GENESIS
            report.lanes += 1
        where = f"entry {row_lane}:{seq} (id {pk})"
        if seq != expected_seq:
            report.add(
                where,
                f"entries {row_lane}:{expected_seq} to {row_lane}:{seq - 1} are missing"
                if seq > expected_seq
                else "its sequence number repeats or goes back",
            )
        if sha256(canonical.encode()).hexdigest() != digest:
            report.add(where, "its hash does not match its content (edited?)")
        body = loads(canonical)
        if body["prev"] != prev or prev_hash != prev:
            report.add(where, "it does not follow the entry before it (removed or reordered?)")
        if (
            body["lane"] != row_lane
            or body["seq"] != seq
            or body["kind"] != kind
            or body["actor"] != actor
            or body["person"] != person
            or body["procedure"] != procedure
            or body["notification"] != notification
            or body["at"] != timestamp(to_datetime(occurred_at))
        ):
            report.add(where, "its columns differ from its hashed content (edited?)")
        bounds_owners = seals.get(row_lane)
        if bounds_owners is not None:
            bounds, owners = bounds_owners
            i = bisect.bisect_left(bounds, seq)
            if i < len(bounds):
                seal = owners[i]
                seal.accumulator.add(digest)
                report.sealed += 1
                head = seal.body["heads"].get(str(row_lane))
                if head is not None and head["seq"] == seq:
                    seal.heads_seen.add(str(row_lane))
                    if head["hash"] != digest:
                        report.add(
                            where, f"checkpoint #{seal.checkpoint.number} sealed another entry here"
                        )
        expected_seq, prev = seq + 1, digest
        report.entries = count
        if progress is not None and count % 10000 == 0:
            progress(10000)
    close_lane()
    for lane_left, head in heads.items():
        if head.seq:
            report.add(
                f"lane {lane_left}",
                f"the lane head says {lane_left}:{head.seq}, but the lane has no entries",
            )


def _check_seals(report: Report, seals: dict[int, tuple[list[int], list[_Seal]]]) -> None:
    checked: set[int] = set()
    for _bounds, owners in seals.values():
        for seal in owners:
            if seal.checkpoint.number in checked:
                continue
            checked.add(seal.checkpoint.number)
            where = f"checkpoint #{seal.checkpoint.number}"
            if seal.accumulator.size != seal.body.get("entries"):
                report.add(
                    where,
                    f"it sealed {seal.body.get('entries')} entries; "
                    f"{seal.accumulator.size} are there",
                )
            elif seal.accumulator.root != seal.body.get("merkle_root"):
                report.add(where, "the entries it sealed have changed (Merkle root differs)")
            since = seal.body.get("since", {})
            moved = {
                lane
                for lane, head in seal.body.get("heads", {}).items()
                if head["seq"] > since.get(lane, 0)
            }
            missing = moved - seal.heads_seen
            if missing:
                report.add(where, f"the entries it sealed last on lanes {sorted(missing)} are gone")


def _check_files(report: Report) -> None:
    from mailboxes.actions import content_sha256
    from mailboxes.models import Notification

    deposited: dict[int, dict[str, Any]] = {}
    notifications = (
        Notification.objects.select_related("procedure", "person", "unit")
        .prefetch_related("attachments")
        .order_by("pk")
    )
    for notification in notifications.iterator(chunk_size=1000):
        report.notifications += 1
        where = f"notification {notification.public_id}"
        if content_sha256(notification) != notification.content_sha256:
            report.add(where, "its content differs from the hash recorded at deposit (edited?)")
        if notification.pk not in deposited:
            # The deposit entries of this notification and the next ids, in one query.
            deposited = {
                nid: json.loads(text)
                for nid, text in Event.objects.filter(
                    kind=EventKind.NOTIFICATION_DEPOSITED,
                    notification_id__gte=notification.pk,
                    notification_id__lt=notification.pk + 1000,
                ).values_list("notification_id", "canonical")
            }
        entry = deposited.get(notification.pk)
        if entry is None:
            report.add(where, "it has no deposit entry in the log")
            continue
        if entry["content_sha256"] != notification.content_sha256:
            report.add(where, "its content hash differs from the one in its deposit entry")
        recorded = entry["attachments_sha256"] or []
        stored = []
        for attachment in sorted(notification.attachments.all(), key=lambda a: a.pk):
            report.attachments += 1
            stored.append(attachment.sha256)
            name = f"attachment {attachment.public_id} ({attachment.original_name})"
            try:
                with default_storage.open(str(attachment.file.name), "rb") as handle:
                    digest = hashlib.sha256()
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
            except OSError:
                report.add(name, "its file is missing")
                continue
            if digest.hexdigest() != attachment.sha256:
                report.add(name, "its file differs from the one deposited (SHA-256 mismatch)")
        if stored != recorded:
            report.add(where, "its attachments differ from those in its deposit entry")


def verify(*, files: bool = True, progress: Callable[[int], None] | None = None) -> Report:
    report = Report()
    seals = _check_checkpoints(report)
    _check_entries(report, seals, progress)
    _check_seals(report, seals)
    if files:
        _check_files(report)
    return report


def summary(report: Report) -> str:
    lines = [
        f"entries: {report.entries} on {report.lanes} lanes, {report.sealed} sealed by "
        f"{report.checkpoints} checkpoints ({report.timestamped} with an RFC 3161 timestamp)",
        f"notifications: {report.notifications}, attachment files: {report.attachments}",
    ]
    if report.ok:
        lines.append("evidence intact")
    else:
        lines.append(f"FIRST PROBLEM: {report.problems[0]}")
        lines += [f"  also: {p}" for p in report.problems[1:]]
    return "\n".join(lines)


def keyring_path() -> Path:
    from django.conf import settings

    return Path(settings.BUZON_EVIDENCE_KEY_DIR)
