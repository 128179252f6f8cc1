"""Evidence log figures: appends under the bulk deposit path, and verify_evidence at scale.

    python -m bench.evidence sqlite|postgres

1. Appends: deposit_many() of notifications with a 30 KB PDF; the evidence entries it appended
   per second of deposit_many (its real share of the work, events included), and record_many()
   alone, in batches of the same size.
2. Verification: a log of BENCH_EVIDENCE_ENTRIES entries (default 1,000,000) spread over the
   lanes as single-threaded appends spread them, sealed by a checkpoint every quarter;
   verify() over the chain and checkpoints (no attachment files here: those are hashed at disk
   speed and measured by their size), against the baseline of plain SHA-256 over the same
   canonical bytes, already in memory.
3. The least verification: what any check of the whole chain must do at the least, measured
   on the same log with as many processes as verify uses: read each entry's canonical bytes and
   stored hash, hash the bytes, compare, and rebuild the Merkle tree over the hashes (the
   checkpoints seal Merkle roots). It leaves out everything else verify checks (links, sequence,
   times, mirrored columns, checkpoint heads and signatures), so the gap between its ratio and
   verify's is what those checks cost, and its own ratio is about the most a verifier written
   in Python can reach on this machine.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from typing import Any

from bench.deposit import child_main, run_child

ENTRIES = int(os.environ.get("BENCH_EVIDENCE_ENTRIES", "1000000"))
DEPOSITS = int(os.environ.get("BENCH_EVIDENCE_DEPOSITS", "2000"))
APPEND_BATCH = 200
FILL_BATCH = 10000
TARGET_RATIO = 0.5


def run_all() -> dict[str, Any]:
    return {database: run_child("bench.evidence", database) for database in ("sqlite", "postgres")}


def _appends() -> dict[str, Any]:
    from django.db import transaction

    from bench.deposit import PDF_PAD_KB
    from evidence.actions import EventSpec, record_many
    from evidence.models import Event, EventKind
    from mailboxes.actions import deposit_many
    from mailboxes.inputs import AttachmentInput
    from tests.factories import notification_input, pdf_bytes, register

    pdf = pdf_bytes(pad_kb=PDF_PAD_KB)
    procedure = register().procedure
    items = [
        notification_input(
            procedure.number,
            attachments=[AttachmentInput("resolucion.pdf", pdf)],
            idempotency_key=f"evidence-bench-{i:06d}",
        )
        for i in range(DEPOSITS)
    ]
    before = Event.objects.count()
    start = time.perf_counter()
    deposit_many(items, actor=None)
    elapsed = time.perf_counter() - start
    appended = Event.objects.count() - before

    specs = [EventSpec(EventKind.PASSWORD_CHANGED, None, data={"n": i}) for i in range(DEPOSITS)]
    start = time.perf_counter()
    for first in range(0, len(specs), APPEND_BATCH):
        with transaction.atomic():
            record_many(specs[first : first + APPEND_BATCH])
    alone = time.perf_counter() - start
    return {
        "deposits": DEPOSITS,
        "entries_appended": appended,
        "entries_per_second_in_deposit_many": round(appended / elapsed, 1),
        "record_many_entries_per_second": round(len(specs) / alone, 1),
        "batch": APPEND_BATCH,
    }


def _fill(total: int) -> float:
    from django.db import transaction

    from evidence.actions import EventSpec, record_many, seal
    from evidence.models import EventKind

    start = time.perf_counter()
    quarter = max(total // 4, 1)
    for first in range(0, total, FILL_BATCH):
        specs = [
            EventSpec(
                EventKind.NOTIFICATION_VIEWED,
                None,
                data={"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (Linux; Android 14)", "n": n},
                content_sha256=hashlib.sha256(str(n // 8).encode()).hexdigest(),
                attachments_sha256=[hashlib.sha256(str(n // 8 + 1).encode()).hexdigest()],
            )
            for n in range(first, min(first + FILL_BATCH, total))
        ]
        with transaction.atomic():
            record_many(specs)
        if (first + FILL_BATCH) % quarter < FILL_BATCH:
            seal()
    seal()
    return time.perf_counter() - start


LEAST_BLOCK = 2000  # entries per query of the least verification


def _least_scan(task: tuple[int, int, int]) -> int:
    """Read one lane's entries first..last, hash each, compare with the stored hashes, and
    rebuild their Merkle tree; returns how many did not match (none, on the benchmark's log).

    The entries come LEAST_BLOCK at a time as one text each, joined by the database (canonical
    JSON holds no raw newline), and the stored hashes as one string: the cheapest read found,
    a third faster than a row per entry. The database only joins; the hashing is done here."""
    from django.db import connection

    lane, first, last = task
    if connection.vendor == "postgresql":
        joined = "string_agg(canonical, E'\\n' ORDER BY seq), string_agg(hash, '' ORDER BY seq)"
        source = "evidence_event WHERE lane = %s AND seq BETWEEN %s AND %s"
    else:  # SQLite's group_concat keeps the order of an ordered subquery
        joined = "CAST(group_concat(canonical, char(10)) AS BLOB), group_concat(hash, '')"
        source = (
            "(SELECT canonical, hash FROM evidence_event "
            "WHERE lane = %s AND seq BETWEEN %s AND %s ORDER BY seq)"
        )
    query = f"SELECT {joined} FROM {source}"  # noqa: S608
    from evidence import merkle

    sha256 = hashlib.sha256
    mismatches, tree = 0, merkle.AlignedBuilder(0)  # as verify's workers build their pieces
    with connection.cursor() as cursor:
        for block in range(first, last + 1, LEAST_BLOCK):
            cursor.execute(query, [lane, block, min(block + LEAST_BLOCK - 1, last)])
            texts, stored = cursor.fetchone()
            if isinstance(texts, str):
                texts = texts.encode()
            digests = [sha256(text).digest() for text in texts.split(b"\n")]
            if b"".join(digests).hex() != stored:
                mismatches += 1
            for digest in digests:
                tree.add_leaf(digest)
    merkle.root_from_blocks(tree.blocks)
    return mismatches


def _least_verification(workers: int, chunk: int = 100_000) -> float:
    """Seconds for _least_scan over the whole log, in pieces shared by `workers` processes as
    verify shares them."""
    import multiprocessing

    from django.db import connections

    from evidence.models import ChainHead

    tasks = [
        (head.lane, first, min(first + chunk - 1, head.seq))
        for head in ChainHead.objects.filter(seq__gt=0).order_by("lane")
        for first in range(1, head.seq + 1, chunk)
    ]
    connections.close_all()  # each worker opens its own connection
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        mismatches = sum(pool.imap_unordered(_least_scan, tasks))
    seconds = time.perf_counter() - start
    if mismatches:
        raise SystemExit(f"{mismatches} blocks of benchmark entries do not match their hashes")
    return seconds


def _verification() -> dict[str, Any]:
    from django.db import connection

    from evidence.models import Checkpoint, Event
    from evidence.verify import verify

    fill_seconds = _fill(ENTRIES)
    assert Event.objects.count() >= ENTRIES

    # The baseline: the same canonical bytes, in memory, hashed one by one.
    with connection.cursor() as cursor:
        cursor.execute("SELECT canonical FROM evidence_event ORDER BY lane, seq")
        payloads = [text.encode() for (text,) in cursor.fetchall()]
    sha256 = hashlib.sha256
    start = time.perf_counter()
    for payload in payloads:
        sha256(payload).hexdigest()
    baseline = time.perf_counter() - start
    total_bytes = sum(len(p) for p in payloads)
    del payloads

    # Context: only reading the rows verify reads, in the same order, doing nothing with them.
    start = time.perf_counter()
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            "SELECT id, seq, canonical, hash, prev_hash, kind, actor_id, person_id, procedure_id, "
            "notification_id, occurred_at FROM evidence_event ORDER BY lane, seq"
        )
        while cursor.fetchmany(5000):
            pass
    read_seconds = time.perf_counter() - start

    start = time.perf_counter()
    report = verify(files=False)
    verify_seconds = time.perf_counter() - start
    workers = os.cpu_count() or 1  # as verify chooses for a log this size
    least_seconds = _least_verification(workers)
    if not report.ok:
        raise SystemExit(f"the benchmark log does not verify: {report.problems[:3]}")
    return {
        "entries": report.entries,
        "lanes": report.lanes,
        "checkpoints": Checkpoint.objects.count(),
        "canonical_bytes": total_bytes,
        "fill_seconds": round(fill_seconds, 1),
        "verify_seconds": round(verify_seconds, 2),
        "verify_entries_per_second": round(report.entries / verify_seconds),
        "baseline_sha256_seconds": round(baseline, 2),
        "baseline_entries_per_second": round(report.entries / baseline),
        "reading_the_rows_seconds": round(read_seconds, 2),
        "workers": workers,
        "ratio": round(baseline / verify_seconds, 3),
        "target_ratio": TARGET_RATIO,
        "least_verification": {
            "what": "read each entry's bytes and stored hash, hash, compare, rebuild the Merkle "
            "tree; nothing else, with the same processes",
            "seconds": round(least_seconds, 2),
            "ratio": round(baseline / least_seconds, 3),
        },
    }


def measure(database: str) -> dict[str, Any]:
    return {"appends": _appends(), "verification": _verification()}


if __name__ == "__main__":
    sys.exit(child_main(["bench.evidence", *sys.argv[1:]], measure))
