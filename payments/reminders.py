"""Reminders before each installment's due date: a row first, then a task that sends it.

The same pattern as the alerts app (alerts/actions.py): only verified contacts, no amounts and
no payment codes in the message, sending outside any transaction, every attempt recorded as
evidence (alert_sent, alert_attempted, alert_failed, with purpose "installment_due"), retries
with backoff up to BUZON_ALERT_MAX_ATTEMPTS. A failed reminder never changes a debt. Like an
alert, a reminder is claimed before it is sent (alerts.actions.claim()), so of several jobs for
it only one sends. Before each attempt (retries included), holding the claim, the installment
must still be open and its plan active: otherwise the reminder is marked skipped and nothing is
sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.actions import (
    INTERRUPTED,
    attempt_claimed,
    record_claimed,
    stale_rows,
)
from alerts.models import Channel
from alerts.sms import get_backend
from evidence.actions import record_about
from evidence.models import EventKind
from payments.models import Debt, Plan, Reminder
from payments.models import ReminderStatus as Status

log = logging.getLogger(__name__)

PURPOSE = "installment_due"


def _rows_for(debt: Debt) -> list[Reminder]:
    person = debt.person
    rows = []
    if person.email and person.email_verified:
        rows.append(Reminder(debt=debt, channel=Channel.EMAIL, destination=person.email))
    if person.mobile_phone and person.mobile_phone_verified:
        rows.append(Reminder(debt=debt, channel=Channel.SMS, destination=person.mobile_phone))
    return rows


def queue_reminders(now: datetime | None = None) -> int:
    """Create the reminder rows not created yet and queue their sending. Idempotent: one
    reminder per installment and channel, ever (a unique constraint)."""
    today = timezone.localdate(now or timezone.now())
    horizon = today + timedelta(days=settings.BUZON_INSTALLMENT_REMINDER_DAYS)
    due = (
        Debt.objects.filter(
            kind=Debt.Kind.INSTALLMENT,
            status__in=Debt.OPEN,
            plan__status=Plan.Status.ACTIVE,
            due_date__gte=today,
            due_date__lte=horizon,
        )
        .select_related("person")
        .prefetch_related("reminders")
    )
    created: list[Reminder] = []
    for debt in due:
        existing = {r.channel for r in debt.reminders.all()}
        rows = [r for r in _rows_for(debt) if r.channel not in existing]
        if not rows:
            continue
        try:
            with transaction.atomic():
                created += Reminder.objects.bulk_create(rows)
        except IntegrityError:
            continue  # another run created them a moment ago
    enqueue(created)
    return len(created)


def enqueue(reminders: Iterable[Reminder]) -> None:
    from payments.tasks import send_reminder

    ids = [r.pk for r in reminders if r.pk]

    def send() -> None:
        for reminder_id in ids:
            try:
                send_reminder.enqueue(reminder_id)
            except Exception:  # requeue_stale() picks it up
                log.exception("could not queue installment reminder %s", reminder_id)

    if ids:
        transaction.on_commit(send)


def requeue_stale(now: datetime, older_than: timedelta = timedelta(hours=1)) -> int:
    """Queue again the reminders whose job was lost (the queue was down, a worker died):
    pending and not attempted for `older_than` beyond their backoff, or claimed by a job whose
    lease ran out (its attempt counts as one that failed). A job queued twice does no harm:
    deliver() claims the reminder before sending, so only one of them sends it."""
    stale = stale_rows(
        Reminder, now, older_than, lambda pk: _record(pk, INTERRUPTED, expired_by=now)
    )
    enqueue(stale)
    return len(stale)


def email_message(debt: Debt) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        notification = debt.notification
        subject = _("Una cuota de su fraccionamiento vence pronto")
        body = "\n\n".join(
            [
                _("Hola, %(name)s:") % {"name": debt.person.given_names},
                _("La cuota N.° %(n)d de su fraccionamiento con %(unit)s vence el %(date)s.")
                % {
                    "n": debt.number or 0,
                    "unit": notification.unit.name,
                    "date": debt.due_date.strftime("%d/%m/%Y"),
                },
                _(
                    "Para ver el monto y el código de pago, ingrese a %(url)s con su tipo y "
                    "número de documento y su contraseña."
                )
                % {"url": f"{settings.PUBLIC_BASE_URL}/buzon/ingresar/"},
                _(
                    "Por su seguridad, este mensaje no incluye montos ni códigos de pago. No "
                    "responda a este correo."
                ),
                settings.AGENCY["name"],
            ]
        )
    return subject, body


def sms_text(debt: Debt) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "%(agency)s: una cuota de su fraccionamiento vence el %(date)s. Vea el monto y el "
            "código de pago en %(url)s/buzon/ingresar/"
        ) % {
            "agency": settings.AGENCY["short_name"],
            "date": debt.due_date.strftime("%d/%m/%Y"),
            "url": settings.PUBLIC_BASE_URL,
        }


def _send(reminder: Reminder) -> None:
    if reminder.channel == Channel.EMAIL:
        subject, body = email_message(reminder.debt)
        EmailMessage(subject, body, to=[reminder.destination]).send(fail_silently=False)
    else:
        get_backend().send(reminder.destination, sms_text(reminder.debt))


def _why_not_due(reminder: Reminder) -> str:
    """Why a claimed reminder should not be sent now: its installment is no longer open, or its
    plan no longer active (paid, completed or lapsed since it was queued); "" if it is due."""
    debt = reminder.debt
    plan = debt.plan
    if debt.is_open() and plan is not None and plan.status == Plan.Status.ACTIVE:
        return ""
    return f"installment {debt.status}, plan {plan.status if plan else 'none'}"


def _record(reminder_id: int, error: str, *, expired_by: datetime | None = None) -> Reminder:
    """Record the outcome of the attempt that holds the claim on a reminder, with its
    evidence (about the plan's notification)."""

    def evidence(reminder: Reminder, kind: EventKind, error: str) -> None:
        debt = reminder.debt
        record_about(
            debt.notification,
            kind,
            actor=None,
            data={
                "channel": reminder.channel,
                "purpose": PURPOSE,
                "installment": debt.number,
                "due_date": debt.due_date.isoformat(),
                "destination": reminder.destination,
                "attempt": reminder.attempts,
                "error": error,
                "final": reminder.status != Status.PENDING,
            },
        )

    recorded: Reminder = record_claimed(
        Reminder, reminder_id, error, evidence, expired_by=expired_by
    )
    return recorded


def deliver(reminder_id: int) -> str:
    """One attempt to send a reminder. Idempotent: a sent, failed or skipped reminder is left
    alone, and so is one another job is sending (it claimed the reminder first). One whose
    installment is no longer open, or whose plan is no longer active, is skipped unsent.

    The network call happens outside any transaction, so a slow mail server never holds a
    database lock; the outcome is then recorded with its evidence.
    """
    from payments.tasks import send_reminder

    return attempt_claimed(
        Reminder.objects.select_related(
            "debt__plan", "debt__person", "debt__notification__unit", "debt__notification__person"
        ),
        reminder_id,
        why_not=_why_not_due,
        send=_send,
        record=_record,
        task=send_reminder,
    )
