"""Checking the evidence: the chain, its checkpoints, and the stored files it vouches for.

Nothing here trusts the database: each entry is checked against its own hash, its
predecessor, its mirrored columns and its lane head; each checkpoint against its signature
(with keys from the keyring directory, not from the database), the previous checkpoint, and a
Merkle root recomputed from the entries; each attachment file against its recorded SHA-256,
which must also be the one in the notification's deposit entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection

from evidence import chain, keys, merkle
from evidence.models import ChainHead, Checkpoint, Event, EventKind

MAX_PROBLEMS = 50
EDITED = "its hash does not match its content (edited?)"


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
    """What one checkpoint claims, and the pieces of its Merkle tree the scans rebuild."""

    number: int
    body: dict[str, Any]
    bases: dict[int, int]  # lane -> position of the lane's first sealed entry among the leaves
    blocks: list[tuple[int, int, bytes]] = field(default_factory=list)
    heads_seen: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _LaneSeal:
    """What a scan of one lane needs to know about a checkpoint."""

    number: int
    since: int
    head_seq: int
    head_hash: str
    base: int
    at: str  # the checkpoint's time: nothing it seals can be later


@dataclass(frozen=True)
class _Task:
    """Scan entries first..last of a lane; the entry before them is prev_seq/prev_hash."""

    lane: int
    first: int
    last: int
    prev_seq: int
    prev_hash: str
    seals: tuple[_LaneSeal, ...]


@dataclass
class _Result:
    lane: int
    first: int
    count: int = 0
    last_seq: int = 0
    last_hash: str = ""
    first_at: str = ""
    last_at: str = ""
    problems: list[tuple[int, int, str, str]] = field(default_factory=list)
    blocks: dict[int, list[tuple[int, int, bytes]]] = field(default_factory=dict)
    heads_seen: list[int] = field(default_factory=list)


def _check_checkpoints(report: Report) -> list[_Seal]:
    """Signatures and links of every checkpoint; returns what each claims to seal."""
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
            or body.get("entries") != checkpoint.entries
            or body.get("at") != chain.timestamp(checkpoint.created_at)
        ):
            # Certificates print the time and the count: they must be the signed ones.
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
        bases, position = {}, 0
        since = body.get("since", {})
        for lane_key in sorted(body.get("heads", {}), key=int):
            sealed = body["heads"][lane_key]["seq"] - since.get(lane_key, 0)
            if sealed > 0:
                bases[int(lane_key)] = position
                position += sealed
        seals.append(_Seal(checkpoint.number, body, bases))
        previous = checkpoint
    return seals


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


def _lane_seals(seals: list[_Seal], lane: int) -> tuple[_LaneSeal, ...]:
    found = []
    for seal in seals:
        if lane in seal.bases:
            head = seal.body["heads"][str(lane)]
            since = seal.body.get("since", {}).get(str(lane), 0)
            found.append(
                _LaneSeal(
                    seal.number,
                    since,
                    head["seq"],
                    head["hash"],
                    seal.bases[lane],
                    str(seal.body.get("at", "")),
                )
            )
    return tuple(sorted(found, key=lambda s: s.head_seq))


def _tasks(seals: list[_Seal], chunk: int, heads: dict[int, ChainHead]) -> list[_Task]:
    """Pieces of at most `chunk` sequence numbers of each lane, up to the lane heads read
    before the scan (what is appended meanwhile is left for the next run)."""
    tasks = []
    with connection.cursor() as cursor:
        for lane, head in sorted(heads.items()):
            lane_seals = _lane_seals(seals, lane)
            for first in range(1, head.seq + 1, chunk):
                prev_seq, prev_hash = 0, chain.GENESIS
                if first > 1:
                    cursor.execute(
                        "SELECT seq, hash FROM evidence_event WHERE lane = %s AND seq < %s "
                        "ORDER BY seq DESC LIMIT 1",
                        [lane, first],
                    )
                    row = cursor.fetchone()
                    if row is not None:
                        prev_seq, prev_hash = row
                last = min(first + chunk - 1, head.seq)
                tasks.append(_Task(lane, first, last, prev_seq, prev_hash, lane_seals))
    return tasks


def _strays(report: Report) -> None:
    """Rows the scan cannot reach: outside 1..head of their lane, or in a lane without a head
    (read after the scan, so entries appended meanwhile are not strays)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, e.lane, e.seq FROM evidence_event e "
            "LEFT JOIN evidence_chainhead h ON h.lane = e.lane "
            "WHERE h.lane IS NULL OR e.seq < 1 OR e.seq > h.seq ORDER BY e.lane, e.seq"
        )
        for pk, lane, seq in cursor.fetchall():
            report.add(
                f"entry {lane}:{seq} (id {pk})",
                "it lies outside its lane's chain (inserted by hand?)",
            )


