"""Legal state changes of debts and plans: a payment received, a payment reviewed, an
installment overdue, a plan lapsed, and the reminders before each due date.

Each function owns its transaction and writes its evidence entry inside it (architecture.md).
The management commands, and later the agency API (issue 7), call these.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from evidence import chain
from evidence.actions import record_about
from evidence.models import EventKind
from legaltime.policies import current_policy, effect_of, pending_until
from mailboxes.actions import deposit_notification
from mailboxes.inputs import AttachmentInput, NotificationInput
from mailboxes.models import Kind
from payments import codes
from payments.due import missed_before, payable_until
from payments.models import SOURCE_PATTERN, Debt, Flag, Payment, Plan
from payments.pdf import LapseContent, ReceiptContent, render_lapse_letter, render_receipt
from payments.schedule import (
    MAX_AMOUNT,
    AmountError,
    AmountTooLarge,
    canonical,
    parse_amount,
    soles,
)

log = logging.getLogger(__name__)

# A payment system's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=10)
# A payment dated before the notification of its debt was deposited is a mistake, but the
# payment system's clock, or its idea of the time zone, may be off by some hours.
BEFORE_DEPOSIT_TOLERANCE = timedelta(days=1)
SOURCE = re.compile(SOURCE_PATTERN)


# --- Receiving a payment ----------------------------------------------------------------------


class PaymentRefused(Exception):  # noqa: N818 (a refusal, not a failure)
    """A payment confirmation that cannot be applied; nothing was written.

    `code`: "invalid" (the data; `errors` says which field), "unknown_code" (no debt has
    that payment code), or "conflict" (the channel's transaction id was already used for
    another payment).
    """

    def __init__(self, code: str, errors: dict[str, list[str]]) -> None:
        super().__init__(code, errors)
        self.code = code
        self.errors = errors

    @property
    def message(self) -> str:
        return " ".join(m for messages in self.errors.values() for m in messages)


UNKNOWN_CODE = gettext_noop("Ninguna deuda tiene ese código de pago.")
CONFLICT = gettext_noop(
    "Ese número de operación de ese canal ya se registró para otro pago (otro código, monto o "
    "fecha)."
)


@dataclass(frozen=True)
class PaymentInput:
    transaction_id: str
    payment_code: str
    amount: Decimal
    paid_at: datetime
    source: str
    # Through a test API key: it pays test debts only, and its transaction ids are its own.
    # Anyone else (a live key, record_payment) pays real debts only.
    test: bool = False


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool  # False: this transaction id was already applied; nothing changed

    def as_dict(self) -> dict[str, Any]:
        p = self.payment
        debt = p.debt
        return {
            "created": self.created,
            "test": p.is_test,  # a test mailbox's debt: no legal effect
            "payment": {
                "id": str(p.public_id),
                "transaction_id": p.transaction_id,
                "payment_code": p.code_used,
                "amount": canonical(p.amount),
                "paid_at": chain.timestamp(p.paid_at),
                "source": p.source,
                "outcome": p.outcome,
                "flag": p.flag,
                "receipt_sha256": p.receipt_sha256,
            },
            "debt": {  # the debt credited: the lapsed balance for a redirected payment
                "payment_code": debt.payment_code,
                "kind": debt.kind,
                "amount": canonical(debt.amount),
                "paid": canonical(debt.paid),
                "status": debt.status,
            },
        }


def normalize_source(source: Any) -> str:
    """A channel id as given ("BN ", "pagalo"): trimmed and in lowercase."""
    return source.strip().lower() if isinstance(source, str) else ""


def _payable(test: bool) -> dict[str, Any]:
    """The lookup of the debts a caller may pay: a test API key sees only the debts of test
    mailboxes, and every other caller (a live key, `record_payment`) only real debts. To
    each, the other kind's payment code does not exist: it is answered exactly as a code no
    debt has. Every read of a debt by its code goes through this, so nothing a caller is told
    depends on a debt of the other kind, and a test debt never receives a real payment."""
    return {"person__is_test": test}


def clean_payment(
    transaction_id: str,
    payment_code: str,
    amount: Any,
    paid_at: datetime,
    source: str,
    *,
    test: bool = False,
) -> PaymentInput:
    errors: dict[str, list[str]] = {}
    tid = transaction_id.strip() if isinstance(transaction_id, str) else ""
    if not tid:
        errors["transaction_id"] = [_("Falta el número de operación.")]
    elif len(tid) > 100 or not tid.isprintable():
        errors["transaction_id"] = [_("El número de operación no es válido.")]
    code = codes.normalize(payment_code if isinstance(payment_code, str) else "")
    if not codes.is_valid(code):
        errors["payment_code"] = [
            _("El código de pago no es válido: son %(n)d dígitos con dígitos de control.")
            % {"n": codes.LENGTH}
        ]
    value = Decimal(0)
    try:
        value = parse_amount(amount)
    except AmountTooLarge:
        errors["amount"] = [_range_message()]
    except AmountError:
        errors["amount"] = [_("El monto debe tener como máximo dos decimales, p. ej. 350.00.")]
    else:
        if not Decimal(0) < value <= MAX_AMOUNT:
            errors["amount"] = [_range_message()]
    if not isinstance(paid_at, datetime) or timezone.is_naive(paid_at):
        errors["paid_at"] = [_("Falta la fecha y hora del pago, con su zona horaria.")]
    elif paid_at > timezone.now() + CLOCK_SKEW:
        errors["paid_at"] = [_("La fecha del pago está en el futuro.")]
    elif "payment_code" not in errors:
        deposited = (
            Debt.objects.filter(payment_code=code, **_payable(test))
            .values_list("notification__deposited_at", flat=True)
            .first()
        )
        if deposited is not None and paid_at < deposited - BEFORE_DEPOSIT_TOLERANCE:
            errors["paid_at"] = [
                _(
                    "La fecha del pago (%(paid)s) es anterior a la notificación de esta deuda, "
                    "depositada el %(deposited)s."
                )
                % {
                    "paid": timezone.localtime(paid_at).strftime("%d/%m/%Y %H:%M"),
                    "deposited": timezone.localtime(deposited).strftime("%d/%m/%Y %H:%M"),
                }
            ]
    src = normalize_source(source)
    if not src:
        errors["source"] = [_("Indique el canal de pago, p. ej. bn o pagalo.")]
    elif not SOURCE.fullmatch(src):
        errors["source"] = [
            _(
                "El canal de pago no es válido: debe ser un identificador de 1 a 30 letras "
                "minúsculas sin tildes, dígitos o guiones, p. ej. bn o pagalo."
            )
        ]
    if errors:
        raise PaymentRefused("invalid", errors)
    return PaymentInput(tid, code, value, paid_at, src, test)


def _range_message() -> str:
    return _("El monto debe ser mayor que cero y como máximo %(max)s.") % {"max": soles(MAX_AMOUNT)}


def _same_or_conflict(earlier: Payment, data: PaymentInput) -> PaymentResult:
    same = (
        earlier.code_used == data.payment_code
        and earlier.amount == data.amount
        and earlier.paid_at == data.paid_at
    )
    if not same:
        raise PaymentRefused("conflict", {"transaction_id": [_(CONFLICT)]})
    return PaymentResult(earlier, created=False)


def _earlier(data: PaymentInput) -> Payment | None:
    """The payment already recorded for this channel's transaction id, if any, among test
    payments for a test key and among real ones otherwise (a payment is a test payment exactly
    when its debt is a test mailbox's, and each caller pays only its own kind of debt)."""
    return (
        Payment.objects.select_related("debt", "redirected_from")
        .filter(source=data.source, transaction_id=data.transaction_id, is_test=data.test)
        .first()
    )


def _outcome(debt: Debt, amount: Decimal) -> tuple[str, str]:
    """(outcome, flag) of a payment to this debt, from what it still owed."""
    owed = debt.amount - debt.paid
    if debt.status == Debt.Status.CANCELLED or owed <= 0:
        return Payment.Outcome.OVER, Flag.CLOSED
    if amount == owed:
        return Payment.Outcome.EXACT, ""
    if amount < owed:
        return Payment.Outcome.PARTIAL, Flag.PARTIAL
    return Payment.Outcome.OVER, Flag.OVER


def _paid_before_lapse(debt: Debt, paid_at: datetime) -> bool:
    """A payment to an installment that its plan's lapse cancelled, made before the lapse (and
    confirmed after it): the person paid in time, so it must count."""
    plan = debt.plan
    return (
        debt.kind == Debt.Kind.INSTALLMENT
        and debt.status == Debt.Status.CANCELLED
        and plan is not None
        and plan.lapsed_at is not None
        and paid_at < plan.lapsed_at
    )


def _lapsed_balance(plan: Plan) -> Debt | None:
    """The balance of a lapsed plan, locked (its plan is locked already: same order as
    everywhere else)."""
    return (
        Debt.objects.select_for_update(of=("self",))
        .select_related("person", "notification__person", "notification__procedure")
        .filter(plan=plan, kind=Debt.Kind.LAPSED_BALANCE)
        .first()
    )


def _status_after(debt: Debt) -> str:
    if debt.status == Debt.Status.CANCELLED:
        return debt.status
    if debt.paid == debt.amount:
        return Debt.Status.PAID
    if debt.paid > debt.amount:
        return Debt.Status.OVERPAID
    return Debt.Status.PARTIAL if debt.paid > 0 else Debt.Status.PENDING


def concept(debt: Debt) -> str:
    if debt.kind == Debt.Kind.INSTALLMENT and debt.plan is not None:
        return _("Cuota %(n)d de %(total)d del fraccionamiento") % {
            "n": debt.number,
            "total": debt.plan.installments,
        }
    return str(debt.get_kind_display())


def _receipt(payment: Payment, debt: Debt, used: Debt) -> ReceiptContent:
    """`debt` is the debt credited; `used`, the one whose payment code was paid."""
    notification = debt.notification
    person = notification.person
    with translation.override(settings.LANGUAGE_CODE):
        what = concept(debt)
    redirected = used.pk != debt.pk
    return ReceiptContent(
        receipt_id=str(payment.public_id),
        person_name=person.full_name,
        document_label=person.document_label,
        procedure_number=notification.procedure.number,
        notification_subject=notification.subject,
        concept=what,
        payment_code=used.payment_code,
        debt_amount=debt.amount,
        due_date=debt.due_date,
        amount=payment.amount,
        paid_at=payment.paid_at,
        source=payment.source,
        transaction_id=payment.transaction_id,
        received_at=payment.received_at,
        outcome=payment.outcome,
        flag=payment.flag,
        owed_before=payment.owed_before,
        paid_total=debt.paid,
        applied_to=debt.payment_code if redirected else "",
        installment=used.number if redirected else None,
        lapsed_at=used.plan.lapsed_at if redirected and used.plan is not None else None,
    )


def _lock_debt(**lookup: Any) -> Debt | None:
    """Lock a debt for a change, and its plan first when it has one: every function here
    locks a plan before its debts (lapse_plan() too), so two of them never wait for each
    other in a circle."""
    plan_id = Debt.objects.filter(**lookup).values_list("plan_id", flat=True).first()
    plan = (
        Plan.objects.select_for_update().filter(pk=plan_id).first() if plan_id is not None else None
    )
    debt = (
        Debt.objects.select_for_update(of=("self",))
        .select_related("person", "notification__person", "notification__procedure")
        .filter(**lookup)
        .first()
    )
    if debt is not None and plan is not None:
        debt.plan = plan  # the locked row, not a copy read before the lock
    return debt


def _refresh_plan(plan: Plan, today: date, cutoff: date | None = None) -> None:
    """A plan's missed count, and whether it is now paid in full. `cutoff`: missed_before(today),
    when the caller has it."""
    installments = Debt.objects.filter(plan=plan, kind=Debt.Kind.INSTALLMENT)
    plan.missed = installments.filter(
        status__in=Debt.OPEN, due_date__lt=cutoff or missed_before(today)
    ).count()
    fields = ["missed"]
    if plan.status == Plan.Status.ACTIVE and not installments.filter(status__in=Debt.OPEN).exists():
        plan.status = Plan.Status.COMPLETED
        fields.append("status")
    plan.save(update_fields=fields)


def apply_payment(
    transaction_id: str,
    payment_code: str,
    amount: Any,
    paid_at: datetime,
    source: str,
    *,
    test: bool = False,
) -> PaymentResult:
    """Apply a payment confirmation from a payment system (`source`, a channel id).

    Idempotent by the channel and its transaction id: the same confirmation again returns the
    first payment (created=False); the same pair with other data is refused ("conflict"). The
    pair's uniqueness is a database constraint, so two copies arriving at once count once. A
    partial payment, an overpayment, or a payment to a debt already paid or cancelled is
    recorded as such and flagged for an officer. A payment made before a plan lapsed, to an
    installment the lapse cancelled, is credited to the plan's lapsed balance. Raises
    PaymentRefused, never anything a caller has to guess about. `test`: a test API key, which
    may pay only the debts of test mailboxes; anyone else pays only real debts. The other
    kind's code is, to the caller, an unknown code, before any check reads it. The payment's
    `is_test` is its debt's (a test mailbox's debt), so test transaction ids are apart from
    the real ones, the rule migration 0002 applied to the payments it found.
    """
    data = clean_payment(transaction_id, payment_code, amount, paid_at, source, test=test)
    earlier = _earlier(data)
    if earlier is not None:
        return _same_or_conflict(earlier, data)
    written: list[str] = []
    try:
        with transaction.atomic():
            used = _lock_debt(payment_code=data.payment_code, **_payable(data.test))
            if used is None:
                raise PaymentRefused("unknown_code", {"payment_code": [_(UNKNOWN_CODE)]})
            earlier = _earlier(data)  # applied while we waited for the lock
            if earlier is not None:
                return _same_or_conflict(earlier, data)
            debt = used  # the debt credited
            before_lapse = _paid_before_lapse(used, data.paid_at)
            if before_lapse:
                assert used.plan is not None
                debt = _lapsed_balance(used.plan) or used
            outcome, flag = _outcome(debt, data.amount)
            if before_lapse and debt is used:  # no lapsed balance to credit it to
                flag = Flag.PRE_LAPSE
            now = timezone.now()
            # A test payment exactly when its debt is a test mailbox's: the caller's kind, since
            # _payable() let it find only that kind of debt (a lapsed balance is the same
            # person's).
            is_test = debt.person.is_test
            assert is_test == data.test, "a debt of the other kind was found"
            payment = Payment(
                source=data.source,
                transaction_id=data.transaction_id,
                is_test=is_test,
                debt=debt,
                redirected_from=used if debt is not used else None,
                amount=data.amount,
                paid_at=data.paid_at,
                received_at=now,
                outcome=outcome,
                owed_before=debt.balance,
                flag=flag,
            )
            payment.save()  # the unique (source, transaction id) is enforced here
            debt.paid += data.amount
            debt.status = _status_after(debt)
            if flag:
                debt.flagged, debt.flag_reason = True, flag
            debt.save(update_fields=["paid", "status", "flagged", "flag_reason"])
            pdf = render_receipt(_receipt(payment, debt, used))
            payment.receipt.save("receipt.pdf", ContentFile(pdf), save=False)
            written.append(str(payment.receipt.name))
            payment.receipt_sha256 = hashlib.sha256(pdf).hexdigest()
            payment.save(update_fields=["receipt", "receipt_sha256"])
            if debt.plan is not None and debt.kind == Debt.Kind.INSTALLMENT:
                _refresh_plan(debt.plan, timezone.localdate(now))
            record_about(
                debt.notification,
                EventKind.PAYMENT_RECEIVED,
                actor=None,
                data={
                    "transaction_id": payment.transaction_id,
                    "source": payment.source,
                    "payment_code": used.payment_code,
                    "debt": used.kind,
                    "installment": used.number,
                    "amount": canonical(payment.amount),
                    "paid_at": chain.timestamp(payment.paid_at),
                    # An installment paid by the last day it could be paid, however late the
                    # confirmation: it was never missed, whatever overdue entry came before.
                    "paid_on_time": timezone.localdate(payment.paid_at)
                    <= payable_until(used.due_date)
                    if used.kind == Debt.Kind.INSTALLMENT
                    else None,
                    "outcome": outcome,
                    "flag": flag,
                    # What follows is about the debt credited: `used`, or the lapsed balance.
                    "credited_to": None
                    if debt is used
                    else {
                        "debt": debt.kind,
                        "payment_code": debt.payment_code,
                        "reason": "paid_before_lapse",
                        "plan_lapsed_at": chain.timestamp(used.plan.lapsed_at)
                        if used.plan is not None and used.plan.lapsed_at is not None
                        else None,
                    },
                    "owed_before": canonical(payment.owed_before),
                    "debt_status": debt.status,
                    "plan_status": debt.plan.status if debt.plan is not None else None,
                    "receipt_sha256": payment.receipt_sha256,
                },
            )
    except IntegrityError:
        _delete_files(written)
        earlier = _earlier(data)
        if earlier is None:
            raise
        return _same_or_conflict(earlier, data)
    except BaseException:
        _delete_files(written)
        raise
    return PaymentResult(payment, created=True)


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def review_payment(payment: Payment, *, actor: User, note: str) -> Payment:
    """An officer with payments.resolve_payment marks a flagged payment as reviewed, with a
    note saying what was done (refund, applied to another debt...). Recorded as evidence."""
    note = (note or "").strip()
    if not note:
        raise PaymentRefused("invalid", {"note": [_("Escriba qué se hizo con este pago.")]})
    if len(note) > 2000:
        raise PaymentRefused("invalid", {"note": [_("La nota tiene más de 2000 caracteres.")]})
    with transaction.atomic():
        debt = (
            Debt.objects.select_for_update(of=("self",))
            .select_related("notification__person", "notification__procedure")
            .get(pk=payment.debt_id)
        )
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if not locked.needs_review:
            return locked
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = actor
        locked.review_note = note
        locked.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
        pending = (
            debt.payments.exclude(flag="").filter(reviewed_at__isnull=True).order_by("-id").first()
        )
        debt.flagged = pending is not None
        debt.flag_reason = pending.flag if pending is not None else ""
        debt.save(update_fields=["flagged", "flag_reason"])
        record_about(
            debt.notification,
            EventKind.PAYMENT_REVIEWED,
            actor=actor,
            data={
                "transaction_id": locked.transaction_id,
                "payment_code": debt.payment_code,
                "flag": locked.flag,
                "note": note,
            },
        )
    return locked


# --- Time passing -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What one step of payments_daily did: how many it changed, and the ids (of debts or
    plans) it could not handle. Each failure is logged with its traceback and rolled back; the
    step goes on with the next one, and the next run tries the failed ones again."""

    done: int = 0
    failed: list[int] = field(default_factory=list)


def flag_overdue(now: datetime | None = None) -> Tally:
    """Flag, once each, the installments of active plans past their due date and not paid in
    full, once they count as missed: past the day they could be paid on time (which counts
    whole, Lima time) and the grace for the payment's confirmation (payments.due), so that
    no `installment_overdue` entry says "sin pagar" of one paid on its last day at night."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = missed_before(today)  # one calendar read for the whole run
    due = Debt.objects.filter(
        kind=Debt.Kind.INSTALLMENT,
        status__in=Debt.OPEN,
        due_date__lt=cutoff,
        overdue_at__isnull=True,
        plan__status=Plan.Status.ACTIVE,
    )
    tally = Tally()
    for pk in list(due.values_list("pk", flat=True)):
        try:
            if _flag_one(pk, now, today, cutoff):
                tally.done += 1
        except Exception:
            log.exception("payments_daily: could not flag installment (debt %s) as overdue", pk)
            tally.failed.append(pk)
    return tally


