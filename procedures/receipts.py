"""Issuing and reading constancias de trámite.

The PDF is rendered once, when it is issued, and kept in private storage encrypted with
Fernet (AES-128-CBC + HMAC-SHA256) under BUZON_FILE_ENCRYPTION_KEY: a copy of the database and
the files together still does not reveal anyone's password. Its SHA-256 is recorded so that
/verificar/ can confirm a printed copy.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from accounts.models import User
from procedures.models import Procedure, Receipt
from procedures.pdf import ReceiptContent, render_receipt
from verification.codes import new_code


def _fernet() -> Fernet:
    key = hashlib.sha256(("buzon-files:" + settings.FILE_ENCRYPTION_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def issue_receipt(
    procedure: Procedure,
    *,
    password: str | None,
    credentials: Receipt.Credentials,
    actor: User | None,
) -> Receipt:
    """Render, encrypt and store a constancia. Call inside the registering transaction."""
    person = procedure.person
    issued_at = timezone.now()
    code = new_code()
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
        document_type=person.get_doc_type_display(),
        document_number=person.doc_number,
        nationality=str(person.nationality.name),
        birth_date=person.birth_date,
        verification_code=code,
        password=password,
        reissued=credentials == Receipt.Credentials.REISSUED,
    )
    pdf = render_receipt(content)
    storage = storages["private"]
    name = storage.save(
        f"receipts/{issued_at:%Y/%m}/{uuid.uuid4().hex}.pdf.enc",
        ContentFile(_fernet().encrypt(pdf)),
    )
    try:
        return Receipt.objects.create(
            procedure=procedure,
            verification_code=code,
            credentials=credentials,
            issued_at=issued_at,
            issued_by=actor if actor is not None and actor.pk else None,
            file_name=name,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
        )
    except Exception:
        storage.delete(name)
        raise


def read_receipt_pdf(receipt: Receipt) -> bytes:
    with storages["private"].open(receipt.file_name, "rb") as handle:
        return _fernet().decrypt(handle.read())