def _diagnose(canonical: str, row: tuple[Any, ...], lane: int, prev: str, at: str) -> str:
    """Why an entry failed the fast checks (the slow path: only for bad entries)."""
    (
        _pk,
        seq,
        _canonical,
        _digest,
        prev_hash,
        kind,
        actor,
        person,
        procedure,
        notification,
        _at,
    ) = row
    try:
        body = json.loads(canonical)
    except ValueError:
        return "its content is not JSON (edited?)"
    if body.get("prev") != prev or prev_hash != prev:
        return "it does not follow the entry before it (removed or reordered?)"
    mirrored = (lane, seq, kind, actor, person, procedure, notification, at)
    signed = tuple(
        body.get(k)
        for k in ("lane", "seq", "kind", "actor", "person", "procedure", "notification", "at")
    )
    if mirrored != signed:
        return "its columns differ from its hashed content (edited?)"
    return "it is not in canonical form (edited?)"


def _scan(task: _Task) -> _Result:
    """Check one piece of one lane. Runs in a worker process for big logs; it reads the
    database itself and returns only findings, counts and Merkle blocks."""
    postgres = connection.vendor == "postgresql"
    at_sql = (
        "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        if postgres
        else "CAST(occurred_at AS TEXT)"
    )
    query = (
        "SELECT id, seq, canonical, hash, prev_hash, kind, actor_id, person_id, procedure_id, "  # noqa: S608
        f"notification_id, {at_sql} FROM evidence_event "
        "WHERE lane = %s AND seq BETWEEN %s AND %s ORDER BY seq"
    )
    result = _Result(task.lane, task.first, last_seq=task.prev_seq, last_hash=task.prev_hash)
    lane = task.lane
    sha256 = hashlib.sha256
    parent = merkle.parent
    expected, prev = task.prev_seq + 1, task.prev_hash
    problems = result.problems
    tail = f',"v":{chain.FORMAT_VERSION}}}'
    count = 0
    first_at = last_at = ""  # canonical timestamps compare as text in time order
    # The checkpoint whose range (since, head_seq] the scan is in; entries come in seq order,
    # so it only ever moves forward. Its Merkle blocks are built inline (see AlignedBuilder).
    pending = list(task.seals)
    seal: _LaneSeal | None = None
    blocks: list[tuple[int, int, bytes]] = []
    position = 0

    def enter(seq: int) -> _LaneSeal | None:
        nonlocal blocks, position
        while pending and pending[0].head_seq < seq:
            pending.pop(0)
        if not pending or seq <= pending[0].since:
            return None
        found = pending[0]
        blocks = result.blocks.setdefault(found.number, [])
        position = found.base + seq - found.since - 1
        return found

    with connection.chunked_cursor() as cursor:
        cursor.execute(query, [lane, task.first, task.last])
        while rows := cursor.fetchmany(2000):
            for row in rows:
                (pk, seq, canonical, digest, prev_hash, kind, actor, person, procedure,
                 notification, at) = row  # fmt: skip
                count += 1
                if not postgres:  # SQLite keeps "YYYY-MM-DD HH:MM:SS[.ffffff]", in UTC
                    at = at.replace(" ", "T") + ("Z" if len(at) > 19 else ".000000Z")
                if at < last_at:
                    problems.append(
                        (lane, seq, f"entry {lane}:{seq} (id {pk})",
                         "its time is earlier than the entry before it (backdated?)")
                    )  # fmt: skip
                if not first_at:
                    first_at = at
                last_at = at
                if seq != expected:
                    problems.append(
                        (lane, seq, f"entry {lane}:{seq} (id {pk})",
                         f"entries {lane}:{expected} to {lane}:{seq - 1} are missing"
                         if seq > expected else "its sequence number repeats or goes back")
                    )  # fmt: skip
                    seal = enter(seq)
                raw = sha256(canonical.encode()).digest()
                actual = raw.hex()
                if actual != digest:
                    problems.append((lane, seq, f"entry {lane}:{seq} (id {pk})", EDITED))
                elif not (
                    prev_hash == prev
                    and canonical.startswith(
                        f'{{"actor":{"null" if actor is None else actor},"at":"{at}",'
                        '"attachments_sha256":'
                    )
                    and canonical.endswith(
                        f',"kind":"{kind}","lane":{lane},'
                        f'"notification":{"null" if notification is None else notification},'
                        f'"person":{"null" if person is None else person},"prev":"{prev}",'
                        f'"procedure":{"null" if procedure is None else procedure},"seq":{seq}'
                        + tail
                    )
                ):
                    why = _diagnose(canonical, row, lane, prev, at)
                    problems.append((lane, seq, f"entry {lane}:{seq} (id {pk})", why))
                if seal is None or seq > seal.head_seq:
                    seal = enter(seq) if pending else None
                if seal is not None:
                    if at > seal.at:
                        problems.append(
                            (lane, seq, f"entry {lane}:{seq} (id {pk})",
                             f"it is dated after checkpoint #{seal.number}, which seals it")
                        )  # fmt: skip
                    # AlignedBuilder.add_leaf, inlined: this runs once per sealed entry.
                    at_position, size, subtree = position, 1, raw
                    while blocks and blocks[-1][1] == size and blocks[-1][0] % (2 * size) == 0:
                        left_position, _size, left = blocks.pop()
                        at_position, size, subtree = left_position, size * 2, parent(left, subtree)
                    blocks.append((at_position, size, subtree))
                    position += 1
                    if seq == seal.head_seq:
                        if actual == seal.head_hash:
                            result.heads_seen.append(seal.number)
                        else:
                            problems.append(
                                (lane, seq, f"entry {lane}:{seq} (id {pk})",
                                 f"checkpoint #{seal.number} sealed another entry here")
                            )  # fmt: skip
                expected, prev = seq + 1, actual
    result.count = count
    result.last_seq, result.last_hash = expected - 1, prev
    result.first_at, result.last_at = first_at, last_at
    return result


