"""Creating and delivering alerts. A failed alert never changes a notification's legal state."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from alerts.messages import email_message, sms_text
from alerts.models import Alert, Channel, Purpose, Status
from alerts.reminders import due, reminded_date, why_not_due
from alerts.sms import get_backend
from evidence.actions import record_about
from evidence.models import EventKind
from mailboxes.models import Notification

log = logging.getLogger(__name__)


def _rows_for(
    notification: Notification, purpose: str, about_date: date | None = None
) -> list[Alert]:
    """Alerts go only to verified contacts (people/models.Person)."""
    person = notification.person
    contacts = []
    if person.email and person.email_verified:
        contacts.append((Channel.EMAIL, person.email))
    if person.mobile_phone and person.mobile_phone_verified:
        contacts.append((Channel.SMS, person.mobile_phone))
    return [
        Alert(
            notification=notification,
            channel=channel,
            purpose=purpose,
            about_date=about_date,
            destination=destination,
        )
        for channel, destination in contacts
    ]


def create_deposit_alerts(notifications: Iterable[Notification]) -> list[Alert]:
    """The alert rows of a deposit; call inside the deposit's transaction."""
    rows = [row for n in notifications for row in _rows_for(n, Purpose.DEPOSITED)]
    return Alert.objects.bulk_create(rows)


def create_reminders(notification: Notification, purpose: str) -> list[Alert]:
    """The reminder rows not created yet for the date the notification has now (a rerun, or a
    race, creates nothing more; a date that moved gets reminders of its own)."""
    about_date = reminded_date(notification, purpose)
    existing = set(
        Alert.objects.filter(
            notification=notification, purpose=purpose, about_date=about_date
        ).values_list("channel", flat=True)
    )
    rows = [r for r in _rows_for(notification, purpose, about_date) if r.channel not in existing]
    if not rows:
        return []
    try:
        with transaction.atomic():
            return Alert.objects.bulk_create(rows)
    except IntegrityError:
        return []


def enqueue_alerts(alerts: Iterable[Alert]) -> None:
    """Queue the sending once the rows are committed (at once, outside a transaction)."""
    from alerts.tasks import send_alert

    ids = [a.pk for a in alerts if a.pk]

    def enqueue() -> None:
        for alert_id in ids:
            try:
                send_alert.enqueue(alert_id)
            except Exception:  # the deposit stands; requeue_stale_alerts() picks it up
                log.exception("could not queue alert %s", alert_id)

    if ids:
        transaction.on_commit(enqueue)


def requeue_stale_alerts(now: datetime, older_than: timedelta = timedelta(hours=1)) -> int:
    """Queue again the alerts whose job was lost (the queue was down, a worker died): pending
    and not attempted for `older_than` beyond their backoff, or claimed by a job whose lease
    ran out (its attempt counts as one that failed). A job queued twice does no harm:
    deliver() claims the alert before sending, so only one of them sends it."""
    stale = stale_rows(
        Alert, now, older_than, lambda alert_id: _record(alert_id, INTERRUPTED, expired_by=now)
    )
    enqueue_alerts(stale)
    return len(stale)


def _send(alert: Alert) -> None:
    notification = alert.notification
    if alert.channel == Channel.EMAIL:
        subject, body = email_message(notification, alert.purpose, alert.about_date)
        EmailMessage(subject, body, to=[alert.destination]).send(fail_silently=False)
    else:
        text = sms_text(notification, alert.purpose, alert.about_date)
        get_backend().send(alert.destination, text)


def record_attempt(row: Any, error: str) -> EventKind:
    """Count one sending attempt on an alert-like row (an Alert, or an installment reminder)
    and set its status: sent, pending for a retry, or failed after the last attempt; the claim
    ends and the attempt's time is kept for the backoff. Returns the evidence kind to record.
    The caller holds the row's lock and saves it."""
    row.attempts += 1
    row.claimed_until = None
    row.last_attempt_at = timezone.now()
    if not error:
        row.status = Status.SENT
        row.sent_at = timezone.now()
        row.last_error = ""
        return EventKind.ALERT_SENT
    row.last_error = error
    final = row.attempts >= settings.BUZON_ALERT_MAX_ATTEMPTS
    row.status = Status.FAILED if final else Status.PENDING
    return EventKind.ALERT_FAILED if final else EventKind.ALERT_ATTEMPTED


