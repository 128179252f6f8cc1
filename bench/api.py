"""Issue 7: `POST /api/v1/notifications/batch` over HTTP against `deposit_many()` called directly.

Each database runs in a process of its own, like bench.deposit:

    python -m bench.api sqlite      # a fresh SQLite file under a temporary BUZON_VAR_DIR
    python -m bench.api postgres    # the database `buzon_bench`, dropped and re-created

Each prints one JSON object as the last line of stdout; `run_all()` launches both and returns
{"sqlite": {...}, "postgres": {...}}.

The production server is started by the bench as buzon/serve.py starts it (gunicorn,
`buzon.wsgi:application`, WEB_CONCURRENCY workers and WEB_THREADS threads, 2 and 4 by
default, the access log on), on a free loopback port, against the same database and var dir
as the direct path and with the same settings (BUZON_ENV=development, no debug). It is stopped
at the end, also on error. Both paths deposit for a live ApiClient (the HTTP side with a real
key of it), so both write the same rows: the notification, its attachment (the PDF written to
disk with its SHA-256), its evidence entries, and the client's webhook outbox entries; the
benchmark person has no verified contact, so neither writes alert rows.

What is compared, in notifications per second:

- HTTP: what an outside program pays. The clock runs from building the request bodies (the
  base64 of each PDF and the JSON encoding, done per request as a client would) to the parsed
  answer, whose counts are checked: every item must come back `created`.
- direct: `deposit_many(items, actor=None, client=client)` with the same items (the same
  30 KB PDF, kind, subject and body, and `idempotency_key=f"api:{client.pk}:{reference}"` as
  the endpoint builds it), called once per request's worth of items, so both sides go through
  deposit_many in the same batches.

Each side deposits fresh references. Rounds alternate between the sides (the order swaps every
round, so neither always writes right after the other, e.g. after a WAL checkpoint), so that
machine noise hits both alike; the median round of each side is reported.

Items per request: 200 (BENCH_API_ITEMS_PER_REQUEST). That is deposit_many's own transaction
batch, so one request is one transaction and neither side splits differently; it is ~8.6 MB of
JSON with 30 KB PDFs, so the per-request costs (authentication, the rate-limit bucket, the
idempotency record, the batch's lookups) are spread over 200 items, while a request stays
under a second and a retry resends 200 items, not 1000 (a 1000-item request is ~43 MB of JSON,
held in memory several times over while it is parsed). The rest of the HTTP path's cost goes
with the bytes (base64 and JSON on both ends, reading the body, its SHA-256), so 50 or 1000
items per request give about the same ratio. The server keeps its own BUZON_API_MAX_BODY_BYTES
(64 MiB by default); the bench raises it only if a request would not fit.

Concurrency: 1 request in flight for the headline figure (BENCH_API_CONCURRENCY). The direct
path is one caller in one process, so one request at a time compares the cost per notification
of the two paths at the same parallelism; with more requests in flight the server's workers
would use CPUs the direct path leaves idle (and overlap the client's encoding with the
server's work), and the ratio would stop measuring the HTTP path's overhead. What a client
gains by keeping BENCH_API_EXTRA_CONCURRENCY (default 2; 0 turns it off) requests in flight is
measured as a third side in the same rounds and reported apart, as information only.

Sizes: BENCH_API_NOTIFICATIONS (3000) per side and database, in BENCH_API_ROUNDS (5) rounds.
Besides the rates and their ratio, the result has, to read them: the median ratio of each HTTP
round to the direct round next to it; the ratio without the client's encoding; the median
milliseconds per request of the encoding, of the request itself and of one deposit_many call
with the same items; and the disk's speed for one file write (as bench.deposit reports it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.deposit import (
    DATABASES,
    PDF_PAD_KB,
    PDF_SIZE_RANGE,
    ROOT,
    _file_write_micros,
    child_main,
    run_child,
)
from bench.intake import free_port

if TYPE_CHECKING:
    import httpx

    from mailboxes.inputs import NotificationInput

NOTIFICATIONS = int(os.environ.get("BENCH_API_NOTIFICATIONS", "3000"))  # per side, per database
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "5"))
ITEMS_PER_REQUEST = int(os.environ.get("BENCH_API_ITEMS_PER_REQUEST", "200"))
CONCURRENCY = int(os.environ.get("BENCH_API_CONCURRENCY", "1"))
EXTRA_CONCURRENCY = int(os.environ.get("BENCH_API_EXTRA_CONCURRENCY", "2"))
# As buzon/serve.py: WEB_CONCURRENCY workers, WEB_THREADS threads each.
WORKERS = os.environ.get("WEB_CONCURRENCY", "2")
THREADS = os.environ.get("WEB_THREADS", "4")
WARM_UP_ITEMS = 20  # per warm-up request; two requests per worker
TARGET_RATIO = 0.7
HOST = "127.0.0.1"
PATH = "/api/v1/notifications/batch"
SCOPES = ["notifications:write", "notifications:read"]
START_TIMEOUT = 60.0  # seconds for gunicorn to answer
REQUEST_TIMEOUT = 300.0


def run_all() -> dict[str, Any]:
    return {database: run_child("bench.api", database) for database in DATABASES}


# --- The server -------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the gunicorn master (it stops its workers), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def production_server(var_dir: Path, key: str) -> Iterator[Server]:
    """gunicorn as buzon/serve.py starts it, with this process's settings (database, var dir,
    BUZON_ENV), until it answers an authenticated GET /api/v1/me; stopped on leaving."""
    import httpx

    port = free_port()
    env = os.environ.copy()
    log_path = var_dir / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (fixed argv: this interpreter and gunicorn)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "buzon.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                WORKERS,
                "--threads",
                THREADS,
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://{HOST}:{port}", process, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        headers = {"Authorization": f"Bearer {key}"}
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {process.returncode}:\n{server.log_tail()}"
                )
            try:
                answer = httpx.get(f"{server.base_url}/api/v1/me", headers=headers, timeout=5)
            except httpx.TransportError:
                answer = None
            if answer is not None:
                if answer.status_code != 200:
                    raise RuntimeError(
                        f"GET /api/v1/me answered {answer.status_code}: {answer.text[:500]}"
                    )
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in {START_TIMEOUT:.0f} s")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


# --- The measurement --------------------------------------------------------------------------


def measure(database: str) -> dict[str, Any]:
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    from django.conf import settings
    from django.core.management import call_command

    from api.keys import create_key
    from api.models import ApiClient
    from mailboxes.actions import deposit_many
    from mailboxes.inputs import AttachmentInput
    from mailboxes.models import Notification
    from tests.factories import notification_input, pdf_bytes, register

    if NOTIFICATIONS < ROUNDS * ITEMS_PER_REQUEST:
        raise SystemExit(
            f"BENCH_API_NOTIFICATIONS={NOTIFICATIONS} is less than one request of "
            f"{ITEMS_PER_REQUEST} per round ({ROUNDS} rounds)"
        )
    call_command("createcachetable", verbosity=0)  # the rate limit's bucket lives there
    pdf = pdf_bytes(pad_kb=PDF_PAD_KB)
    if not PDF_SIZE_RANGE[0] <= len(pdf) <= PDF_SIZE_RANGE[1]:
        raise SystemExit(f"the padded PDF is {len(pdf)} bytes, not about {PDF_PAD_KB} KB")
    procedure = register().procedure
    client = ApiClient.objects.create(name="bench", is_test=False)
    _key, plaintext = create_key(client, "bench", SCOPES, actor=None)
    template = notification_input(
        procedure.number, attachments=[AttachmentInput("resolucion.pdf", pdf)]
    )
    # The item as the client sends it, but for its reference and its PDF's base64.
    fields = {
        "procedure_number": template.procedure_number,
        "unit": template.unit,
        "kind": template.kind,
        "subject": template.subject,
        "body": template.body,
        "response_business_days": template.response_business_days,
    }

    def request_body(references: list[str]) -> bytes:
        """What a client builds for one request: each PDF base64-encoded, then the JSON."""
        items = [
            {
                "reference": reference,
                **fields,
                "attachments": [
                    {"name": "resolucion.pdf", "content_base64": base64.b64encode(pdf).decode()}
                ],
            }
            for reference in references
        ]
        return json.dumps({"notifications": items}, separators=(",", ":")).encode()

    def chunks(prefix: str, count: int, size: int) -> list[list[str]]:
        references = [f"{prefix}-{i:06d}" for i in range(count)]
        return [references[first : first + size] for first in range(0, count, size)]

    # Per request of the headline side: the client's encoding and the request itself; and
    # per deposit_many call of the direct side (the same items as one request).
    encode_seconds: list[float] = []
    request_seconds: list[float] = []
    call_seconds: list[float] = []

    def post(http: httpx.Client, references: list[str], timed: bool = False) -> None:
        start = time.perf_counter()
        body = request_body(references)
        encoded = time.perf_counter()
        response = http.post(
            PATH,
            content=body,
            headers={"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise SystemExit(f"POST {PATH} answered {response.status_code}: {response.text[:1000]}")
        answer = response.json()
        done = time.perf_counter()
        refused = [r for r in answer["results"] if r["status"] != "created"][:3]
        if answer["created"] != len(references) or refused:
            raise SystemExit(
                f"POST {PATH} created {answer['created']} of {len(references)}: {refused}"
            )
        if timed:
            encode_seconds.append(encoded - start)
            request_seconds.append(done - encoded)

    def http_side(
        http: httpx.Client,
        prefix: str,
        count: int,
        concurrency: int,
        size: int = ITEMS_PER_REQUEST,
        timed: bool = False,
    ) -> float:
        """Seconds to deposit `count` notifications, `size` per request, with `concurrency`
        requests in flight."""
        requests = chunks(prefix, count, size)
        start = time.perf_counter()
        if concurrency <= 1:
            for references in requests:
                post(http, references, timed)
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                for future in [pool.submit(post, http, r, timed) for r in requests]:
                    future.result()
        return time.perf_counter() - start

    def direct_side(prefix: str, count: int) -> float:
        """Seconds to deposit `count` notifications with deposit_many, a request's worth at a
        time (building the inputs is timed too, as the client's encoding is)."""
        start = time.perf_counter()
        for references in chunks(prefix, count, ITEMS_PER_REQUEST):
            call_start = time.perf_counter()
            items: list[NotificationInput] = [
                replace(template, idempotency_key=f"api:{client.pk}:{reference}")
                for reference in references
            ]
            results = deposit_many(items, actor=None, client=client)
            call_seconds.append(time.perf_counter() - call_start)
            created = sum(1 for r in results if r.created)
            if created != len(items):
                errors = [r.errors for r in results if r.errors][:3]
                raise SystemExit(f"deposit_many created {created} of {len(items)}: {errors}")
        return time.perf_counter() - start

    body_bytes = len(request_body([f"size-{i:06d}" for i in range(ITEMS_PER_REQUEST)]))
    # The server keeps its own limit (the production default) unless a request would pass it.
    max_body_bytes = settings.BUZON_API_MAX_BODY_BYTES
    if body_bytes > max_body_bytes:
        max_body_bytes = 2 * body_bytes
        os.environ["BUZON_API_MAX_BODY_BYTES"] = str(max_body_bytes)
    per_round = NOTIFICATIONS // ROUNDS // ITEMS_PER_REQUEST * ITEMS_PER_REQUEST
    workers = int(WORKERS)
    sides = ["http", "direct"] + (["http_extra"] if EXTRA_CONCURRENCY > 1 else [])
    rates: dict[str, list[float]] = {side: [] for side in sides}
    # The headline HTTP side's rounds less the client's encoding: the server path alone.
    unencoded_rates: list[float] = []
    write_micros: list[float] = []
    var_dir = Path(settings.VAR_DIR)
    with (
        production_server(var_dir, plaintext) as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {plaintext}"},
            timeout=REQUEST_TIMEOUT,
        ) as http,
    ):
        try:
            # Warm up every worker (imports, the URLconf, the PDF parser, connections) with
            # two requests each, and the direct path, with references of their own.
            http_side(http, "warm-http", 2 * workers * WARM_UP_ITEMS, workers, WARM_UP_ITEMS)
            direct_side("warm-direct", WARM_UP_ITEMS)
            encode_seconds.clear()
            request_seconds.clear()
            call_seconds.clear()

            for round_no in range(ROUNDS):
                write_micros.append(_file_write_micros(pdf, var_dir))
                order = sides if round_no % 2 == 0 else list(reversed(sides))
                for side in order:
                    prefix = f"{side}-r{round_no}"
                    if side == "direct":
                        seconds = direct_side(prefix, per_round)
                    elif side == "http":
                        encoded_before = len(encode_seconds)
                        seconds = http_side(http, prefix, per_round, CONCURRENCY, timed=True)
                        if CONCURRENCY == 1:
                            encoding = sum(encode_seconds[encoded_before:])
                            unencoded_rates.append(per_round / (seconds - encoding))
                    else:
                        seconds = http_side(http, prefix, per_round, EXTRA_CONCURRENCY)
                    rates[side].append(per_round / seconds)
        except BaseException:
            print(f"gunicorn log (tail):\n{server.log_tail()}", file=sys.stderr)
            raise

    expected = (2 * workers + 1) * WARM_UP_ITEMS + len(sides) * ROUNDS * per_round
    stored = Notification.objects.filter(api_client=client).count()
    if stored != expected:
        raise SystemExit(f"stored {stored} notifications for the client, not {expected}")

    http_rate = statistics.median(rates["http"])
    direct_rate = statistics.median(rates["direct"])
    ratio = http_rate / direct_rate
    # Each HTTP round over the direct round run next to it: less sensitive to bursts of load.
    round_ratios = [h / d for h, d in zip(rates["http"], rates["direct"], strict=True)]
    result: dict[str, Any] = {
        "what": f"POST {PATH} over HTTP to gunicorn vs deposit_many() called directly",
        "notifications_per_side": per_round * ROUNDS,
        "rounds": ROUNDS,
        "items_per_request": ITEMS_PER_REQUEST,
        "requests_per_round": per_round // ITEMS_PER_REQUEST,
        "concurrency": CONCURRENCY,
        "pdf_bytes": len(pdf),
        "request_body_bytes": body_bytes,
        "server": {
            "gunicorn_workers": workers,
            "gunicorn_threads": int(THREADS),
            "max_body_bytes": max_body_bytes,
        },
        "http_per_second": round(http_rate, 1),
        "direct_per_second": round(direct_rate, 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "median_round_ratio": round(statistics.median(round_ratios), 3),
        # Information: the ratio if the client's encoding cost nothing (measured only with one
        # request in flight, where the encoding is apart from the requests' time).
        "ratio_without_client_encoding": (
            round(statistics.median(unencoded_rates) / direct_rate, 3) if unencoded_rates else None
        ),
        # Medians over the measured rounds, per request of ITEMS_PER_REQUEST items: where the
        # HTTP side's time goes (encoding, then the request until its answer is parsed),
        # beside one deposit_many call with the same items.
        "per_request_ms": {
            "client_encode": round(statistics.median(encode_seconds) * 1000, 1),
            "request": round(statistics.median(request_seconds) * 1000, 1),
            "direct_deposit_many_call": round(statistics.median(call_seconds) * 1000, 1),
        },
        # The disk's mood (as in bench.deposit): deposit_many writes a file per notification,
        # the HTTP path adds only CPU work, so a slow disk raises the ratio and a fast one
        # lowers it.
        "file_write_microseconds": round(statistics.median(write_micros), 1),
        "all_rounds": {f"{side}_per_second": [round(r, 1) for r in rates[side]] for side in sides},
    }
    if "http_extra" in rates:
        extra_rate = statistics.median(rates["http_extra"])
        result["extra_concurrency"] = {
            "what": "information only: more requests in flight than the direct path's one caller",
            "concurrency": EXTRA_CONCURRENCY,
            "http_per_second": round(extra_rate, 1),
            "ratio_to_direct": round(extra_rate / direct_rate, 3),
        }
    return result


if __name__ == "__main__":
    sys.exit(child_main(["bench.api", *sys.argv[1:]], measure))
