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

- HTTP, in both encodings the endpoint takes, as separate sides of the same rounds: multipart
  (the items as JSON in a `notifications` field, each PDF as a file part, encoded by httpx), the
  headline figure since docs/api.md recommends it for large batches; and JSON (each PDF
  base64-encoded, then the JSON encoding of the batch), reported beside it. Each is what an
  outside program pays: the clock runs from building the request body, done per request as a
  client would, to the parsed answer, whose counts are checked: every item must come back
  `created`.
- direct: `deposit_many(items, actor=None, client=client)` with the same items (the same
  30 KB PDF, kind, subject and body, and `idempotency_key=f"api:{client.pk}:{reference}"` as
  the endpoint builds it), called once per request's worth of items, so both sides go through
  deposit_many in the same batches.

Each side deposits fresh references. Rounds alternate between the sides (the order swaps every
round, so neither always writes right after the other, e.g. after a WAL checkpoint), so that
machine noise hits both alike; the median round of each side is reported.

Items per request: 200 (BENCH_API_ITEMS_PER_REQUEST). That is deposit_many's own transaction
batch, so one request is one transaction and neither side splits differently; it is ~8.6 MB of
JSON (~6.5 MB as multipart) with 30 KB PDFs, so the per-request costs (authentication, the
rate-limit bucket, the idempotency record, the batch's lookups) are spread over 200 items,
while a request stays under a second and a retry resends 200 items, not 1000 (a 1000-item
request is ~43 MB of JSON, held in memory several times over while it is parsed). The rest of
the HTTP path's cost goes with the bytes (base64 and JSON on both ends, or the multipart parts;
reading the body; its SHA-256), so 50 or 1000 items per request give about the same ratio.
The server keeps its own BUZON_API_MAX_BODY_BYTES (64 MiB by default); the bench raises it only
if a request would not fit.

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
from tests.sockets import free_port

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
# Both encodings the endpoint takes are measured; the headline figure is the one docs/api.md
# recommends for large batches.
ENCODINGS = ("multipart", "json")
HEADLINE = "multipart"
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
    from mailboxes.models import IssuingUnit, Notification
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
    client.units.set(IssuingUnit.objects.all())
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

    def json_request(http: httpx.Client, references: list[str]) -> httpx.Request:
        """JSON: each PDF base64-encoded, then the JSON encoding of the whole batch."""
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
        body = json.dumps({"notifications": items}, separators=(",", ":")).encode()
        return http.build_request(
            "POST", PATH, content=body, headers={"Content-Type": "application/json"}
        )

    def multipart_request(http: httpx.Client, references: list[str]) -> httpx.Request:
        """multipart: the items as JSON in `notifications`, each PDF as the file part
        `attachments.<index>`, encoded by httpx as any client library would."""
        items = [{"reference": reference, **fields} for reference in references]
        request = http.build_request(
            "POST",
            PATH,
            data={"notifications": json.dumps({"notifications": items}, separators=(",", ":"))},
            files=[
                (f"attachments.{index}", ("resolucion.pdf", pdf, "application/pdf"))
                for index in range(len(references))
            ],
        )
        request.read()  # the whole body, now: its encoding is the client's cost
        return request

    builders = {"multipart": multipart_request, "json": json_request}

    def chunks(prefix: str, count: int, size: int) -> list[list[str]]:
        references = [f"{prefix}-{i:06d}" for i in range(count)]
        return [references[first : first + size] for first in range(0, count, size)]

    # Per request of each encoding's measured side: the client's encoding and the request
    # itself; and per deposit_many call of the direct side (the same items as one request).
    encode_seconds: dict[str, list[float]] = {encoding: [] for encoding in ENCODINGS}
    request_seconds: dict[str, list[float]] = {encoding: [] for encoding in ENCODINGS}
    call_seconds: list[float] = []

    def post(http: httpx.Client, encoding: str, references: list[str], timed: bool = False) -> None:
        start = time.perf_counter()
        request = builders[encoding](http, references)
        request.headers["Idempotency-Key"] = str(uuid.uuid4())
        encoded = time.perf_counter()
        response = http.send(request)
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
            encode_seconds[encoding].append(encoded - start)
            request_seconds[encoding].append(done - encoded)

    def http_side(
        http: httpx.Client,
        encoding: str,
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
                post(http, encoding, references, timed)
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                for future in [pool.submit(post, http, encoding, r, timed) for r in requests]:
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

    sample = [f"size-{i:06d}" for i in range(ITEMS_PER_REQUEST)]
    with httpx.Client(base_url="http://sizing.invalid") as offline:  # builds, never sends
        body_bytes = {
            encoding: len(build(offline, sample).read()) for encoding, build in builders.items()
        }
    # The server keeps its own limit (the production default) unless a request would pass it.
    max_body_bytes = settings.BUZON_API_MAX_BODY_BYTES
    if max(body_bytes.values()) > max_body_bytes:
        max_body_bytes = 2 * max(body_bytes.values())
        os.environ["BUZON_API_MAX_BODY_BYTES"] = str(max_body_bytes)
    per_round = NOTIFICATIONS // ROUNDS // ITEMS_PER_REQUEST * ITEMS_PER_REQUEST
    workers = int(WORKERS)
    sides = [*ENCODINGS, "direct"] + (["extra"] if EXTRA_CONCURRENCY > 1 else [])
    rates: dict[str, list[float]] = {side: [] for side in sides}
    # Each encoding's rounds less the client's encoding: the server path alone.
    unencoded_rates: dict[str, list[float]] = {encoding: [] for encoding in ENCODINGS}
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
            # two requests each in each encoding, and the direct path, with references of
            # their own.
            for encoding in ENCODINGS:
                warm = 2 * workers * WARM_UP_ITEMS
                http_side(http, encoding, f"warm-{encoding}", warm, workers, WARM_UP_ITEMS)
            direct_side("warm-direct", WARM_UP_ITEMS)
            for timings in (*encode_seconds.values(), *request_seconds.values(), call_seconds):
                timings.clear()

            for round_no in range(ROUNDS):
                write_micros.append(_file_write_micros(pdf, var_dir))
                order = sides if round_no % 2 == 0 else list(reversed(sides))
                for side in order:
                    prefix = f"{side}-r{round_no}"
                    if side == "direct":
                        seconds = direct_side(prefix, per_round)
                    elif side == "extra":
                        seconds = http_side(http, HEADLINE, prefix, per_round, EXTRA_CONCURRENCY)
                    else:
                        encoded_before = len(encode_seconds[side])
                        seconds = http_side(http, side, prefix, per_round, CONCURRENCY, timed=True)
                        if CONCURRENCY == 1:
                            encoding_time = sum(encode_seconds[side][encoded_before:])
                            unencoded_rates[side].append(per_round / (seconds - encoding_time))
                    rates[side].append(per_round / seconds)
        except BaseException:
            print(f"gunicorn log (tail):\n{server.log_tail()}", file=sys.stderr)
            raise

    warm_up = (len(ENCODINGS) * 2 * workers + 1) * WARM_UP_ITEMS
    expected = warm_up + len(sides) * ROUNDS * per_round
    stored = Notification.objects.filter(api_client=client).count()
    if stored != expected:
        raise SystemExit(f"stored {stored} notifications for the client, not {expected}")

    direct_rate = statistics.median(rates["direct"])

    def figures(encoding: str) -> dict[str, Any]:
        rate = statistics.median(rates[encoding])
        # Each HTTP round over the direct round run next to it: less sensitive to bursts.
        round_ratios = [h / d for h, d in zip(rates[encoding], rates["direct"], strict=True)]
        unencoded = unencoded_rates[encoding]
        return {
            "request_body_bytes": body_bytes[encoding],
            "http_per_second": round(rate, 1),
            "ratio": round(rate / direct_rate, 3),
            "median_round_ratio": round(statistics.median(round_ratios), 3),
            # Information: the ratio if the client's encoding cost nothing (measured only with
            # one request in flight, where the encoding is apart from the requests' time).
            "ratio_without_client_encoding": (
                round(statistics.median(unencoded) / direct_rate, 3) if unencoded else None
            ),
            # Medians over the measured rounds, per request of ITEMS_PER_REQUEST items: where
            # the time goes (encoding, then the request until its answer is parsed).
            "per_request_ms": {
                "client_encode": round(statistics.median(encode_seconds[encoding]) * 1000, 1),
                "request": round(statistics.median(request_seconds[encoding]) * 1000, 1),
            },
        }

    by_encoding = {encoding: figures(encoding) for encoding in ENCODINGS}
    headline = by_encoding[HEADLINE]
    result: dict[str, Any] = {
        "what": f"POST {PATH} over HTTP to gunicorn vs deposit_many() called directly",
        "notifications_per_side": per_round * ROUNDS,
        "rounds": ROUNDS,
        "items_per_request": ITEMS_PER_REQUEST,
        "requests_per_round": per_round // ITEMS_PER_REQUEST,
        "concurrency": CONCURRENCY,
        "pdf_bytes": len(pdf),
        "server": {
            "gunicorn_workers": workers,
            "gunicorn_threads": int(THREADS),
            "max_body_bytes": max_body_bytes,
        },
        "encoding": HEADLINE,
        "http_per_second": headline["http_per_second"],
        "direct_per_second": round(direct_rate, 1),
        "ratio": headline["ratio"],
        "target_ratio": TARGET_RATIO,
        "meets_target": headline["ratio"] >= TARGET_RATIO,
        "direct_deposit_many_call_ms": round(statistics.median(call_seconds) * 1000, 1),
        "encodings": by_encoding,
        # The disk's mood (as in bench.deposit): deposit_many writes a file per notification,
        # the HTTP path adds only CPU work, so a slow disk raises the ratio and a fast one
        # lowers it.
        "file_write_microseconds": round(statistics.median(write_micros), 1),
        "all_rounds": {f"{side}_per_second": [round(r, 1) for r in rates[side]] for side in sides},
    }
    if "extra" in rates:
        extra_rate = statistics.median(rates["extra"])
        result["extra_concurrency"] = {
            "what": "information only: more requests in flight than the direct path's one "
            f"caller ({HEADLINE})",
            "concurrency": EXTRA_CONCURRENCY,
            "http_per_second": round(extra_rate, 1),
            "ratio_to_direct": round(extra_rate / direct_rate, 3),
        }
    return result


if __name__ == "__main__":
    sys.exit(child_main(["bench.api", *sys.argv[1:]], measure))