def backoff(attempts: int, *, base_seconds: int | None = None) -> timedelta:
    """How long to wait after `attempts` attempts: base, 2 x base, 4 x base... (none before
    the first). The alerts' setting is the base unless one is given."""
    base = settings.BUZON_ALERT_RETRY_BASE_SECONDS if base_seconds is None else base_seconds
    return timedelta(seconds=base * 2 ** (attempts - 1)) if attempts else timedelta(0)


def retry_later(task: Any, row_id: int, attempts: int, *, base_seconds: int | None = None) -> None:
    """Queue `task` again with exponential backoff (immediately where the backend cannot
    defer). The first retry waits `base_seconds` (the alerts' setting by default)."""
    delay = backoff(attempts, base_seconds=base_seconds)
    if delay and task.get_backend().supports_defer:
        task.using(run_after=timezone.now() + delay).enqueue(row_id)
    else:
        task.enqueue(row_id)


# Far longer than any attempt can take (EMAIL_TIMEOUT, the SMS provider's 10 seconds): a claim
# still held after it belongs to a worker that died.
CLAIM_LEASE = timedelta(minutes=10)
INTERRUPTED = "interrupted: the job that claimed it stopped before recording the outcome"


def was_interrupted(error: object) -> bool:
    """Whether an attempt's recorded error says its job stopped mid-attempt: the message may
    or may not have reached the person, so it must not be reported as undelivered."""
    return isinstance(error, str) and error.startswith("interrupted:")


def claim(model: type[Any], row_id: int) -> bool:
    """Take a pending alert-like row (an Alert, or an installment reminder) for one attempt.
    One UPDATE decides: however many jobs for it run at once, exactly one of them changes the
    row, and only that one sends."""
    claimed = model.objects.filter(pk=row_id, status=Status.PENDING).update(
        status=Status.SENDING, claimed_until=timezone.now() + CLAIM_LEASE
    )
    return bool(claimed == 1)


def record_claimed(
    model: type[Any],
    row_id: int,
    error: str,
    evidence: Callable[[Any, EventKind, str], None],
    *,
    expired_by: datetime | None = None,
) -> Any:
    """Record the outcome of the attempt that holds the claim on an alert-like row: sent,
    pending for a retry, or failed after the last attempt, with its evidence entry (written by
    `evidence(row, kind, error)` in the same transaction). With `expired_by`, only a claim
    whose lease ran out by then (an attempt that never reported back). Returns the row."""
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=row_id)
        if locked.status != Status.SENDING:
            return locked
        if expired_by and locked.claimed_until and locked.claimed_until >= expired_by:
            return locked
        kind = record_attempt(locked, error)
        locked.save()
        evidence(locked, kind, error)
    return locked


def skip_claimed(model: type[Any], row_id: int, reason: str) -> str:
    """Close a claimed alert-like row unsent: what it would remind of no longer holds. Nothing
    reached the person, so there is no evidence entry; the entry that made it moot (the acuse,
    the answer, the payment, the lapse...) is already in the log."""
    model.objects.filter(pk=row_id, status=Status.SENDING).update(
        status=Status.SKIPPED, claimed_until=None, last_error=f"skipped: {reason}"[:500]
    )
    log.info("%s %s skipped: %s", model._meta.model_name, row_id, reason)
    return Status.SKIPPED


