from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from alerts.actions import send_reminders
from alerts.models import Alert, Purpose
from alerts.testing import run_queued_tasks
from evidence.models import EventKind
from mailboxes.actions import RequestMeta, open_notification, settle
from tests import factories

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")
MONDAY_30_NOV = datetime(2026, 11, 30, 10, 0, tzinfo=LIMA)


def at(year, month, day, hour, minute):
    return datetime(year, month, day, hour, minute, tzinfo=LIMA)


def deposit_on_monday(**overrides):
    registration = factories.register()
    factories.verified(registration)
    with time_machine.travel(MONDAY_30_NOV, tick=False):
        notification = factories.deposit(registration, **overrides)
    return registration, notification


def test_five_business_days_unopened_take_effect_after_the_december_holidays(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    _registration, notification = deposit_on_monday(kind="correction")
    assert notification.effective_date is None  # waits for an opening or the term
    # 5 business days: 1, 2, 3, 4 and 7 December; 8 and 9 are holidays: effect on the 10th.
    assert send_reminders(date(2026, 12, 4)) == 0
    assert send_reminders(date(2026, 12, 7)) == 1
    assert Alert.objects.filter(purpose=Purpose.UNOPENED_SOON).count() == 1
    assert send_reminders(date(2026, 12, 7)) == 0  # once
    assert settle(at(2026, 12, 9, 23, 0)) == 0
    assert settle(at(2026, 12, 10, 9, 0)) == 1
    notification.refresh_from_db()
    assert notification.effective_date == date(2026, 12, 10)
    assert notification.state == "deemed"
    # Correction request: 2 business days from the 10th -> 11 and 14 December.
    assert notification.deadline_date == date(2026, 12, 14)
    assert settle(at(2026, 12, 11, 9, 0)) == 0  # idempotent


def test_an_opening_before_the_term_is_the_effect(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    registration, notification = deposit_on_monday()
    with time_machine.travel(at(2026, 12, 2, 11, 0), tick=False):
        open_notification(
            notification, reader=registration.procedure.person.user, meta=RequestMeta(None, "")
        )
    notification.refresh_from_db()
    assert notification.effective_date == date(2026, 12, 2)
    assert notification.state == "opened"
    assert notification.events.filter(kind=EventKind.NOTIFICATION_EFFECTIVE).count() == 1
    assert settle(at(2026, 12, 10, 9, 0)) == 0


def test_ten_calendar_days_unopened_counts_as_rejected(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_calendar_days:10"
    _registration, notification = deposit_on_monday()
    assert settle(at(2026, 12, 10, 9, 59)) == 0
    assert settle(at(2026, 12, 10, 10, 0)) == 1
    notification.refresh_from_db()
    assert notification.state == "rejected"
    assert notification.effective_date == date(2026, 12, 10)
    assert notification.events.filter(kind=EventKind.NOTIFICATION_DEEMED_REJECTED).count() == 1


def test_a_deadline_reminder_goes_out_the_business_day_before(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    registration = factories.register()
    factories.verified(registration)
    with time_machine.travel(at(2026, 12, 4, 10, 0), tick=False):  # a Friday
        notification = factories.deposit(registration, kind="correction")
    assert notification.deadline_date == date(2026, 12, 10)  # 7 Dec, then 10 Dec
    assert send_reminders(date(2026, 12, 4)) == 0
    assert send_reminders(date(2026, 12, 7)) == 1
    alert = Alert.objects.get(purpose=Purpose.DEADLINE_SOON)
    assert alert.notification == notification


def test_the_command_settles_reminds_and_requeues(settings, capsys):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    _registration, notification = deposit_on_monday()
    # The deposit's on-commit enqueue never ran here (the test's transaction never commits),
    # just as if the queue had been down: the alert is still pending.
    assert notification.alerts.get().status == "pending"
    with time_machine.travel(at(2026, 12, 10, 9, 0), tick=False):
        call_command("settle_notifications")

    output = capsys.readouterr().out
    assert output.startswith(
        "settled 1 notifications, recorded 0 expired deadlines, queued 0 reminders, "
        "requeued 1 stale"
    )
    notification.refresh_from_db()
    assert notification.state == "deemed"


def test_a_queue_outage_after_commit_does_not_break_the_deposit(
    django_capture_on_commit_callbacks,
):
    registration = factories.register()
    factories.verified(registration)
    down = mock.patch("alerts.tasks.send_alert")
    with down as task, django_capture_on_commit_callbacks(execute=True):
        task.enqueue.side_effect = ConnectionError("redis is down")
        notification = factories.deposit(registration)
    task.enqueue.assert_called_once()
    alert = notification.alerts.get()
    assert alert.status == "pending"  # kept for requeue_stale_alerts()


def test_a_calendar_term_ending_on_a_weekend_still_gets_its_reminder(
    settings, django_capture_on_commit_callbacks
):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_calendar_days:10"
    registration = factories.register()
    factories.verified(registration)
    # Deposited Wed 2 Dec 2026 at 10:00: ten days later is Saturday 12 December.
    with time_machine.travel(at(2026, 12, 2, 10, 0), tick=False):
        factories.deposit(registration)
    assert send_reminders(date(2026, 12, 10)) == 0
    # Friday: the next business day is Monday, so a Saturday term is within reach. (The
    # reminder is sent on that Friday: before each attempt it checks that its date is ahead.)
    with time_machine.travel(at(2026, 12, 11, 9, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert send_reminders(date(2026, 12, 11)) == 1
        run_queued_tasks()  # on Redis the alert waits in the queue
    from django.core import mail

    body = mail.outbox[-1].body
    assert "el 12/12/2026 se considerará rechazada" in body


def test_an_opening_after_the_calendar_term_is_recorded_as_a_rejection(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_calendar_days:10"
    registration, notification = deposit_on_monday()
    with time_machine.travel(at(2026, 12, 11, 9, 0), tick=False):  # settle never ran
        open_notification(
            notification, reader=registration.procedure.person.user, meta=RequestMeta(None, "")
        )
    notification.refresh_from_db()
    assert notification.state == "rejected"
    assert notification.effective_date == date(2026, 12, 10)
    kinds = set(notification.events.values_list("kind", flat=True))
    assert EventKind.NOTIFICATION_DEEMED_REJECTED in kinds
    assert EventKind.NOTIFICATION_EFFECTIVE not in kinds


def test_reminders_wait_for_the_daytime(settings, capsys):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    deposit_on_monday()  # deemed served on 10 December; the reminder is due on the 7th
    with time_machine.travel(at(2026, 12, 7, 3, 0), tick=False):
        call_command("settle_notifications")
    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):
        call_command("settle_notifications")
    night, morning = capsys.readouterr().out.splitlines()
    assert "queued 0 reminders" in night
    assert "queued 1 reminders" in morning
