"""Depositing fines and plans, paying them, logging a person in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client
from django.utils import timezone

from mailboxes.actions import RequestMeta, open_notification
from mailboxes.models import Notification
from payments.actions import PaymentResult, apply_payment
from payments.models import Debt
from tests import factories

LIMA = ZoneInfo("America/Lima")
BASIS = "Decreto Legislativo N.° 1350, art. 56; Reglamento, art. 197"


def lima(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LIMA)


def fine(registration: Any = None, *, key: str | None = None, **details: Any) -> Notification:
    values = {"amount": "350.00", "legal_basis": BASIS, "due_date": "2026-12-30"} | details
    notification: Notification = factories.deposit(
        registration,
        idempotency_key=key,
        unit="SFM",
        kind="fine",
        subject="Multa por exceso de permanencia",
        body="Se impone una **multa** por exceso de permanencia.",
        details=values,
    )
    return notification


def plan(registration: Any = None, *, key: str | None = None, **details: Any) -> Notification:
    values = {
        "total": "1000.00",
        "installments": 3,
        "first_due_date": "2026-12-15",
        "legal_basis": BASIS,
    } | details
    notification: Notification = factories.deposit(
        registration,
        idempotency_key=key,
        unit="SFM",
        kind="installment",
        subject="Aprobación de fraccionamiento de multa",
        body="Se **aprueba** el fraccionamiento de la multa.",
        details=values,
    )
    return notification


_tx = iter(range(1, 10**9))


def pay(
    debt: Debt,
    amount: str | Decimal | None = None,
    *,
    tid: str | None = None,
    paid_at: datetime | None = None,
    source: str = "pagalo",
) -> PaymentResult:
    return apply_payment(
        tid or f"PAGALO-{next(_tx):08d}",
        debt.payment_code,
        amount if amount is not None else debt.amount - debt.paid,
        paid_at or timezone.now(),
        source,
    )


def open_it(notification: Notification) -> None:
    user = notification.person.user
    assert user is not None
    open_notification(notification, reader=user, meta=RequestMeta("190.42.1.7", "test"))
    notification.refresh_from_db()


def person_client(notification: Notification) -> Client:
    client = Client()
    user = notification.person.user
    assert user is not None
    client.force_login(user)
    return client
