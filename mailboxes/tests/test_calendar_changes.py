from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from evidence.models import EventKind
from evidence.verify import verify
from legaltime.actions import declare_non_working_day, withdraw_non_working_day
from legaltime.models import NonWorkingDay
from tests import factories

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")


@pytest.fixture
def correction_due_thursday_10_december():
    registration = factories.register()
    with time_machine.travel(datetime(2026, 12, 4, 10, 0, tzinfo=LIMA), tick=False):
        notification = factories.deposit(registration, kind="correction")
    assert notification.deadline_date == date(2026, 12, 10)  # Mon 7, then Thu 10
    return notification


def test_a_decreed_day_moves_the_deadlines_that_cross_it(correction_due_thursday_10_december):
    notification = correction_due_thursday_10_december
    officer = factories.officer("root")
    _day, moved = declare_non_working_day(
        date(2026, 12, 7),
        description="Día no laborable para el sector público",
        legal_basis="Decreto Supremo N.° 099-2026-PCM",
        actor=officer,
    )
    assert moved == 1
    notification.refresh_from_db()
    assert notification.effective_date == date(2026, 12, 4)  # already happened: stays
    assert notification.deadline_date == date(2026, 12, 11)  # Thu 10, Fri 11
    event = notification.events.get(kind=EventKind.DATES_RECALCULATED)
    assert event.actor == officer
    assert event.data["deadline_date"] == ["2026-12-10", "2026-12-11"]
    assert "099-2026-PCM" in event.data["reason"]
    # Withdrawn: the deadline goes back, with its own event.
    assert withdraw_non_working_day(NonWorkingDay.objects.get(), actor=officer) == 1
    notification.refresh_from_db()
    assert notification.deadline_date == date(2026, 12, 10)
    report = verify(files=False)  # every row still matches what the log recorded
    assert report.ok, report.problems


def test_a_decree_for_a_day_after_every_deadline_moves_nothing(
    correction_due_thursday_10_december,
):
    _day, moved = declare_non_working_day(
        date(2026, 12, 30), description="Fin de año", legal_basis="D.S. 100-2026-PCM", actor=None
    )
    assert moved == 0


def test_the_admin_goes_through_the_action(client, correction_due_thursday_10_december):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="root-password-123")
    client.force_login(root)
    response = client.post(
        "/admin/legaltime/nonworkingday/add/",
        {"date": "2026-12-07", "description": "Día no laborable", "legal_basis": "D.S. 99"},
        follow=True,
    )
    assert "Se recalcularon las fechas de 1 notificación." in response.content.decode()
    notification = correction_due_thursday_10_december
    notification.refresh_from_db()
    assert notification.deadline_date == date(2026, 12, 11)


def test_a_decreed_day_moves_the_deemed_date_of_an_unopened_notification(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    registration = factories.register()
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=LIMA), tick=False):
        notification = factories.deposit(registration)
    assert notification.pending_until == date(2026, 12, 10)  # after 1,2,3,4,7; 8-9 holidays
    declare_non_working_day(
        date(2026, 12, 3), description="No laborable", legal_basis="D.S. 98", actor=None
    )
    notification.refresh_from_db()
    # 1, 2, 4, 7, 10 December are the five business days: deemed served on the 11th.
    assert notification.pending_until == date(2026, 12, 11)
    assert notification.effective_date is None


def test_a_deemed_day_decreed_non_working_makes_the_notification_pending_again(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    from mailboxes.actions import settle

    registration = factories.register()
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=LIMA), tick=False):
        notification = factories.deposit(registration, kind="correction")
    # 3, 4, 5, 6 and 9 March: deemed served on Tuesday the 10th.
    assert settle(datetime(2026, 3, 10, 1, 0, tzinfo=LIMA)) == 1
    notification.refresh_from_db()
    assert (notification.effective_date, notification.state) == (date(2026, 3, 10), "deemed")
    assert notification.deadline_date == date(2026, 3, 12)  # 11 and 12 March
    # That morning the 10th is declared non-working: the person is not served on it.
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=LIMA), tick=False):
        declare_non_working_day(
            date(2026, 3, 10), description="No laborable", legal_basis="D.S. 30-2026", actor=None
        )
    notification.refresh_from_db()
    assert (notification.effective_date, notification.deadline_date) == (None, None)
    assert (notification.pending_until, notification.state) == (date(2026, 3, 11), "deposited")
    event = notification.events.get(kind=EventKind.DATES_RECALCULATED)
    assert event.data["effective_date"] == ["2026-03-10", "None"]
    assert event.data["pending_until"] == ["2026-03-10", "2026-03-11"]
    assert settle(datetime(2026, 3, 11, 1, 0, tzinfo=LIMA)) == 1
    notification.refresh_from_db()
    assert (notification.effective_date, notification.state) == (date(2026, 3, 11), "deemed")
    assert notification.deadline_date == date(2026, 3, 13)  # 12 and 13 March
    report = verify(files=False)  # the state and rule replayed from the log match the row
    assert report.ok, report.problems