def _run(tasks: list[_Task], workers: int) -> Iterator[_Result]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(_scan, tasks)
        return
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each worker opens its own connection
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        yield from pool.imap_unordered(_scan, tasks)


def _check_entries(
    report: Report,
    seals: list[_Seal],
    progress: Callable[[int], None] | None,
    workers: int,
    chunk: int,
) -> None:
    heads = {h.lane: h for h in ChainHead.objects.filter(seq__gt=0)}
    tasks = _tasks(seals, chunk, heads)
    results = sorted(_run(tasks, workers), key=lambda r: (r.lane, r.first))
    by_number = {seal.number: seal for seal in seals}
    problems: list[tuple[int, int, str, str]] = []
    last_of_lane: dict[int, tuple[int, str, str]] = {}
    for result in results:
        report.entries += result.count
        problems.extend(result.problems)
        earlier = last_of_lane.get(result.lane)
        if earlier is not None and result.first_at and result.first_at < earlier[2]:
            problems.append(
                (result.lane, result.first, f"entry {result.lane}:{result.first}",
                 "its time is earlier than the entry before it (backdated?)")
            )  # fmt: skip
        last_of_lane[result.lane] = (result.last_seq, result.last_hash, result.last_at)
        for number, blocks in result.blocks.items():
            by_number[number].blocks.extend(blocks)
        for number in result.heads_seen:
            by_number[number].heads_seen.add(result.lane)
        if progress is not None:
            progress(result.count)
    report.lanes = len(heads)
    for _lane, _seq, where, message in sorted(problems, key=lambda p: (p[0], p[1])):
        report.add(where, message)
    for lane, head in heads.items():
        last_seq, last_hash, _at = last_of_lane.get(lane, (0, chain.GENESIS, ""))
        if head.seq != last_seq or head.hash != last_hash:
            report.add(
                f"lane {lane}",
                f"the log ends at {lane}:{last_seq}, but the lane head says "
                f"{lane}:{head.seq} (entries removed from the end?)",
            )
    _strays(report)
    for seal in seals:
        where = f"checkpoint #{seal.number}"
        covered, root = merkle.root_from_blocks(seal.blocks)
        claimed = seal.body.get("entries")
        report.sealed += covered
        if covered != claimed:
            report.add(where, f"it sealed {claimed} entries; {covered} are there")
        elif root != seal.body.get("merkle_root"):
            report.add(where, "the entries it sealed have changed (Merkle root differs)")
        missing = set(seal.bases) - seal.heads_seen
        if missing:
            report.add(where, f"the entries it sealed last on lanes {sorted(missing)} are gone")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _value in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key appears twice")
    return dict(pairs)


