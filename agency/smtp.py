"""The inbound SMTP channel for credential requests (aiosmtpd).

The agency's mail server forwards (or BCCs) every message of the information mailbox to this
receiver, on a private network. Each message is handed to ingest_email(), which stores the raw
bytes and opens or merges a case. The answer to the sending MTA is what makes this safe:

- 250 only after the case is committed ("250 OK: case SC-2025-000123");
- 451 when anything fails, so the MTA keeps the message queued and sends it again later;
- 552 (from aiosmtpd, before the handler sees anything) for a message over
  BUZON_SMTP_MAX_BYTES: at MAIL FROM when the client declares the size, else after the data.

A message is never acknowledged and then dropped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
from types import FrameType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from agency.actions import Ingested, ingest_email

log = logging.getLogger(__name__)

TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, try again later"


def _ingest(raw: bytes, mail_from: str, peer: str) -> Ingested:
    """Run in a worker thread: the ORM is synchronous and must not block the event loop."""
    close_old_connections()
    try:
        return ingest_email(raw, mail_from=mail_from, peer=peer)
    finally:
        # This thread's connection: a pooled thread may sit idle for long, and a connection
        # left open would also hold the test database on PostgreSQL.
        connections.close_all()


class CredentialRequestHandler:
    """aiosmtpd handler: every accepted message becomes (or joins) exactly one case."""

    def __init__(self) -> None:
        self.in_flight = 0  # messages being filed; changed on the event loop only

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        # A forward target on a private port: whatever address the mail server used is ours.
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        mail_from = envelope.mail_from or ""
        peer = session.peer
        peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)
        self.in_flight += 1
        try:
            ingested = await asyncio.to_thread(_ingest, raw, mail_from, peer)
        except Exception:
            # The MTA keeps the message and retries: nothing is lost.
            log.exception(
                "could not file a message of %d bytes from %r (peer %s); answered 451",
                len(raw),
                mail_from,
                peer,
            )
            return TEMPORARY_FAILURE
        finally:
            self.in_flight -= 1
        number = ingested.case.number
        if ingested.merged:
            log.info("message of %d bytes merged into case %s", len(raw), number)
            return f"250 OK: merged into {number}"
        log.info("message of %d bytes opened case %s", len(raw), number)
        return f"250 OK: case {number}"


def start(host: str, port: int) -> Controller:
    """Listen on host:port in a background thread and return the started Controller (call
    .stop() on it). Port 0 is refused: the Controller checks it is up by connecting to the
    port it was given, so pick a free port first."""
    if not 0 < port < 65536:
        raise ValueError(f"the SMTP receiver needs a port from 1 to 65535, got {port}")
    controller = Controller(
        CredentialRequestHandler(),
        hostname=host,
        port=port,
        # The name in the greeting; aiosmtpd would otherwise look up the FQDN in DNS.
        server_hostname=socket.gethostname(),
        data_size_limit=settings.BUZON_SMTP_MAX_BYTES,
    )
    controller.start()
    return controller


def stop_gracefully(controller: Controller, grace: float = 5.0) -> None:
    """Stop listening, give the messages being filed up to `grace` seconds to be answered,
    then stop. A message cut off later never got its 250, so the MTA sends it again (and it
    is merged into its case if it was filed after all)."""
    server = controller.server
    if server is not None:
        controller.loop.call_soon_threadsafe(server.close)
    handler = controller.handler
    deadline = time.monotonic() + grace
    while getattr(handler, "in_flight", 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    controller.stop()


def serve_forever(host: str, port: int) -> None:
    """Run the receiver until SIGTERM or SIGINT (call from the main thread)."""
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous: dict[int, Any] = {
        signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        controller = start(host, port)
        log.info(
            "SMTP receiver for credential requests listening on %s:%s (messages up to %s bytes)",
            host,
            port,
            settings.BUZON_SMTP_MAX_BYTES,
        )
        try:
            while not stopping.wait(timeout=1):
                pass
        finally:
            stop_gracefully(controller)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("SMTP receiver on %s:%s stopped", host, port)
