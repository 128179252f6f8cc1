"""When a reminder makes sense: one rule per purpose.

The hourly run reads a rule to create a reminder (send_reminders()), and deliver() reads the
same rule again, holding the alert's claim, before each attempt: a reminder whose notification
was opened, whose deadline an answer stopped, or whose date passed since it was queued is
skipped, not sent (like an installment reminder: payments/reminders.py). A reminder is about
one date (Alert.about_date): when a decree moves the date, the reminder of the old one is
skipped, and the new date gets its own reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from alerts.models import Alert, Purpose
from mailboxes.models import Notification


@dataclass(frozen=True)
class Rule:
    # The notification's date the reminder is about.
    field: str
    # What must still be true of the notification, each with what it means when it is not.
    holds: tuple[tuple[Q, str], ...]
    # Whether it may still go out on that date itself.
    on_the_day: bool


RULES: dict[str, Rule] = {
    # A deadline runs to the end of its day; an answer filed stops it (art. 136.3).
    Purpose.DEADLINE_SOON: Rule(
        field="deadline_date",
        holds=(
            (Q(deadline_stopped_at__isnull=True), "an answer stopped the deadline"),
            (Q(deadline_expired_at__isnull=True), "the deadline expired"),
        ),
        on_the_day=True,
    ),
    # On the date itself an unopened notification is deemed served (or rejected) by settle().
    Purpose.UNOPENED_SOON: Rule(
        field="pending_until",
        holds=(
            (Q(opened_at__isnull=True), "the notification was opened"),
            (Q(effective_date__isnull=True), "the notification already took effect"),
        ),
        on_the_day=False,
    ),
}


def due(purpose: str, today: date, tomorrow: date) -> QuerySet[Notification]:
    """The notifications a reminder of `purpose` is due for on `today`: the date falls after
    today and by `tomorrow` (the next business day), and the rule holds."""
    rule = RULES[purpose]
    condition = Q(**{f"{rule.field}__gt": today, f"{rule.field}__lte": tomorrow})
    for holds, _meaning in rule.holds:
        condition &= holds
    return Notification.objects.filter(condition)


def reminded_date(notification: Notification, purpose: str) -> date | None:
    """The date a reminder of `purpose` is about, as the notification has it now (none for a
    deposit alert)."""
    rule = RULES.get(purpose)
    value: date | None = getattr(notification, rule.field) if rule else None
    return value


def why_not_due(alert: Alert, today: date) -> str:
    """Why the reminder no longer makes sense on `today`, or "" if it still does (and for an
    alert that is not a reminder: a deposit alert always goes out)."""
    rule = RULES.get(alert.purpose)
    if rule is None:
        return ""
    notification = Notification.objects.filter(pk=alert.notification_id)
    for holds, meaning in rule.holds:
        if not notification.filter(holds).exists():
            return meaning
    reminded = notification.values_list(rule.field, flat=True).get()
    if reminded is None:
        return f"the notification has no {rule.field} any more"
    if alert.about_date is not None and reminded != alert.about_date:
        # Its date moved (a decree): a reminder of the new date is created on its own day.
        return f"its date moved from {alert.about_date.isoformat()} to {reminded.isoformat()}"
    if reminded < today or (reminded == today and not rule.on_the_day):
        return f"its date passed ({reminded.isoformat()})"
    return ""