def _flag_one(pk: int, now: datetime, today: date, cutoff: date) -> bool:
    with transaction.atomic():
        debt = _lock_debt(pk=pk)
        if (
            debt is None
            or debt.overdue_at is not None
            or not debt.is_overdue(today, cutoff=cutoff)
            or debt.plan is None
        ):
            return False
        debt.overdue_at = now
        debt.save(update_fields=["overdue_at"])
        _refresh_plan(debt.plan, today, cutoff)
        record_about(
            debt.notification,
            EventKind.INSTALLMENT_OVERDUE,
            actor=None,
            data={
                "installment": debt.number,
                "payment_code": debt.payment_code,
                "due_date": debt.due_date.isoformat(),
                "amount": canonical(debt.amount),
                "paid": canonical(debt.paid),
                "missed": debt.plan.missed,
            },
        )
    return True


def _balance_due(now: datetime) -> date:
    """The day the balance of a lapsed plan becomes payable: the day the lapse notification
    takes effect under the agency's policy (under an opening-based policy, the day it is
    deemed served if not opened first), so nothing falls due before it is notified."""
    policy = current_policy()
    effect = effect_of(policy, now, None, now)
    return effect.effective_date or pending_until(policy, now) or timezone.localdate(now)


def _lapse_input(
    plan: Plan, balance: Decimal, code: str, pdf: bytes, due: date
) -> NotificationInput:
    n = plan.notification
    with translation.override(settings.LANGUAGE_CODE):
        basis = _(
            "Pérdida del fraccionamiento por cuotas vencidas e impagas, conforme a sus términos "
            "de aprobación (%(basis)s)."
        ) % {"basis": n.details.get("legal_basis", "")}
        subject = _("Pérdida del fraccionamiento: saldo exigible de %(balance)s") % {
            "balance": soles(balance)
        }
        body = "\n\n".join(
            [
                _(
                    "Se declara **perdido** el fraccionamiento aprobado mediante la notificación "
                    "«%(subject)s» (trámite %(number)s), porque %(missed)d cuotas vencieron sin "
                    "pagarse por completo."
                )
                % {"subject": n.subject, "number": n.procedure.number, "missed": plan.missed},
                _(
                    "Las cuotas pendientes quedan anuladas. El saldo de **%(balance)s** es "
                    "exigible desde el %(date)s y se paga con el código de pago **%(code)s**."
                )
                % {"balance": soles(balance), "date": due.strftime("%d/%m/%Y"), "code": code},
                settings.BUZON_PAYMENT_INSTRUCTIONS,
                _("El detalle figura en el documento adjunto."),
            ]
        )
    return NotificationInput(
        procedure_number=n.procedure.number,
        unit=n.unit.code,
        kind=Kind.FINE,
        subject=subject[:200],
        body=body,
        attachments=[AttachmentInput("perdida-de-fraccionamiento.pdf", pdf)],
        idempotency_key=f"payments:lapse:{n.public_id}",
        details={
            "amount": canonical(balance),
            "legal_basis": basis[:500],
            "due_date": due.isoformat(),
            "lapsed_plan": str(n.public_id),
            "payment_code": code,
        },
    )