def _strict(text: str) -> dict[str, Any] | None:
    try:
        body = json.loads(text, object_pairs_hook=_no_repeats)
    except ValueError:
        return None
    return body if isinstance(body, dict) and chain.dumps(body) == text else None


@dataclass
class _Recorded:
    """What a notification's row must say, replayed from the entries about it, oldest first.
    None where the log does not say (entries written before it recorded that value)."""

    effective: str | None = None
    deadline: str | None = None
    rule: str | None = ""
    state: str | None = "deposited"
    expired: bool | None = False


def replay(entries: list[dict[str, Any]]) -> _Recorded:
    """The legal dates, the rule that gave the effect, the state and whether the deadline is
    recorded as expired, as the log last recorded them; the same transitions as
    mailboxes.actions (deposit, open, effect, expiry, recalculation), and an answer that undid
    an expiry recorded after it arrived."""
    r = _Recorded()
    for entry in entries:
        data, kind = entry["data"], entry["kind"]
        if kind == EventKind.NOTIFICATION_OPENED:
            if r.state == "deposited":
                r.state = "opened"
        elif kind in (EventKind.NOTIFICATION_EFFECTIVE, EventKind.NOTIFICATION_DEEMED_REJECTED):
            r.effective, r.deadline = data.get("effective_date"), data.get("deadline_date")
            r.rule = data.get("rule")
            if kind == EventKind.NOTIFICATION_DEEMED_REJECTED:
                r.state = "rejected"
            elif data.get("deemed") and r.state == "deposited":
                r.state = "deemed"
        elif kind == EventKind.DEADLINE_EXPIRED:
            r.expired = True
        elif kind == EventKind.NOTIFICATION_ANSWERED and "deadline_expired" in data:
            # An answer that arrived on the deadline day while the expiry was being recorded
            # undoes it (corrections.actions.file_answer()).
            change = data["deadline_expired"]
            r.expired = change[1] is True if isinstance(change, list) and len(change) == 2 else None
        elif kind == EventKind.DATES_RECALCULATED:
            r.effective = _after(data.get("effective_date"))
            r.deadline = _after(data.get("deadline_date"))
            r.rule = (_after(data["rule"]) or "") if "rule" in data else None
            if r.effective is None and r.state == "deemed":
                r.state = "deposited"  # deemed on a day later decreed non-working
            change = data.get("deadline_expired")
            r.expired = change[1] is True if isinstance(change, list) and len(change) == 2 else None
    return r


def _after(change: Any) -> str | None:
    value = change[1] if isinstance(change, list) and len(change) == 2 else None
    return None if value in (None, "None") else str(value)


def _newest_checkpoint() -> int:
    return Checkpoint.objects.order_by("-number").values_list("number", flat=True).first() or 0