def stale_rows(
    model: type[Any], now: datetime, older_than: timedelta, take_back: Callable[[int], Any]
) -> list[Any]:
    """The alert-like rows whose job was lost, to queue again: each claim whose lease ran out
    by `now`, taken back by `take_back(row_id)` (which records the interrupted attempt and
    returns the row), if that leaves it pending for a retry; and each pending row not attempted
    for `older_than` beyond its backoff."""
    interrupted = [
        row
        for row_id in model.objects.filter(
            status=Status.SENDING, claimed_until__lt=now
        ).values_list("pk", flat=True)
        if (row := take_back(row_id)).status == Status.PENDING
    ]
    taken_back = {row.pk for row in interrupted}
    waiting = [
        row
        for row in model.objects.filter(
            status=Status.PENDING, created_at__lt=now - older_than
        ).only("pk", "attempts", "created_at", "last_attempt_at")
        if row.pk not in taken_back
        and (row.last_attempt_at or row.created_at) < now - older_than - backoff(row.attempts)
    ]
    return interrupted + waiting


def attempt_claimed(
    rows: QuerySet[Any],
    row_id: int,
    *,
    why_not: Callable[[Any], str],
    send: Callable[[Any], None],
    record: Callable[[int, str], Any],
    task: Any,
) -> str:
    """One attempt to send an alert-like row (an Alert, an installment reminder): claim it,
    skip it if what it reminds of no longer holds (`why_not` gives the reason), send it
    outside any transaction, record the outcome (`record`, with its evidence), and queue a
    retry with backoff while attempts remain. Returns its status; a row another job claimed
    first, or already closed, is left alone."""
    model = rows.model
    if not claim(model, row_id):
        return str(model.objects.values_list("status", flat=True).get(pk=row_id))
    row = rows.get(pk=row_id)
    reason = why_not(row)
    if reason:
        return skip_claimed(model, row_id, reason)
    error = ""
    try:
        send(row)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    recorded = record(row_id, error)
    if recorded.status == Status.PENDING:
        retry_later(task, row_id, recorded.attempts)
    return str(recorded.status)


def _record(alert_id: int, error: str, *, expired_by: datetime | None = None) -> Alert:
    """Record the outcome of the attempt that holds the claim on an alert, with its evidence."""

    def evidence(alert: Alert, kind: EventKind, error: str) -> None:
        record_about(
            alert.notification,
            kind,
            actor=None,
            data={
                "channel": alert.channel,
                "purpose": alert.purpose,
                "destination": alert.destination,
                "attempt": alert.attempts,
                "error": error,
                "final": alert.status != Status.PENDING,
            }
            # What a reminder said: the deadline or deemed date it reminded of.
            | ({"about_date": alert.about_date.isoformat()} if alert.about_date else {}),
        )

    recorded: Alert = record_claimed(Alert, alert_id, error, evidence, expired_by=expired_by)
    return recorded


def deliver(alert_id: int) -> str:
    """One attempt to send an alert. Idempotent: a sent, failed or skipped alert is left
    alone, and so is one another job is sending (it claimed the alert first). A reminder whose
    purpose no longer holds (alerts/reminders.py) is skipped, at every attempt, retries too.

    The network call happens outside any transaction, so a slow mail server never holds a
    database lock; the outcome is then recorded with its evidence.
    """
    from alerts.tasks import send_alert

    return attempt_claimed(
        Alert.objects.select_related(
            "notification__person", "notification__unit", "notification__procedure"
        ),
        alert_id,
        why_not=lambda alert: why_not_due(alert, timezone.localdate()),
        send=_send,
        record=_record,
        task=send_alert,
    )


def send_reminders(today: date) -> int:
    """Reminders, one business day ahead: a response deadline that ends by the next business
    day, and an unopened notification that will be deemed served by then (a range, not a date:
    under the calendar-days policy the term can end on a weekend). The rules are in
    alerts/reminders.py. Each is created once per notification, channel and date reminded of
    (the unique constraint on Alert makes reruns harmless)."""
    from legaltime.calendar import next_business_day

    tomorrow = next_business_day(today)
    created: list[Alert] = []
    for purpose in (Purpose.DEADLINE_SOON, Purpose.UNOPENED_SOON):
        for notification in due(purpose, today, tomorrow).select_related("person"):
            created += create_reminders(notification, purpose)
    fresh = [a for a in created if a.pk]
    enqueue_alerts(fresh)
    return len(fresh)
