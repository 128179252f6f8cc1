"""What a person owes, for the casilla's "Pendientes" section."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from legaltime.calendar import BusinessCalendar
from payments.due import overdue_before, payable_until
from payments.models import Debt
from people.models import Person


@dataclass(frozen=True)
class Due:
    """One thing to pay. For a notification not opened yet, what it asks to pay is part of its
    content, and reading it must go through the acuse: amount, code and date are then None and
    `url` leads to the notification, where the person opens it."""

    kind: str  # Debt.Kind
    label: str  # "Multa", "Cuota de fraccionamiento"...
    notification: uuid.UUID
    subject: str
    opened: bool
    installment: int | None
    installments: int | None
    amount: Decimal | None  # what is still owed
    payment_code: str | None
    due_date: date | None
    payable_until: date | None  # the due date, carried over past a non-working day
    overdue: bool  # never for a lapsed balance: its date is when it became payable
    url: str


def due_for(person: Person, today: date | None = None) -> list[Due]:
    """Open fines and lapsed balances, and for each active plan its overdue installments and
    the next one; overdue first, then by due date. Three queries (the debts, their
    notifications, the calendar), whatever the number of debts."""
    today = today or timezone.localdate()
    calendar = BusinessCalendar()
    cutoff = overdue_before(today, calendar)
    debts = list(
        Debt.objects.filter(person=person, status__in=Debt.OPEN)
        .select_related("notification", "plan")
        .order_by("due_date", "number", "id")
    )
    shown: list[Debt] = []
    next_of_plan: set[int] = set()
    for debt in debts:
        upcoming = debt.kind == Debt.Kind.INSTALLMENT and debt.due_date >= cutoff
        if upcoming and debt.plan_id is not None:
            # Of an active plan, only the next installment not yet due (plus the overdue ones).
            if debt.plan_id in next_of_plan:
                continue
            next_of_plan.add(debt.plan_id)
        shown.append(debt)
    items = [_item(debt, today, cutoff, calendar) for debt in shown]
    return sorted(items, key=lambda i: (not i.overdue, i.due_date or date.max))


def _item(debt: Debt, today: date, cutoff: date, calendar: BusinessCalendar) -> Due:
    notification = debt.notification
    opened = notification.opened_at is not None
    return Due(
        kind=debt.kind,
        label=str(debt.get_kind_display()),
        notification=notification.public_id,
        subject=notification.subject,
        opened=opened,
        installment=debt.number,
        installments=debt.plan.installments if debt.plan is not None else None,
        amount=debt.balance if opened else None,
        payment_code=debt.payment_code if opened else None,
        due_date=debt.due_date if opened else None,
        payable_until=payable_until(debt.due_date, calendar) if opened else None,
        overdue=opened and debt.is_overdue(today, cutoff=cutoff),
        url=reverse("payments:debt", args=[debt.payment_code])
        if opened
        else reverse("mailbox:detail", args=[notification.public_id]),
    )
