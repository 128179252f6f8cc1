from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.sockets import free_port


class Inbox:
    """Collects what a real SMTP server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(settings: Any) -> None:
    """A mail server that is not there: nothing listens on the port."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture(autouse=True)
def _empty_queue(settings: Any) -> None:
    """On Redis, start each test with an empty queue."""
    if settings.REDIS_URL:
        import django_rq

        django_rq.get_queue("default").empty()


class SmsGateway:
    """What an SMS provider on loopback received: (to, text) per message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[SmsGateway]:
    """A real HTTP SMS provider on loopback, reached through alerts.sms.HttpSmsBackend."""
    gateway = SmsGateway()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            gateway.messages.append((payload["to"], payload["text"]))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.BUZON_SMS_BACKEND = "alerts.sms.HttpSmsBackend"
    settings.BUZON_SMS_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.BUZON_SMS_TOKEN = "token"
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