def lapse_plan(plan_id: int, now: datetime | None = None) -> Plan | None:
    """Declare a plan lapsed once settings.BUZON_INSTALLMENT_MISSED_TO_LAPSE installments are
    past due and unpaid: its open installments are cancelled, and a new notification (with a
    PDF letter) makes the remaining balance fall due as one debt with its own payment code,
    payable from the day that notification takes effect.
    All of it in one transaction. Returns None when the plan does not lapse (any more)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    threshold = settings.BUZON_INSTALLMENT_MISSED_TO_LAPSE
    with transaction.atomic():
        plan = (
            Plan.objects.select_for_update(of=("self",))
            .select_related("notification__procedure", "notification__unit", "notification__person")
            .get(pk=plan_id)
        )
        if plan.status != Plan.Status.ACTIVE:
            return None
        open_debts = list(
            Debt.objects.select_for_update()
            .filter(plan=plan, kind=Debt.Kind.INSTALLMENT, status__in=Debt.OPEN)
            .order_by("number")
        )
        cutoff = missed_before(today)
        missed = [d for d in open_debts if d.due_date < cutoff]
        if len(missed) < threshold:
            return None
        balance = sum((d.amount - d.paid for d in open_debts), Decimal("0.00"))
        for debt in open_debts:
            debt.status = Debt.Status.CANCELLED
        Debt.objects.bulk_update(open_debts, ["status"])
        plan.status = Plan.Status.LAPSED
        plan.lapsed_at = now
        plan.missed = len(missed)
        plan.save(update_fields=["status", "lapsed_at", "missed"])
        code = codes.new_codes(1)[0]
        due = _balance_due(now)
        n = plan.notification
        pdf = render_lapse_letter(
            LapseContent(
                person_name=n.person.full_name,
                document_label=n.person.document_label,
                procedure_number=n.procedure.number,
                authority=n.authority,
                plan_subject=n.subject,
                plan_deposited_at=n.deposited_at,
                total=plan.total,
                installments=plan.installments,
                cancelled=[
                    (d.number or 0, d.due_date, d.amount - d.paid, d.due_date < cutoff)
                    for d in open_debts
                ],
                missed=len(missed),
                threshold=threshold,
                balance=balance,
                payment_code=code,
                due_date=due,
                legal_basis=n.details.get("legal_basis", ""),
                issued_at=now,
            )
        )
        deposit = deposit_notification(_lapse_input(plan, balance, code, pdf, due), actor=None)
        plan.lapse_notification = deposit.notification
        plan.save(update_fields=["lapse_notification"])
        record_about(
            n,
            EventKind.PLAN_LAPSED,
            actor=None,
            data={
                "missed": [d.number for d in missed],
                "threshold": threshold,
                "cancelled": [d.payment_code for d in open_debts],
                "balance": canonical(balance),
                "balance_payment_code": code,
                "notification": str(deposit.notification.public_id),
            },
        )
    return plan


def lapse_due_plans(now: datetime | None = None) -> Tally:
    """Lapse every active plan with enough missed installments. Idempotent. A plan that cannot
    be lapsed (its lapse notification refused, a storage error...) is logged and skipped: the
    others still lapse, and it is tried again on the next run."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = (
        Plan.objects.filter(status=Plan.Status.ACTIVE)
        .annotate(
            late=Count(
                "debts",
                filter=Q(
                    debts__kind=Debt.Kind.INSTALLMENT,
                    debts__status__in=Debt.OPEN,
                    debts__due_date__lt=missed_before(today),
                ),
            )
        )
        .filter(late__gte=settings.BUZON_INSTALLMENT_MISSED_TO_LAPSE)
    )
    tally = Tally()
    for pk in list(candidates.values_list("pk", flat=True)):
        try:
            if lapse_plan(pk, now) is not None:
                tally.done += 1
        except Exception:
            log.exception("payments_daily: could not lapse plan %s", pk)
            tally.failed.append(pk)
    return tally
