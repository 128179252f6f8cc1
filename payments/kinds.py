"""Kind.FINE and Kind.INSTALLMENT in mailboxes.kinds: their details, their rows, their panel.

Details as the callers give them (amounts as text, dates as ISO text):

- FINE: {"amount": "350.00", "legal_basis": "...", "due_date": "2026-12-30"}
- INSTALLMENT: {"total": "1200.00", "installments": 12, "first_due_date": "2026-12-30",
  "legal_basis": "..."}; check() adds the schedule (payments/schedule.py).

No details, or only blank values (the officers' form sends its empty fields), is a notification
with nothing to pay, as every fine deposited before this app existed. materialize() gives each
debt its payment code and writes the codes into the notification's details, since they are
part of what was notified, then hashes the content again: the deposit's evidence entries are
written after materialize(), so they carry the final hash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from legaltime.calendar import BusinessCalendar
from mailboxes.kinds import KindRules, Panel, register
from mailboxes.models import Kind, Notification
from payments import codes
from payments.due import overdue_before, payable_until
from payments.models import Debt, Payment, Plan
from payments.schedule import (
    MAX_AMOUNT,
    MAX_INSTALLMENTS,
    MIN_INSTALLMENTS,
    AmountError,
    AmountTooLarge,
    Row,
    canonical,
    parse_amount,
    schedule,
    soles,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from procedures.models import Procedure

MAX_LEGAL_BASIS = 500
MAX_YEARS_AHEAD = 10  # a due date further away than this is a typing mistake
FINE_FIELDS = frozenset({"amount", "legal_basis", "due_date"})
# Only payments.actions.lapse_plan() deposits these, for the balance of a lapsed plan.
LAPSE_FIELDS = frozenset({"lapsed_plan", "payment_code"})
PLAN_FIELDS = frozenset({"total", "installments", "first_due_date", "legal_basis"})
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INTEGER = re.compile(r"[0-9]{1,9}")  # more digits than that is no count of installments


def _blank(details: Mapping[str, Any] | None) -> bool:
    return not details or all(value is None or value == "" for value in details.values())


def _unknown(details: Mapping[str, Any], allowed: frozenset[str], errors: list[str]) -> None:
    unknown = sorted(str(key) for key in details if key not in allowed)
    if unknown:
        errors.append(_("Datos no reconocidos: %(names)s.") % {"names": ", ".join(unknown)})


def _amount(value: Any, errors: list[str], *, missing: str) -> Decimal | None:
    if value is None or value == "":
        errors.append(missing)
        return None
    try:
        amount = parse_amount(value)
    except AmountTooLarge as exc:
        errors.append(
            _("El monto debe ser mayor que cero.")
            if exc.negative
            else _("El monto no puede ser mayor que %(max)s.") % {"max": soles(MAX_AMOUNT)}
        )
        return None
    except AmountError:
        errors.append(
            _(
                "El monto debe ser un número con punto decimal y como máximo dos decimales, "
                "por ejemplo 350.00."
            )
        )
        return None
    if amount <= 0:
        errors.append(_("El monto debe ser mayor que cero."))
        return None
    if amount > MAX_AMOUNT:
        errors.append(_("El monto no puede ser mayor que %(max)s.") % {"max": soles(MAX_AMOUNT)})
        return None
    return amount


def _legal_basis(value: Any, errors: list[str]) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        errors.append(_("Indique la base legal."))
    elif len(text) > MAX_LEGAL_BASIS:
        errors.append(
            _("La base legal puede tener como máximo %(n)d caracteres.") % {"n": MAX_LEGAL_BASIS}
        )
    elif "\x00" in text:
        errors.append(_("La base legal contiene caracteres no válidos."))
    return text


def _date_messages(which: str) -> dict[str, str]:
    if which == "fine":
        return {
            "missing": _("Indique la fecha límite de pago."),
            "invalid": _("La fecha límite de pago no es una fecha válida (AAAA-MM-DD)."),
            "past": _("La fecha límite de pago no puede ser anterior a hoy."),
            "far": _("La fecha límite de pago no puede ser posterior al año %(year)d."),
        }
    return {
        "missing": _("Indique el vencimiento de la primera cuota."),
        "invalid": _("El vencimiento de la primera cuota no es una fecha válida (AAAA-MM-DD)."),
        "past": _("El vencimiento de la primera cuota no puede ser anterior a hoy."),
        "far": _("El vencimiento de la primera cuota no puede ser posterior al año %(year)d."),
    }


def _due_date(value: Any, errors: list[str], *, which: str, today: date) -> date | None:
    """A date not before today (Lima) and not absurdly far away."""
    messages = _date_messages(which)
    if value is None or value == "":
        errors.append(messages["missing"])
        return None
    parsed: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors.append(messages["invalid"])
        return None
    if parsed < today:
        errors.append(messages["past"])
        return None
    if parsed.year > today.year + MAX_YEARS_AHEAD:
        errors.append(messages["far"] % {"year": today.year + MAX_YEARS_AHEAD})
        return None
    return parsed


def _installments(value: Any, errors: list[str]) -> int | None:
    if value is None or value == "":
        errors.append(_("Indique el número de cuotas."))
        return None
    # ASCII digits only: "²".isdigit() is True but int("²") fails, and int("٣") is 3.
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and INTEGER.fullmatch(value.strip()))
    ):
        errors.append(_("El número de cuotas debe ser un número entero."))
        return None
    count = int(value)
    if not MIN_INSTALLMENTS <= count <= MAX_INSTALLMENTS:
        errors.append(
            _("El número de cuotas debe estar entre %(min)d y %(max)d.")
            % {"min": MIN_INSTALLMENTS, "max": MAX_INSTALLMENTS}
        )
        return None
    return count


def check_fine(details: Mapping[str, Any] | None, procedure: Procedure) -> dict[str, Any]:
    if details is None or _blank(details):
        return {}
    errors: list[str] = []
    today = timezone.localdate()
    lapse = "lapsed_plan" in details
    _unknown(details, FINE_FIELDS | LAPSE_FIELDS if lapse else FINE_FIELDS, errors)
    amount = _amount(details.get("amount"), errors, missing=_("Indique el monto de la multa."))
    basis = _legal_basis(details.get("legal_basis"), errors)
    due = _due_date(details.get("due_date"), errors, which="fine", today=today)
    clean: dict[str, Any] = {}
    if lapse and not errors:
        clean = _check_lapse(details, procedure, amount, errors)
    if errors:
        raise ValidationError(list(errors))
    assert amount is not None
    assert due is not None
    return {"amount": canonical(amount), "legal_basis": basis, "due_date": due.isoformat()} | clean


def _check_lapse(
    details: Mapping[str, Any], procedure: Procedure, amount: Decimal | None, errors: list[str]
) -> dict[str, Any]:
    """The balance of a plan that lapses in this very transaction (payments.actions)."""
    plan = (
        Plan.objects.filter(
            notification__public_id=str(details.get("lapsed_plan")),
            notification__procedure=procedure,
            status=Plan.Status.LAPSED,
            lapse_notification__isnull=True,
        ).first()
        if re.fullmatch(r"[0-9a-f-]{36}", str(details.get("lapsed_plan")))
        else None
    )
    code = str(details.get("payment_code") or "")
    if plan is None:
        errors.append(_("No hay un fraccionamiento perdido al que corresponda este saldo."))
        return {}
    balance = sum(
        (d.amount - d.paid for d in plan.debts.filter(status=Debt.Status.CANCELLED)),
        Decimal("0.00"),
    )
    if amount != balance:
        errors.append(_("El monto no es el saldo del fraccionamiento perdido."))
    if not codes.is_valid(code) or Debt.objects.filter(payment_code=code).exists():
        errors.append(_("El código de pago del saldo no es válido."))
    return {"lapsed_plan": str(plan.notification.public_id), "payment_code": code}


def check_plan(details: Mapping[str, Any] | None, procedure: Procedure) -> dict[str, Any]:
    if details is None or _blank(details):
        return {}
    errors: list[str] = []
    today = timezone.localdate()
    _unknown(details, PLAN_FIELDS, errors)
    total = _amount(details.get("total"), errors, missing=_("Indique la deuda total."))
    count = _installments(details.get("installments"), errors)
    first = _due_date(details.get("first_due_date"), errors, which="plan", today=today)
    basis = _legal_basis(details.get("legal_basis"), errors)
    if total is not None and count is not None and total * 100 < count:
        errors.append(
            _("La deuda total no alcanza para %(n)d cuotas de al menos S/ 0.01.") % {"n": count}
        )
    if errors:
        raise ValidationError(list(errors))
    assert total is not None
    assert count is not None
    assert first is not None
    return {
        "total": canonical(total),
        "installments": count,
        "first_due_date": first.isoformat(),
        "legal_basis": basis,
        "schedule": [row.as_details() for row in schedule(total, count, first)],
    }


def _rehash(notifications: list[Notification]) -> None:
    from mailboxes.actions import content_sha256

    for notification in notifications:
        notification.content_sha256 = content_sha256(notification)
    Notification.objects.bulk_update(notifications, ["details", "content_sha256"])


def materialize_fines(notifications: list[Notification]) -> None:
    fines = [n for n in notifications if n.details]
    if not fines:
        return
    fresh = iter(codes.new_codes(sum(1 for n in fines if "payment_code" not in n.details)))
    lapsed = {
        str(plan.notification.public_id): plan
        for plan in Plan.objects.select_related("notification").filter(
            notification__public_id__in=[
                n.details["lapsed_plan"] for n in fines if "lapsed_plan" in n.details
            ]
        )
    }
    debts = []
    for notification in fines:
        details = dict(notification.details)  # a copy: the deposit's clean data stays as checked
        if "payment_code" not in details:  # a lapsed plan's balance comes with its code
            details["payment_code"] = next(fresh)
        plan = lapsed.get(details.get("lapsed_plan", ""))
        notification.details = details
        debts.append(
            Debt(
                notification=notification,
                person=notification.person,
                kind=Debt.Kind.LAPSED_BALANCE if plan else Debt.Kind.FINE,
                plan=plan,
                amount=Decimal(details["amount"]),
                due_date=date.fromisoformat(details["due_date"]),
                payment_code=details["payment_code"],
            )
        )
    Debt.objects.bulk_create(debts)
    _rehash(fines)


def materialize_plans(notifications: list[Notification]) -> None:
    with_plan = [n for n in notifications if n.details]
    if not with_plan:
        return
    plans = Plan.objects.bulk_create(
        [
            Plan(
                notification=n,
                person=n.person,
                total=Decimal(n.details["total"]),
                installments=n.details["installments"],
            )
            for n in with_plan
        ]
    )
    fresh = iter(codes.new_codes(sum(len(n.details["schedule"]) for n in with_plan)))
    debts = []
    for notification, plan in zip(with_plan, plans, strict=True):
        rows = [row | {"payment_code": next(fresh)} for row in notification.details["schedule"]]
        notification.details = dict(notification.details) | {"schedule": rows}
        debts += [
            Debt(
                notification=notification,
                person=notification.person,
                kind=Debt.Kind.INSTALLMENT,
                plan=plan,
                number=parsed.number,
                amount=parsed.amount,
                due_date=parsed.due_date,
                payment_code=row["payment_code"],
            )
            for row in rows
            for parsed in [Row.of(row)]
        ]
    Debt.objects.bulk_create(debts)
    _rehash(with_plan)


# --- What the person sees ---------------------------------------------------------------------


def with_payments(debts: QuerySet[Debt]) -> QuerySet[Debt]:
    return debts.prefetch_related(
        Prefetch(
            "payments",
            queryset=Payment.objects.select_related("redirected_from").order_by("paid_at", "id"),
        )
    )


def card_context(
    notification: Notification,
    debts: list[Debt],
    *,
    plan: Plan | None,
    today: date,
    single: bool = False,
) -> dict[str, Any]:
    """What payments/panel.html shows: the debt to pay now, the schedule, the payments."""
    current = next((d for d in debts if d.is_open()), None)
    calendar = BusinessCalendar()
    if debts:  # one query for every year the schedule spans (up to six)
        years = [d.due_date.year for d in debts] + [today.year]
        calendar.preload(min(years) - 1, max(years) + 1)
    cutoff = overdue_before(today, calendar)
    for debt in debts:
        # The day an open debt due on a non-working day can still be paid, for the page.
        until = payable_until(debt.due_date, calendar) if debt.is_open() else debt.due_date
        debt.carried_to = until if until != debt.due_date else None  # type: ignore[attr-defined]
    payments = [p for d in debts for p in d.payments.all()]
    paid = sum((p.amount for p in payments), Decimal("0.00"))
    owed = sum((d.balance for d in debts), Decimal("0.00"))
    return {
        "n": notification,
        "plan": plan,
        "debts": debts,
        "current": current,
        "current_overdue": current is not None
        and current.kind != Debt.Kind.LAPSED_BALANCE
        and current.is_overdue(today, cutoff=cutoff),
        "overdue": [d for d in debts if d.is_overdue(today, cutoff=cutoff)],
        "payments": sorted(payments, key=lambda p: (p.paid_at, p.pk)),
        "paid": paid,
        "owed": owed,
        "legal_basis": notification.details.get("legal_basis", ""),
        "instructions": settings.BUZON_PAYMENT_INSTRUCTIONS,
        "today": today,
        "single": single,
        "lapse_after": settings.BUZON_INSTALLMENT_MISSED_TO_LAPSE,
        "lapsed_plan": _lapsed_plan_of(debts),
    }


def _lapsed_plan_of(debts: list[Debt]) -> Notification | None:
    for debt in debts:
        if debt.kind == Debt.Kind.LAPSED_BALANCE and debt.plan is not None:
            return debt.plan.notification
    return None


def panel(notification: Notification, request: HttpRequest) -> Panel | None:
    debts = list(
        with_payments(
            Debt.objects.filter(notification=notification).select_related("plan__notification")
        ).order_by("number", "id")
    )
    if not debts:
        return None  # a fine or plan deposited without details: nothing to pay here
    plan = (
        Plan.objects.select_related("lapse_notification").filter(notification=notification).first()
    )
    return Panel(
        "payments/panel.html",
        card_context(notification, debts, plan=plan, today=timezone.localdate()),
    )


def install() -> None:
    register(Kind.FINE, KindRules(check=check_fine, materialize=materialize_fines, panel=panel))
    register(
        Kind.INSTALLMENT, KindRules(check=check_plan, materialize=materialize_plans, panel=panel)
    )
