"""SMS behind a small interface: an HTTP provider adapter, and a logging backend for development."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("buzon.sms")


class SmsError(Exception):
    """The provider did not accept the message."""


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> None: ...


class LoggingSmsBackend:
    """Development: writes the message to the log instead of sending it."""

    def send(self, to: str, text: str) -> None:
        log.info("SMS to %s: %s", to, text)


class HttpSmsBackend:
    """A provider that takes JSON {"to", "text"} with a bearer token (most gateways do)."""

    def __init__(self) -> None:
        self.url = settings.BUZON_SMS_URL
        self.token = settings.BUZON_SMS_TOKEN

    def send(self, to: str, text: str) -> None:
        try:
            response = httpx.post(
                self.url,
                json={"to": to, "text": text},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            raise SmsError(f"SMS provider unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise SmsError(f"SMS provider answered {response.status_code}")


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.BUZON_SMS_BACKEND)()
    return backend
