"""Getting in without credentials: credential requests by email, and the Agencia Digital check.

Two figures, each beside its baseline from the same run, in alternating rounds so that machine
noise hits both alike (medians reported):

- smtp_intake: credential-request emails per second through the real receiver
  (agency.smtp.start) on loopback. One smtplib connection per round sends PER_ROUND distinct
  messages built like the seed's sample (a Message-ID and a document number of their own, so
  none merge); each one is stored, parsed, filed as a case with its evidence entry, and its
  acknowledgement queued. Baseline: the same bytes over the same kind of connection to an
  aiosmtpd Controller whose handler only answers "250 OK" (the SMTP floor).
- agency_verify: the processing time of the Agencia Digital's "Verificar" without the
  padding of its answer (agency.views.ANSWER_SECONDS): verify_identity() called directly for a
  full match (which also writes an evidence entry), an existing document with one wrong field
  (the filing date: the mismatch that does the most work), and an unknown document.
  Baseline: a trivial ORM query (Person by primary key). Calls are interleaved, the order
  rotating on each call, so the four see the same machine.

Nothing is mailed: the acknowledgements go to the database task backend, which only stores a
row (no worker runs here), and the mail backend is set to locmem all the same.

    python -m bench.intake sqlite

prints one JSON object as the last line of stdout; `run_all()` launches it and returns
{"sqlite": {...}}.
"""

from __future__ import annotations

import email.policy
import logging
import math
import os
import smtplib
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.deposit import child_main, run_child
from tests.sockets import free_port

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Envelope, Session

ROUNDS = int(os.environ.get("BENCH_INTAKE_ROUNDS", "5"))
PER_ROUND = int(os.environ.get("BENCH_INTAKE_PER_ROUND", "50"))
VERIFY_CALLS = int(os.environ.get("BENCH_INTAKE_VERIFY_CALLS", "200"))  # per case
WARM_UP = 10
HOST = "127.0.0.1"
MTA = "mx1.migraciones.gob.pe"  # the agency's mail server, as it greets the receiver
INFO = "informes@migraciones.gob.pe"
INTAKE = "solicitudes@buzon.migraciones.gob.pe"
SENDER = "mariafer.gonzalez88@gmail.com"
SUBJECT = "Solicitud de credenciales para acceder a mi buzón electrónico"
BODY = """Buenos días:

Solicitud de credenciales para acceder a mi buzón electrónico.

Nombres: María Fernanda
Apellidos: González Pérez
DNI/CE/CPP: CPP {document}
Fecha de nacimiento: 14/07/1991
Nacionalidad: Venezolana
Celular: 987 654 321

Gracias de antemano.

María Fernanda González
"""
IP = "190.234.10.5"


def run_all() -> dict[str, Any]:
    return {"sqlite": run_child("bench.intake", "sqlite")}


# --- smtp_intake ------------------------------------------------------------------------------


def document_number(serial: int) -> str:
    return f"{1_000_000 + serial:09d}"


def request_message(serial: int) -> bytes:
    """The seed's sample with a Message-ID and a document number of its own, as on the wire
    (CRLF endings and a final CRLF, like agency.tests.mail_samples.wire)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"María Fernanda González <{SENDER}>"
    message["To"] = INFO
    message["Subject"] = SUBJECT
    message["Date"] = "Mon, 3 Mar 2025 09:14:22 -0500"
    message["Message-ID"] = f"<bench-{serial:06d}.CAF7x2kP3n9QdWm@mail.gmail.com>"
    message.set_content(BODY.format(document=document_number(serial)), cte="8bit")
    data = message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class FloorHandler:
    """The SMTP floor: aiosmtpd reads the message, the handler only says so."""

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        return "250 OK"


def floor_controller() -> Controller:
    """Built like agency.smtp.start(), with the floor's handler."""
    from aiosmtpd.controller import Controller
    from django.conf import settings

    controller = Controller(
        FloorHandler(),
        hostname=HOST,
        port=free_port(HOST),
        server_hostname=socket.gethostname(),
        data_size_limit=settings.BUZON_SMTP_MAX_BYTES,
    )
    controller.start()
    return controller


def send_all(port: int, messages: list[bytes]) -> tuple[float, list[str]]:
    """One connection, as the agency's mail server makes it: seconds and the replies to DATA."""
    replies = []
    start = time.perf_counter()
    with smtplib.SMTP(HOST, port, timeout=60) as client:
        client.ehlo(MTA)
        for raw in messages:
            code, reply = client.mail(SENDER)
            if code != 250:
                raise SystemExit(f"MAIL FROM answered {code} {reply!r}")
            code, reply = client.rcpt(INTAKE)
            if code != 250:
                raise SystemExit(f"RCPT TO answered {code} {reply!r}")
            code, reply = client.data(raw)
            if code != 250:
                raise SystemExit(f"DATA answered {code} {reply!r}")
            replies.append(reply.decode())
    return time.perf_counter() - start, replies


