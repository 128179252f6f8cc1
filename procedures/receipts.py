"""Issuing and reading constancias de trámite.

Each constancia is rendered once, when it is issued, and kept encrypted with Fernet
(AES-128-CBC + HMAC-SHA256) under BUZON_FILE_ENCRYPTION_KEY (buzon/secretbox.py), in the
receipt's own row: it is written in the same transaction as the registration, and a database
dump alone does not reveal a password. Documents are always rendered in the agency's language
(es-PE), whatever language the officer's screen is in.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from buzon import secretbox
from evidence import chain
from evidence.actions import record
from evidence.models import EventKind
from procedures.models import Procedure, Receipt
from procedures.pdf import ReceiptContent, render_receipt
from verification.codes import new_code


def encrypt(data: bytes) -> bytes:
    return secretbox.seal(secretbox.FILES, data)


def decrypt(token: bytes | memoryview) -> bytes:
    return secretbox.unseal(secretbox.FILES, token)


@sensitive_variables("password")
def issue_receipt(
    procedure: Procedure,
    *,
    password: str | None,
    credentials: Receipt.Credentials,
    actor: User | None,
) -> Receipt:
    """Render and store a constancia. Call inside the registering transaction."""
    person = procedure.person
    issued_at = timezone.now()
    content = ReceiptContent(
        procedure_number=procedure.number,
        procedure_type=procedure.procedure_type.name,
        filing_date=procedure.filing_date,
        office=procedure.office.name,
        office_address=procedure.office.address,
        registered_at=procedure.registered_at,
        issued_at=issued_at,
        person_name=person.full_name,
        document_label=person.document_label,
        document_type=person.doc_type,
        document_type_name=str(person.get_doc_type_display()),
        document_number=person.doc_number,
        nationality=str(person.nationality.name),
        birth_date=person.birth_date,
        verification_code=new_code(),
        credentials=credentials,
        password=password,
    )
    with translation.override(settings.LANGUAGE_CODE):
        record_copy = render_receipt(content.without_password())
        delivered = render_receipt(content) if password is not None else record_copy
    receipt = Receipt.objects.create(
        procedure=procedure,
        verification_code=content.verification_code,
        credentials=credentials,
        issued_at=issued_at,
        issued_by=actor if actor is not None and actor.pk else None,
        record_pdf=encrypt(record_copy),
        credentials_pdf=encrypt(delivered) if password is not None else None,
        credentials_until=issued_at + timedelta(hours=settings.BUZON_CREDENTIALS_PICKUP_HOURS)
        if password is not None
        else None,
        sha256=hashlib.sha256(delivered).hexdigest(),
        size=len(delivered),
    )
    # /verificar/ answers for this hash and code: the log holds them, so that verify_evidence
    # catches an edited or deleted row (a forged PDF passed off as authentic, or a genuine
    # one disowned).
    record(
        EventKind.RECEIPT_ISSUED,
        actor=actor,
        person=person,
        procedure=procedure,
        data={
            "code": receipt.verification_code,
            "sha256": receipt.sha256,
            "size": receipt.size,
            "issued_at": chain.timestamp(issued_at),
        },
    )
    return receipt


def credentials_copy_allowed(receipt: Receipt, actor: User | None) -> bool:
    """The credentials copy goes only to whoever issued it, and only within the window."""
    return (
        receipt.credentials_pdf is not None
        and receipt.credentials_until is not None
        and timezone.now() < receipt.credentials_until
        # An officer who issued it; never a system (actor None), whatever issued it.
        and actor is not None
        and receipt.issued_by_id == actor.pk
    )
