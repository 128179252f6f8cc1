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