def _check_sample() -> None:
    """The benchmark's message reads as a clean request (no review), with its own number."""
    from requests_mail.parser import parse

    parsed = parse(request_message(0))
    if parsed.reasons or not parsed.is_credential_request:
        raise SystemExit(f"the benchmark message needs review: {parsed.reasons}")
    if (parsed.document_type, parsed.document_number) != ("CPP", document_number(0)):
        raise SystemExit(f"the benchmark message reads as {parsed.document_number_raw!r}")
    if parsed.fingerprint == parse(request_message(1)).fingerprint:
        raise SystemExit("two benchmark messages have the same fingerprint: they would merge")


def _check_filed(expected: int, replies: list[str]) -> dict[str, int]:
    """Every message sent to the receiver is a case of its own, with everything it needs."""
    from django.core import mail
    from django.core.files.storage import default_storage
    from django_tasks_db.models import DBTaskResult

    from agency.models import CredentialRequest, InboundMessage
    from evidence.models import Event, EventKind

    cases = CredentialRequest.objects.filter(channel=CredentialRequest.Channel.EMAIL)
    found = {
        "replies_opening_a_case": sum(1 for r in replies if r.startswith("OK: case SC-")),
        "cases": cases.count(),
        "cases_received_without_review": cases.filter(
            status=CredentialRequest.Status.RECEIVED, ack_wanted=True
        ).count(),
        "merged_copies": InboundMessage.objects.count() - cases.count(),
        "inbound_messages": InboundMessage.objects.count(),
        "stored_eml_files": sum(1 for _ in Path(default_storage.path("correos")).rglob("*.eml")),
        "evidence_entries": Event.objects.filter(
            kind=EventKind.CREDENTIAL_REQUEST_RECEIVED
        ).count(),
        "acknowledgements_queued": DBTaskResult.objects.filter(
            task_path="agency.tasks.send_request_mail"
        ).count(),
        "mails_sent": len(getattr(mail, "outbox", [])),
    }
    wanted = {name: expected for name in found} | {"merged_copies": 0, "mails_sent": 0}
    if found != wanted:
        raise SystemExit(f"the receiver did not file every message as expected: {found}")
    return found


def measure_smtp() -> dict[str, Any]:
    from agency.smtp import start

    _check_sample()
    serials = iter(range(1_000_000))

    def batch(count: int) -> list[bytes]:
        return [request_message(next(serials)) for _ in range(count)]

    receiver = start(HOST, free_port(HOST))
    floor = floor_controller()
    replies: list[str] = []
    try:
        warm = batch(WARM_UP)
        send_all(floor.port, warm)
        replies += send_all(receiver.port, warm)[1]
        real_rates, floor_rates = [], []
        for round_no in range(ROUNDS):
            messages = batch(PER_ROUND)  # the same bytes to both, new ones each round
            # Alternate which goes first too, so neither always follows the other.
            for which in ("floor", "real") if round_no % 2 == 0 else ("real", "floor"):
                if which == "real":
                    seconds, answers = send_all(receiver.port, messages)
                    replies += answers
                    real_rates.append(PER_ROUND / seconds)
                else:
                    seconds, _answers = send_all(floor.port, messages)
                    floor_rates.append(PER_ROUND / seconds)
    finally:
        floor.stop()
        receiver.stop()
    filed = _check_filed(WARM_UP + ROUNDS * PER_ROUND, replies)
    real, raw = statistics.median(real_rates), statistics.median(floor_rates)
    return {
        "what": (
            "credential-request emails over SMTP on loopback, one connection per round: each "
            "stored, parsed, filed as a case with its evidence entry and acknowledgement queued"
        ),
        "rounds": ROUNDS,
        "per_round": PER_ROUND,
        "message_bytes": len(request_message(0)),
        "messages_per_second": round(real, 1),
        "floor_messages_per_second": round(raw, 1),
        "ratio": round(real / raw, 4),
        "milliseconds_per_message": round(1000 / real, 2),
        "floor_milliseconds_per_message": round(1000 / raw, 3),
        "filed": filed,
        "all_rounds": {
            "messages_per_second": [round(r, 1) for r in real_rates],
            "floor_messages_per_second": [round(r, 1) for r in floor_rates],
        },
    }


# --- agency_verify ----------------------------------------------------------------------------


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(samples_ns) / 1e6, 3),
        "p95_ms": round(cuts[94] / 1e6, 3),
        "p99_ms": round(cuts[98] / 1e6, 3),
        "max_ms": round(max(samples_ns) / 1e6, 3),
    }


