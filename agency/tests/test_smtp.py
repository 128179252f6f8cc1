"""The SMTP receiver over real SMTP on loopback: what the sending MTA, the requester and the
officer notice.

The handler files each message in a worker thread with its own database connection, so the
tests that reach the database are transactional (they commit for real, and the tables are
flushed after each). They share one running receiver.
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import LazySettings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import OperationalError

import agency.actions
import agency.smtp
from agency.models import CredentialRequest, InboundMessage
from agency.smtp import serve_forever, start
from agency.tests.mail_samples import INTAKE, SAMPLES, Sample
from tests.sockets import free_port

Address = tuple[str, int]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Address]:
    controller = start("127.0.0.1", free_port())
    yield controller.hostname, controller.port
    controller.stop()


def send(address: Address, raw: bytes, mail_from: str, to: str = INTAKE) -> tuple[int, str]:
    """One SMTP transaction, as the agency's mail server makes it: the reply to the data."""
    with smtplib.SMTP(*address, timeout=60) as client:
        client.ehlo("mx1.migraciones.gob.pe")
        client.mail(mail_from)
        client.rcpt(to)
        code, reply = client.data(raw)
    return code, reply.decode()


def stored(message: InboundMessage) -> bytes:
    with message.raw.open("rb") as file:
        data: bytes = file.read()
    return data


def acknowledgements(case: CredentialRequest) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if case.number in m.subject]


