"""Finding a registered document by its verification code or by the SHA-256 of its PDF.

Two kinds of document carry a code: the constancia de registro de trámite
(procedures.Receipt) and the constancia de notificación electrónica (evidence.Certificate).
Their codes come from one generator and have one format, so a code does not say which table
it belongs to: both are always queried, one query each, so that neither the answer nor the
work done tells an unknown code from one of the other kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from evidence.models import Certificate, EventKind
from mailboxes.models import Attachment
from procedures.models import Receipt


@dataclass(frozen=True)
class Found:
    """At most one of these is set."""

    receipt: Receipt | None = None
    certificate: Certificate | None = None
    attachment: Attachment | None = None

    @property
    def document(self) -> Receipt | Certificate | None:
        return self.receipt or self.certificate

    @property
    def is_test(self) -> bool:
        """A document of a test mailbox (a system's integration tests): no legal effect."""
        if self.receipt:
            return self.receipt.procedure.person.is_test
        if self.certificate:
            return self.certificate.notification.person.is_test
        return False

    @property
    def sha256(self) -> str:
        if self.receipt:
            return self.receipt.sha256
        if self.certificate:
            return self.certificate.sha256
        return self.attachment.sha256 if self.attachment else ""

    @property
    def holder_name(self) -> str:
        if self.receipt:
            return self.receipt.procedure.person.full_name
        if self.certificate:
            return self.certificate.notification.person.full_name
        return ""

    def __bool__(self) -> bool:
        return bool(self.receipt or self.certificate or self.attachment)


def _receipts() -> QuerySet[Receipt]:
    return Receipt.objects.select_related(
        "procedure__person", "procedure__procedure_type", "procedure__office"
    )


def _certificates() -> QuerySet[Certificate]:
    return Certificate.objects.select_related("notification__person", "notification__unit")


def by_code(code: str) -> Found:
    """The document with this canonical code (verification.codes.normalize_code)."""
    receipt = _receipts().filter(verification_code=code).first()
    certificate = _certificates().filter(code=code).first()
    if receipt:
        return Found(receipt=receipt)
    return Found(certificate=certificate)


def by_sha256(sha256: str) -> Found:
    """The registered document whose PDF has this hash: a constancia de notificación, a
    constancia de trámite, or else a notification's attachment (the earliest deposited, when
    one file was sent in several notifications)."""
    certificate = _certificates().filter(sha256=sha256).order_by("issued_at", "pk").first()
    if certificate:
        return Found(certificate=certificate)
    receipt = _receipts().filter(sha256=sha256).order_by("issued_at", "pk").first()
    if receipt:
        return Found(receipt=receipt)
    attachment = (
        Attachment.objects.select_related("notification__unit")
        .filter(sha256=sha256)
        .order_by("notification__deposited_at", "pk")
        .first()
    )
    return Found(attachment=attachment)


def effective_when_issued(certificate: Certificate) -> date | None:
    """The effective date the constancia printed (None: not yet in effect then), replayed from
    the log up to the entry that recorded its issue. The notification's own date may have been
    set or moved since (an opening, a decree), and the public page must not call a genuine
    constancia altered for that."""
    from evidence.verify import replay

    before: list[dict[str, Any]] = []
    for event in certificate.notification.events.order_by("id"):
        entry = event.entry
        if entry["kind"] == EventKind.CERTIFICATE_ISSUED and (
            entry["data"].get("code") == certificate.code
        ):
            effective = replay(before).effective
            try:
                return date.fromisoformat(effective) if effective else None
            except ValueError:  # not a date: an altered log, which verify_evidence reports
                return certificate.notification.effective_date
        before.append(entry)
    return certificate.notification.effective_date  # no entry: verify_evidence reports it