def measure_verify() -> dict[str, Any]:
    from agency.actions import IdentityClaim, verify_identity
    from agency.models import IdentityCheck
    from agency.views import ANSWER_SECONDS
    from evidence.models import Event, EventKind
    from people.models import Person
    from tests.factories import register

    registration = register()
    procedure = registration.procedure
    person = procedure.person
    match = IdentityClaim(
        doc_type=person.doc_type,
        doc_number=person.doc_number,
        given_names="maria alejandra",  # as people type: no accents, any case
        first_surname="GONZALEZ",
        second_surname="Rivas",
        birth_date=person.birth_date,
        nationality=str(person.nationality),
        procedure_number=procedure.number,
        filing_date=procedure.filing_date,
    )
    wrong_field = replace(match, filing_date=procedure.filing_date - timedelta(days=1))
    unknown = replace(match, doc_number="987654321")
    if Person.objects.filter(doc_type=unknown.doc_type, doc_number=unknown.doc_number).exists():
        raise SystemExit("the unknown document of the benchmark belongs to someone")
    pk = person.pk

    def trivial() -> object:
        return Person.objects.filter(pk=pk).first()

    calls: dict[str, Callable[[], object]] = {
        "baseline_trivial_query": trivial,
        "match": lambda: verify_identity(match, ip_address=IP),
        "wrong_filing_date": lambda: verify_identity(wrong_field, ip_address=IP),
        "unknown_document": lambda: verify_identity(unknown, ip_address=IP),
    }
    expected: dict[str, int | None] = {
        "baseline_trivial_query": pk,
        "match": pk,
        "wrong_filing_date": None,
        "unknown_document": None,
    }
    for name, call in calls.items():  # right answers, and a warm-up
        for _ in range(WARM_UP):
            answer = call()
            got = getattr(answer, "pk", None)
            if got != expected[name]:
                raise SystemExit(f"{name}: verify_identity answered {answer!r}")
    checks_before = IdentityCheck.objects.count()
    verified_before = Event.objects.filter(kind=EventKind.IDENTITY_VERIFIED).count()

    names = list(calls)
    samples: dict[str, list[int]] = {name: [] for name in names}
    round_medians: dict[str, list[float]] = {name: [] for name in names}
    per_round = math.ceil(VERIFY_CALLS / ROUNDS)
    turn = 0
    for _round in range(ROUNDS):
        this_round: dict[str, list[int]] = {name: [] for name in names}
        for _ in range(per_round):
            turn += 1
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                call = calls[name]
                start = time.perf_counter_ns()
                call()
                this_round[name].append(time.perf_counter_ns() - start)
        for name in names:
            samples[name] += this_round[name]
            round_medians[name].append(round(statistics.median(this_round[name]) / 1e6, 3))
    made = per_round * ROUNDS
    checks = IdentityCheck.objects.count() - checks_before
    verified = Event.objects.filter(kind=EventKind.IDENTITY_VERIFIED).count() - verified_before
    if (checks, verified) != (3 * made, made):
        raise SystemExit(f"{checks} identity checks and {verified} evidence entries written")

    figures = {name: _percentiles(values) for name, values in samples.items()}
    cases = {name: figures[name] for name in names[1:]}
    padding_ms = ANSWER_SECONDS * 1000
    medians = [case["p50_ms"] for case in cases.values()]
    baseline = figures["baseline_trivial_query"]
    return {
        "what": (
            "verify_identity() called directly, without the padding of the answer: a full "
            "match (writes an evidence entry), one wrong field (the filing date), an unknown "
            "document"
        ),
        "rounds": ROUNDS,
        "calls_per_case": made,
        "cases": cases,
        "baseline_trivial_query": baseline,
        "padding_ms": padding_ms,
        "padding_covers_p99": all(case["p99_ms"] < padding_ms for case in cases.values()),
        "padding_over_worst_p99": round(padding_ms / max(c["p99_ms"] for c in cases.values()), 1),
        "median_spread_ms": round(max(medians) - min(medians), 3),
        "p50_over_baseline": {
            name: round(case["p50_ms"] / baseline["p50_ms"], 2) for name, case in cases.items()
        },
        "all_rounds_p50_ms": round_medians,
    }


def measure(database: str) -> dict[str, Any]:
    from django.conf import settings

    # Belt and braces: the database task backend only stores the acknowledgement's task (no
    # worker runs here), and were anything to send mail, it would go to memory.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    backend = settings.TASKS["default"]["BACKEND"]
    if backend != "django_tasks_db.DatabaseBackend":
        raise SystemExit(f"expected the database task backend, not {backend}")
    # One line per message filed, at INFO, would flood the benchmark's output.
    logging.getLogger("agency.smtp").setLevel(logging.WARNING)
    return {
        "database": database,
        "smtp_intake": measure_smtp(),
        "agency_verify": measure_verify(),
    }


if __name__ == "__main__":
    # No mail server and no Redis: the settings then pick the file mail backend and the
    # database task backend.
    for name in ("EMAIL_HOST", "REDIS_URL"):
        os.environ.pop(name, None)
    sys.exit(child_main(["bench.intake", *sys.argv[1:]], measure))