def stored_files() -> list[Path]:
    """Every raw message in storage (a fresh folder for each test)."""
    return sorted(Path(default_storage.path("")).rglob("*.eml"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sample", list(SAMPLES.values()), ids=list(SAMPLES))
def test_every_message_becomes_one_case(
    receiver: Address, reference_data: None, sample: Sample
) -> None:
    code, reply = send(receiver, sample.raw, sample.mail_from)

    case = CredentialRequest.objects.get()
    assert (code, reply) == (250, f"OK: case {case.number}")
    assert case.number.startswith("SC-")
    assert case.channel == CredentialRequest.Channel.EMAIL
    # The message as it arrived, byte for byte, whatever could be read from it.
    message = case.inbound_messages.get()
    assert stored(message) == sample.raw
    # (A null sender, as a bounce has, is kept as "<>".)
    assert (message.size, message.mail_from) == (len(sample.raw), sample.mail_from or "<>")
    assert "127.0.0.1" in message.peer
    # The answer goes to the person who wrote, also when the information mailbox forwarded it.
    assert case.contact_email == sample.contact_email
    if sample.well_formed:
        assert (case.status, case.review_reasons) == (CredentialRequest.Status.RECEIVED, [])
        assert {key: getattr(case, key) for key in sample.expected} == sample.expected
        assert [a["content_type"] for a in case.attachments] == list(sample.attachments)
    else:
        assert case.status == CredentialRequest.Status.REVIEW
        assert case.review_reasons
    acks = acknowledgements(case)
    if sample.name == "spam":
        # Recognised as something else: filed, never answered (From is not authenticated, so
        # answering would send mail to any address a stranger chose).
        assert not case.ack_wanted
        assert acks == []
    elif sample.contact_email:
        [ack] = acks
        assert ack.to == [sample.contact_email]
        assert case.number in ack.body
        # The sender is not authenticated: the acknowledgement carries no personal data.
        for value in (case.doc_number, case.surnames, case.given_names):
            assert not value or value not in ack.body
        case.refresh_from_db()
        assert case.ack_sent_at is not None
    else:
        assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_same_message_twice_is_one_case_with_one_acknowledgement(
    receiver: Address, reference_data: None
) -> None:
    sample = SAMPLES["forwarded_inline"]

    first = send(receiver, sample.raw, sample.mail_from)
    # The same message again, e.g. by a forwarding rule and a BCC, to whatever address.
    second = send(receiver, sample.raw, sample.mail_from, to="copia@buzon-intake")

    case = CredentialRequest.objects.get()
    assert first == (250, f"OK: case {case.number}")
    assert second == (250, f"OK: merged into {case.number}")
    assert case.inbound_messages.count() == 2  # the copy is kept, merged into the case
    messages = list(case.inbound_messages.all())
    assert len(messages) == 2
    assert [stored(m) for m in messages] == [sample.raw, sample.raw]
    assert len({m.raw.name for m in messages}) == 2  # two files: neither copy overwrites
    [ack] = mail.outbox
    assert case.number in ack.subject
    assert ack.to == ["luismi.herrera@hotmail.com"]


@pytest.mark.django_db(transaction=True)
def test_a_failure_answers_451_so_the_mta_sends_it_again(
    receiver: Address,
    reference_data: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = SAMPLES["simple"]

    def unavailable(raw: bytes, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    def evidence_fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("evidence log unavailable")

    # The database is down before anything is stored; then a failure half-way through filing
    # (after the raw message was written to storage, inside the case's transaction).
    for target, name, failure in [
        (agency.smtp, "ingest_email", unavailable),
        (agency.actions, "record", evidence_fails),
    ]:
        with monkeypatch.context() as patch, smtplib.SMTP(*receiver, timeout=60) as client:
            patch.setattr(target, name, failure)
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail(sample.mail_from, [INTAKE], sample.raw)
        assert refused.value.smtp_code == 451
        assert refused.value.smtp_error == b"4.3.0 Temporary failure, try again later"
        assert CredentialRequest.objects.count() == 0
        assert InboundMessage.objects.count() == 0
        assert stored_files() == []
        assert mail.outbox == []

    # The MTA's retry, once Buzón works again: the message was not lost.
    code, reply = send(receiver, sample.raw, sample.mail_from)

    case = CredentialRequest.objects.get()
    assert (code, reply) == (250, f"OK: case {case.number}")
    assert stored(case.inbound_messages.get()) == sample.raw
    assert len(stored_files()) == 1
    assert len(acknowledgements(case)) == 1


# -- Without the database: the size limit, shutting down, the command ---------------------------


@pytest.fixture
def filed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Stand in for ingest_email (no database): what reached it."""
    received: list[bytes] = []

    def ingest(raw: bytes, **kwargs: Any) -> SimpleNamespace:
        received.append(raw)
        return SimpleNamespace(case=SimpleNamespace(number="SC-2025-000001"), merged=False)

    monkeypatch.setattr(agency.smtp, "ingest_email", ingest)
    return received


def test_a_message_over_the_size_limit_is_refused_with_552(
    settings: LazySettings, filed: list[bytes]
) -> None:
    settings.BUZON_SMTP_MAX_BYTES = 4096
    controller = start("127.0.0.1", free_port())
    address = (controller.hostname, controller.port)
    small = SAMPLES["with_jpeg_and_pdf"].raw
    large = small.replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 70 + b"\r\n" * 60, 1)
    assert len(small) <= 4096 < len(large)
    try:
        # A client that declares the size (smtplib does, as MTAs do) is refused at MAIL FROM.
        with (
            smtplib.SMTP(*address, timeout=60) as client,
            pytest.raises(smtplib.SMTPSenderRefused) as declared,
        ):
            client.sendmail("rosaelena.quintero@gmail.com", [INTAKE], large)
        # One that does not is refused once the data passes the limit.
        undeclared = send(address, large, "rosaelena.quintero@gmail.com")
        accepted = send(address, small, "rosaelena.quintero@gmail.com")
    finally:
        controller.stop()

    assert declared.value.smtp_code == 552
    assert undeclared[0] == 552
    assert accepted == (250, "OK: case SC-2025-000001")
    assert filed == [small]


def test_serve_forever_runs_until_sigterm(filed: list[bytes]) -> None:
    port = free_port()
    replies: list[tuple[int, str]] = []
    returned = threading.Event()

    def use_then_terminate() -> None:
        while not returned.is_set():  # until it listens
            try:
                replies.append(send(("127.0.0.1", port), SAMPLES["simple"].raw, "a@b.pe"))
            except ConnectionRefusedError:
                time.sleep(0.05)
                continue
            # Only once it answered: its SIGTERM handler is in place by then.
            os.kill(os.getpid(), signal.SIGTERM)
            return

    before = signal.getsignal(signal.SIGTERM)
    client = threading.Thread(target=use_then_terminate)
    client.start()
    try:
        serve_forever("127.0.0.1", port)  # returns on SIGTERM instead of dying
    finally:
        returned.set()
        client.join()

    assert replies == [(250, "OK: case SC-2025-000001")]
    assert signal.getsignal(signal.SIGTERM) == before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_the_command_listens_where_the_settings_say(
    settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(
        "agency.management.commands.smtp_receiver.serve_forever",
        lambda host, port: calls.append((host, port)),
    )
    settings.BUZON_SMTP_HOST, settings.BUZON_SMTP_PORT = "10.0.0.5", 2526

    call_command("smtp_receiver")
    call_command("smtp_receiver", "--host", "127.0.0.1", "--port", "2600")

    assert calls == [("10.0.0.5", 2526), ("127.0.0.1", 2600)]
    with pytest.raises(CommandError, match="--port"):
        call_command("smtp_receiver", "--port", "0")
