"""Reminders created before a reminder carried its date get the date they reminded of."""

from datetime import date, datetime
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from alerts.actions import send_reminders
from alerts.models import Alert, Purpose
from legaltime.actions import declare_non_working_day, withdraw_non_working_day
from tests import factories

LIMA = ZoneInfo("America/Lima")
BEFORE, AFTER = "0003_skip_reminders_that_no_longer_apply", "0004_reminder_per_date"


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=LIMA)


def migrate(name: str) -> None:
    MigrationExecutor(connection).migrate([("alerts", name)])


def test_existing_reminders_get_the_date_they_reminded_of(reference_data: Any, settings: Any):
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with mock.patch("alerts.tasks.send_alert"):
        # An unopened notification, deemed served on 10 December, reminded on the 7th.
        settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
        with time_machine.travel(at(2026, 11, 30), tick=False):
            unopened = factories.deposit(registration)
        with time_machine.travel(at(2026, 12, 7, 8), tick=False):
            send_reminders(date(2026, 12, 7))
        # A correction whose deadline, the 16th, was reminded on the 14th, then moved to the
        # 15th when the decree that made the 15th a non-working day was withdrawn.
        settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
        declared, _ = declare_non_working_day(
            date(2026, 12, 15), description="Día no laborable", legal_basis="D.S. 1", actor=None
        )
        with time_machine.travel(at(2026, 12, 11), tick=False):
            moved = factories.deposit(registration, kind="correction")
        with time_machine.travel(at(2026, 12, 14, 8), tick=False):
            send_reminders(date(2026, 12, 14))
        with time_machine.travel(at(2026, 12, 14, 11), tick=False):
            withdraw_non_working_day(declared, actor=None)
    try:
        migrate(BEFORE)  # as the rows were before reminders carried a date
        migrate(AFTER)
        assert sorted(Alert.objects.values_list("notification", "purpose", "about_date")) == [
            (unopened.pk, Purpose.DEPOSITED, None),
            (unopened.pk, Purpose.UNOPENED_SOON, date(2026, 12, 10)),
            (moved.pk, Purpose.DEADLINE_SOON, date(2026, 12, 16)),
            (moved.pk, Purpose.DEPOSITED, None),
        ]
        # So the moved deadline gets its reminder on the afternoon's run.
        with (
            mock.patch("alerts.tasks.send_alert"),
            time_machine.travel(at(2026, 12, 14, 14), tick=False),
        ):
            assert send_reminders(date(2026, 12, 14)) == 1
        assert Alert.objects.filter(notification=moved, about_date=date(2026, 12, 15)).exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