def _check_notification(
    report: Report, notification: Any, entries: list[dict[str, Any]], files: bool
) -> None:
    """One notification's rows against the entries about it: content, attachments, the acuse,
    the legal dates and the certificates issued, so that no edited row can reach a
    certificate or the public page."""
    from mailboxes.actions import content_sha256
    from mailboxes.content import render_markdown

    where = f"notification {notification.public_id}"
    if content_sha256(notification) != notification.content_sha256:
        report.add(where, "its content differs from the hash recorded at deposit (edited?)")
    deposits = [e for e in entries if e["kind"] == EventKind.NOTIFICATION_DEPOSITED]
    if len(deposits) != 1:
        report.add(where, "it has no deposit entry in the log")
        return
    deposit = deposits[0]
    if deposit["content_sha256"] != notification.content_sha256:
        report.add(where, "its content hash differs from the one in its deposit entry")
    recorded_at = deposit["data"].get("deposited_at")
    if recorded_at is not None and recorded_at != chain.timestamp(notification.deposited_at):
        report.add(where, "its deposit time differs from the one in its deposit entry")
    if deposit["data"].get("policy", notification.policy) != notification.policy:
        report.add(where, "its notification policy differs from the one in its deposit entry")
    if render_markdown(notification.body_markdown) != notification.body_html:
        # What the person reads is stored rendered; it must be the rendering of the hashed
        # Markdown (a new version of the Markdown libraries that renders differently shows
        # here too: re-render, and record why).
        report.add(where, "the text it shows differs from its recorded content (edited?)")
    last = replay(entries)
    row_effective = notification.effective_date.isoformat() if notification.effective_date else None
    row_deadline = notification.deadline_date.isoformat() if notification.deadline_date else None
    if (row_effective, row_deadline) != (last.effective, last.deadline):
        report.add(where, "its effective date or deadline differs from the last ones recorded")
    if last.rule is not None and notification.effect_rule != last.rule:
        report.add(where, "the rule that gave its effect differs from the one recorded")
    if last.state != notification.state:
        report.add(where, f"its state ({notification.state}) differs from the recorded one")
    if last.expired is not None and last.expired != bool(notification.deadline_expired_at):
        report.add(where, "whether its deadline expired differs from what the log records")
    opened = [e for e in entries if e["kind"] == EventKind.NOTIFICATION_OPENED]
    opening = getattr(notification, "opening", None)
    if (opening.opened_at if opening else None) != notification.opened_at:
        report.add(where, "its opening time differs from its acuse")
    if opening is None and opened:
        report.add(where, "the log records an acuse that its row does not have")
    elif opening is not None:
        recorded = opened[0]["data"] if len(opened) == 1 else None
        row = {
            "ip": opening.ip_address,
            "user_agent": opening.user_agent,
            "opened_at": chain.timestamp(opening.opened_at),
        }
        if recorded is None or any(
            key in recorded and recorded[key] != value for key, value in row.items()
        ):
            report.add(where, "its acuse (time, IP or browser) differs from the one recorded")
    issued = {
        e["data"].get("code"): e["data"]
        for e in entries
        if e["kind"] == EventKind.CERTIFICATE_ISSUED
    }
    newest = _newest_checkpoint()
    for entry in entries:
        mentioned = (
            entry["data"].get("checkpoint") if entry["kind"] == "certificate_issued" else None
        )
        if isinstance(mentioned, int) and mentioned > newest:
            report.add(where, f"a certificate cites checkpoint #{mentioned}, which is missing")
    rows = {certificate.code: certificate for certificate in notification.certificates.all()}
    for code, certificate in rows.items():
        data = issued.get(code, {})
        if data.get("sha256") != certificate.sha256:
            report.add(
                f"certificate {code[:4]}…",
                "its registered PDF hash differs from the one recorded when it was issued",
            )
        elif data.get("issued_at", chain.timestamp(certificate.issued_at)) != chain.timestamp(
            certificate.issued_at
        ):
            report.add(f"certificate {code[:4]}…", "its issue time differs from the recorded one")
    for code in issued.keys() - rows.keys():
        # The public page would answer that a genuine constancia does not exist.
        report.add(
            f"certificate {str(code)[:4]}…", "the log records it as issued, but it is missing"
        )
    recorded_files = deposit["attachments_sha256"] or []
    described = deposit["data"].get("attachments")
    stored, shown = [], []
    for attachment in sorted(notification.attachments.all(), key=lambda a: a.pk):
        report.attachments += 1
        stored.append(attachment.sha256)
        shown.append(
            {"name": attachment.original_name, "sha256": attachment.sha256, "size": attachment.size}
        )
        if not files:
            continue
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
    if stored != recorded_files or (described is not None and shown != described):
        report.add(where, "its attachments (names, sizes or hashes) differ from its deposit entry")


