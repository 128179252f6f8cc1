"""Plain factory functions with keyword defaults. No fixtures files, no global dataset."""

from __future__ import annotations

import io
import itertools
import re
from datetime import date
from typing import Any

from django.contrib.auth.models import Group
from pypdf import PdfReader

from accounts.models import User
from backoffice.groups import REGISTRY, SUPERVISORS
from procedures.actions import Registration, register_procedure
from procedures.inputs import PersonInput, ProcedureInput
from procedures.receipts import decrypt

_seq = itertools.count(1)


def ce_number() -> str:
    return f"{next(_seq) + 100000:09d}"


def person_input(**overrides: Any) -> PersonInput:
    values: dict[str, Any] = {
        "doc_type": "CE",
        "doc_number": ce_number(),
        "given_names": "María Alejandra",
        "first_surname": "González",
        "second_surname": "Rivas",
        "birth_date": date(1991, 4, 12),
        "nationality": "VE",
    }
    values.update(overrides)
    return PersonInput(**values)


def procedure_input(**overrides: Any) -> ProcedureInput:
    values: dict[str, Any] = {
        "procedure_type": "CPP",
        "office": "LM",
        "filing_date": date(2026, 3, 2),
    }
    values.update(overrides)
    return ProcedureInput(**values)


def register(actor: User | None = None, **person_overrides: Any) -> Registration:
    proc = person_overrides.pop("procedure", None) or procedure_input()
    return register_procedure(person_input(**person_overrides), proc, actor=actor)


def register_with_key(key: str, **person_overrides: Any) -> Registration:
    person_overrides.setdefault("doc_number", "222333444")
    return register_procedure(
        person_input(**person_overrides), procedure_input(), actor=None, idempotency_key=key
    )


def officer(username: str = "", *groups: str) -> User:
    user = User.objects.create_user(
        username=username or f"officer{next(_seq)}",
        password="officer-password-123",
        kind=User.Kind.OFFICER,
        first_name="Rosa",
        last_name="Quispe",
    )
    for name in groups or (REGISTRY,):
        user.groups.add(Group.objects.get(name=name))
    return user


def supervisor() -> User:
    return officer("", SUPERVISORS)


def delivered_pdf(registration: Registration) -> bytes:
    """The PDF the person was handed (the credentials copy when there is one)."""
    receipt = registration.receipt
    receipt.refresh_from_db()
    return decrypt(receipt.credentials_pdf or receipt.record_pdf)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def receipt_text(registration: Registration) -> str:
    return pdf_text(delivered_pdf(registration))


def credentials_from_text(text: str) -> tuple[str, str]:
    """Read the document number and password printed on a constancia."""
    number = re.search(r"Número de documento:\s*(\S+)", text)
    password = re.search(r"Contraseña:\s*(\S+)", text)
    assert number, text
    assert password, text
    return number.group(1), password.group(1)


def credentials_of(registration: Registration) -> tuple[str, str]:
    return credentials_from_text(receipt_text(registration))


# --- Notifications -------------------------------------------------------------------------

_PDF_CACHE: dict[tuple[int, int], bytes] = {}


def pdf_bytes(pages: int = 1, pad_kb: int = 0) -> bytes:
    """A real PDF made with reportlab, optionally padded to about pad_kb kilobytes."""
    key = (pages, pad_kb)
    if key not in _PDF_CACHE:
        from reportlab.pdfgen.canvas import Canvas

        buffer = io.BytesIO()
        canvas = Canvas(buffer)
        for page in range(pages):
            canvas.drawString(72, 720, f"Resolución de prueba, página {page + 1}")
            if pad_kb:
                canvas.drawString(72, 700, "x" * 10)
                canvas.setTitle("r" * (pad_kb * 1024))
            canvas.showPage()
        canvas.save()
        _PDF_CACHE[key] = buffer.getvalue()
    return _PDF_CACHE[key]


def unit_officer(username: str = "", unit: str = "SIN") -> User:
    from mailboxes.models import IssuingUnit

    user = officer(username)
    IssuingUnit.objects.get(code=unit).members.add(user)
    return user


def notification_input(procedure_number: str, **overrides: Any) -> Any:
    from mailboxes.inputs import AttachmentInput, NotificationInput

    values: dict[str, Any] = {
        "procedure_number": procedure_number,
        "unit": "SIN",
        "kind": "approval",
        "subject": "Aprobación de su solicitud de CPP",
        "body": "Se **aprueba** su solicitud.\n\nAtentamente,\n\nSubgerencia",
        "attachments": [AttachmentInput("resolucion.pdf", pdf_bytes())],
    }
    values.update(overrides)
    return NotificationInput(**values)


def deposit(
    registration: Registration | None = None, actor: User | None = None, **overrides: Any
) -> Any:
    from mailboxes.actions import deposit_notification

    registration = registration or register()
    return deposit_notification(
        notification_input(registration.procedure.number, **overrides), actor=actor
    ).notification


def verified(
    registration: Registration, email: str = "persona@example.org", phone: str = ""
) -> None:
    person = registration.procedure.person
    person.email, person.email_verified = email, bool(email)
    person.mobile_phone, person.mobile_phone_verified = phone, bool(phone)
    person.save()


def ensure_reference_data() -> None:
    """Re-create what migrations seed, after a transactional test flushed the tables."""
    import importlib

    from django.apps import apps

    from backoffice.groups import ensure_officer_groups

    for module in (
        "procedures.migrations.0002_seed_catalogue_and_offices",
        "mailboxes.migrations.0002_seed_issuing_units",
    ):
        importlib.import_module(module).seed(apps, None)
    ensure_officer_groups()
