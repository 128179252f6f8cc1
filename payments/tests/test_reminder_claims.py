"""One installment reminder, one email: however many jobs were queued for it, and whatever
happened to them (the same claim as the alerts app's, alerts/tests/test_claims.py)."""

from unittest import mock

import pytest
from django.utils import timezone

from alerts.testing import run_queued_tasks
from alerts.tests.test_claims import WorkerDied, slow_smtp
from evidence.models import EventKind
from payments.models import Debt, Reminder
from payments.models import ReminderStatus as Status
from payments.reminders import deliver, queue_reminders, requeue_stale
from payments.tests.helpers import lima, pay, plan
from tests import factories
from tests.concurrency import at_once

# The deposit's alert job and the reminder's job never run (as if they sat in the queue).
alerts_queued = mock.patch("alerts.tasks.send_alert")
queued = mock.patch("payments.tasks.send_reminder")


def queued_reminder(clock):
    """Installment 1 of a plan (due 15/12/2026) and its email reminder, queued on the 12th
    and still pending: its job has not run."""
    registration = factories.register()
    factories.verified(registration, email="maria@example.org")
    with alerts_queued:
        notification = plan(registration)
    clock.move_to(lima(2026, 12, 12, 8, 0))
    with queued:
        assert queue_reminders() == 1
    return notification, Reminder.objects.get()


def reminder_entries(notification):
    entries = notification.events.filter(
        kind__in=[EventKind.ALERT_ATTEMPTED, EventKind.ALERT_SENT, EventKind.ALERT_FAILED]
    ).order_by("id")
    return [
        (e.kind, e.data["attempt"], e.data["error"][:11])
        for e in entries
        if e.data["purpose"] == "installment_due"
    ]


def test_two_jobs_for_one_reminder_send_one_email(reference_data, settings, clock):
    notification, reminder = queued_reminder(clock)
    with slow_smtp(settings) as inbox:
        # Two clocks, or a queue more than an hour behind, queue the same reminder again, twice.
        clock.move_to(lima(2026, 12, 12, 10, 0))
        with queued as task:
            requeue_stale(timezone.now())
            requeue_stale(timezone.now())
        assert task.enqueue.call_count == 2
        # Two workers take the jobs at the same moment.
        outcomes = at_once(lambda: deliver(reminder.pk), 2)
    assert inbox.recipients == [["maria@example.org"]]
    assert sorted(outcomes) == [Status.SENDING, Status.SENT]  # the other job left it alone
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Status.SENT, 1)
    assert reminder_entries(notification) == [(EventKind.ALERT_SENT, 1, "")]


@pytest.mark.django_db
def test_a_reminder_whose_worker_died_mid_attempt_is_sent_by_the_clock(
    smtp, clock, django_capture_on_commit_callbacks
):
    notification, reminder = queued_reminder(clock)
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        deliver(reminder.pk)
    # A second job for it does not send while the claim may still be alive, nor does the clock.
    assert deliver(reminder.pk) == Status.SENDING
    clock.move_to(lima(2026, 12, 12, 8, 5))
    assert requeue_stale(timezone.now()) == 0
    assert smtp.messages == []
    # ...but the clock's next runs take it back: it is sent once, and the lost attempt counts.
    clock.move_to(lima(2026, 12, 12, 9, 0))
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale(timezone.now()) == 1
    run_queued_tasks()
    assert requeue_stale(timezone.now()) == 0
    assert [m["To"] for m in smtp.messages] == ["maria@example.org"]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Status.SENT, 2)
    assert reminder_entries(notification) == [
        (EventKind.ALERT_ATTEMPTED, 1, "interrupted"),
        (EventKind.ALERT_SENT, 2, ""),
    ]


@pytest.mark.django_db
def test_a_claimed_reminder_whose_installment_was_paid_meanwhile_is_skipped(smtp, clock):
    notification, reminder = queued_reminder(clock)
    pay(Debt.objects.get(plan__notification=notification, number=1))
    assert deliver(reminder.pk) == Status.SKIPPED
    assert deliver(reminder.pk) == Status.SKIPPED  # a second job leaves it alone
    assert smtp.messages == []
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.claimed_until) == (
        Status.SKIPPED,
        0,
        None,
    )
    assert reminder.last_error.startswith("skipped: installment paid")
    assert reminder_entries(notification) == []
