"""Test data for correction requests, on top of tests/factories.py."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from accounts.models import User
from backoffice.groups import NOTIFIERS
from corrections.actions import AnswerInput, file_answer
from corrections.models import CorrectionRequest
from corrections.uploads import UploadInput
from mailboxes.actions import RequestMeta, open_notification
from mailboxes.models import IssuingUnit
from tests import factories

ITEMS = [
    {"description": "El pasaporte adjunto está vencido.", "document_kind": "Pasaporte vigente"},
    {
        "description": "Falta el comprobante de pago de la tasa.",
        "document_kind": "Comprobante de pago",
    },
]
META = RequestMeta("203.0.113.7", "pytest")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_seq = itertools.count(1)


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 90, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def correction(registration=None, *, items=ITEMS, opened=True):
    """A correction request deposited in the person's casilla (and opened by them)."""
    registration = registration or factories.register()
    notification = factories.deposit(
        registration,
        kind="correction",
        subject="Subsanación de su solicitud de CPP",
        body="Su solicitud tiene observaciones.",
        details={"items": items} if items else None,
    )
    if opened:
        open_notification(notification, reader=notification.person.user, meta=META)
        notification.refresh_from_db()
    return notification


def person_client(notification):
    client = Client()
    client.force_login(notification.person.user)
    return client


def reviewer(unit: str = "SIN") -> User:
    user = factories.officer(f"notificador{next(_seq)}", NOTIFIERS)
    IssuingUnit.objects.get(code=unit).members.add(user)
    return user


def answer_every_item(notification) -> None:
    """The person answers every observation with a PDF."""
    pdf = factories.pdf_bytes()
    positions = CorrectionRequest.objects.get(notification=notification).items.values_list(
        "position", flat=True
    )
    file_answer(
        notification,
        user=notification.person.user,
        data=AnswerInput({p: [UploadInput.of(f"doc{p}.pdf", pdf)] for p in positions}),
        meta=META,
    )


def all_stored_files() -> set[str]:
    """Every file in the default storage (answers, receipts, attachments, letters)."""
    root = Path(default_storage.path(""))
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