def _check_records(report: Report, *, files: bool) -> None:
    """Every notification against the log, a thousand at a time."""
    from mailboxes.models import Notification

    notifications = (
        Notification.objects.select_related("procedure", "person", "unit", "opening")
        .prefetch_related("attachments", "certificates")
        .order_by("pk")
    )
    batch: list[Any] = []

    def flush() -> None:
        entries: dict[int, list[dict[str, Any]]] = {}
        rows = (
            # In the order they were written: the entries about one notification are written
            # under its row lock, so the ids follow the order of its changes (clocks need not).
            Event.objects.filter(notification_id__in=[n.pk for n in batch])
            .order_by("id")
            .values_list("notification_id", "canonical", "lane", "seq", "id")
        )
        for nid, text, lane, seq, pk in rows:
            # What certificates print is read from these texts: each must have one spelling
            # (a repeated key would let a reader and a checker see different values).
            body = _strict(text)
            if body is None:
                report.add(f"entry {lane}:{seq} (id {pk})", "it is not in canonical form")
                continue
            entries.setdefault(nid, []).append(body)
        for notification in batch:
            report.notifications += 1
            _check_notification(report, notification, entries.get(notification.pk, []), files)
        batch.clear()

    for notification in notifications.iterator(chunk_size=1000):
        batch.append(notification)
        if len(batch) == 1000:
            flush()
    if batch:
        flush()


def _check_receipts(report: Report) -> None:
    """Every constancia de trámite against the entry recorded when it was issued: the public
    page answers for its code and PDF hash, so an edited row would pass a forged PDF off as
    authentic, and a deleted one would disown a genuine constancia."""
    from procedures.models import Receipt

    recorded: dict[str, dict[str, Any]] = {}
    for text in Event.objects.filter(kind=EventKind.RECEIPT_ISSUED).values_list(
        "canonical", flat=True
    ):
        body = _strict(text)
        if body is not None:  # one that is not was reported with the entries
            recorded[str(body["data"].get("code"))] = body["data"]
    rows = Receipt.objects.values_list("verification_code", "sha256", "size", "issued_at")
    for code, sha256, size, issued_at in rows.iterator(chunk_size=5000):
        data = recorded.pop(code, None)
        where = f"receipt {code[:4]}…"
        if data is None:
            report.add(where, "the log does not record it as issued (inserted?)")
        elif (data.get("sha256"), data.get("size"), data.get("issued_at")) != (
            sha256,
            size,
            chain.timestamp(issued_at),
        ):
            report.add(where, "its PDF hash, size or issue time differs from the recorded one")
    for code in recorded:
        report.add(f"receipt {code[:4]}…", "the log records it as issued, but it is missing")


PARALLEL_FROM = 200_000  # entries; below this, worker processes cost more than they save


def _check_published(report: Report, published: dict[int, str]) -> None:
    """Checkpoints known from outside the database (published, or printed on certificates
    people hold) must be there, unchanged: deleting the newest ones leaves no other trace."""
    found = dict(Checkpoint.objects.filter(number__in=published).values_list("number", "hash"))
    for number, statement_hash in sorted(published.items()):
        if number not in found:
            report.add(f"checkpoint #{number}", "it was published but is missing (deleted?)")
        elif found[number] != statement_hash:
            report.add(f"checkpoint #{number}", "it differs from the one published")


def verify(
    *,
    files: bool = True,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    chunk: int = 100_000,
    published: dict[int, str] | None = None,
) -> Report:
    """Check everything; `workers` processes share the log's pieces (default: one per CPU
    for a log of PARALLEL_FROM entries or more, else none). `published` maps checkpoint
    numbers to statement hashes known from outside the database."""
    report = Report()
    _check_published(report, published or {})
    seals = _check_checkpoints(report)
    if workers is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM evidence_event")
            (total,) = cursor.fetchone()
        workers = (os.cpu_count() or 1) if total >= PARALLEL_FROM else 1
    _check_entries(report, seals, progress, workers, chunk)
    _check_records(report, files=files)
    _check_receipts(report)
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
