"""Time passing: reminders before due dates, overdue installments, plans that lapse."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from alerts.models import Alert
from evidence.models import EventKind
from evidence.verify import verify
from mailboxes.actions import RequestMeta, open_notification
from mailboxes.models import Notification
from payments.actions import flag_overdue, lapse_due_plans
from payments.models import Debt, Flag, Plan, Reminder
from payments.reminders import queue_reminders
from payments.tests.helpers import lima, pay, plan
from tests import factories

# The overdue and lapse rules on exact days, without the grace for confirmations (conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_confirmation_grace")]


@pytest.fixture
def person():
    registration = factories.register()
    factories.verified(registration, email="maria@example.org")
    return registration


@pytest.fixture
def approved(person):
    """1000.00 in 3 installments due 15/12/2026, 15/01/2027 and 15/02/2027."""
    notification = plan(person)
    mail.outbox.clear()
    return notification


def installment(notification, number):
    return Debt.objects.get(plan__notification=notification, number=number)


def test_a_reminder_goes_out_days_before_each_due_date_once(
    approved, clock, django_capture_on_commit_callbacks
):
    clock.move_to(lima(2026, 12, 11, 8, 0))
    assert queue_reminders() == 0  # four days before: not yet (BUZON_INSTALLMENT_REMINDER_DAYS=3)
    clock.move_to(lima(2026, 12, 12, 8, 0))
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_reminders() == 1
    (message,) = mail.outbox
    assert message.to == ["maria@example.org"]
    assert "vence el 15/12/2026" in message.body
    assert "333.34" not in message.body  # no amounts or codes in an email
    assert installment(approved, 1).payment_code not in message.body
    reminder = Reminder.objects.get()
    assert reminder.status == "sent"
    sent = approved.events.get(kind=EventKind.ALERT_SENT)
    assert sent.data["purpose"] == "installment_due"
    assert sent.data["installment"] == 1
    for day in (12, 13, 14, 15):
        clock.move_to(lima(2026, 12, day, 8, 0))
        with django_capture_on_commit_callbacks(execute=True):
            assert queue_reminders() == 0
    assert len(mail.outbox) == 1


def test_no_reminder_for_an_installment_already_paid(approved, clock):
    pay(installment(approved, 2))
    clock.move_to(lima(2027, 1, 13, 8, 0))
    assert queue_reminders() == 0


def test_an_overdue_installment_is_flagged_once(approved, clock):
    clock.move_to(lima(2026, 12, 15, 23, 0))
    assert flag_overdue().done == 0  # the due date counts whole
    clock.move_to(lima(2026, 12, 16, 0, 30))
    assert flag_overdue().done == 1
    assert flag_overdue().done == 0
    first = installment(approved, 1)
    assert first.overdue_at is not None
    (event,) = approved.events.filter(kind=EventKind.INSTALLMENT_OVERDUE)
    assert event.data == {
        "installment": 1,
        "payment_code": first.payment_code,
        "due_date": "2026-12-15",
        "amount": "333.34",
        "paid": "0.00",
        "missed": 1,
    }
    assert Plan.objects.get().missed == 1


def test_paying_late_cures_the_missed_installment(approved, clock):
    clock.move_to(lima(2026, 12, 16, 8, 0))
    flag_overdue()
    clock.move_to(lima(2026, 12, 20, 8, 0))
    pay(installment(approved, 1))
    assert Plan.objects.get().missed == 0
    clock.move_to(lima(2027, 1, 16, 8, 0))
    assert flag_overdue().done == 1
    assert lapse_due_plans().done == 0  # one missed; the plan lapses with two
    assert Plan.objects.get().status == Plan.Status.ACTIVE


def test_after_two_missed_installments_the_plan_lapses_and_the_balance_falls_due(
    approved, clock, person
):
    clock.move_to(lima(2027, 1, 10, 8, 0))
    pay(installment(approved, 2), "100.00")
    clock.move_to(lima(2027, 1, 16, 8, 0))
    out = StringIO()
    call_command("payments_daily", stdout=out)
    assert "flagged 2 overdue installments, lapsed 1 plans" in out.getvalue()
    the_plan = Plan.objects.get()
    assert the_plan.status == Plan.Status.LAPSED
    assert the_plan.missed == 2
    assert set(the_plan.debts.filter(kind="installment").values_list("status", flat=True)) == {
        Debt.Status.CANCELLED
    }
    letter = the_plan.lapse_notification
    assert letter.kind == "fine"
    assert letter.person == approved.person
    assert letter.procedure == approved.procedure
    balance = Debt.objects.get(notification=letter)
    assert balance.kind == Debt.Kind.LAPSED_BALANCE
    assert balance.amount == Decimal("900.00")  # 333.34 + 233.33 + 333.33
    # Payable from the day the letter takes effect (Saturday 16/01: the next business day).
    assert balance.due_date.isoformat() == "2027-01-18"
    assert balance.due_date == (letter.effective_date or letter.pending_until)
    assert letter.details["payment_code"] == balance.payment_code
    assert letter.details["lapsed_plan"] == str(approved.public_id)
    assert balance.payment_code in letter.body_markdown
    pdf = letter.attachments.get().file.read()
    text = factories.pdf_text(pdf)
    assert "PÉRDIDA DEL FRACCIONAMIENTO" in text
    assert "S/ 900.00" in text
    assert balance.payment_code in text
    (event,) = approved.events.filter(kind=EventKind.PLAN_LAPSED)
    assert event.data["balance"] == "900.00"
    assert event.data["missed"] == [1, 2]
    assert event.data["notification"] == str(letter.public_id)
    assert Alert.objects.filter(notification=letter, purpose="deposited").count() == 1
    # Running again changes nothing.
    out = StringIO()
    call_command("payments_daily", stdout=out)
    assert "flagged 0 overdue installments, lapsed 0 plans" in out.getvalue()
    assert Notification.objects.count() == 2
    assert verify(files=True, workers=1).ok


def test_a_payment_to_a_cancelled_installment_is_flagged(approved, clock):
    clock.move_to(lima(2027, 1, 16, 8, 0))
    flag_overdue()
    assert lapse_due_plans().done == 1
    third = installment(approved, 3)
    result = pay(third, "333.33")
    assert result.payment.flag == Flag.CLOSED
    third.refresh_from_db()
    assert third.status == Debt.Status.CANCELLED
    assert third.flagged


def test_paying_every_installment_completes_the_plan(approved):
    for number in (1, 2, 3):
        pay(installment(approved, number))
    assert Plan.objects.get().status == Plan.Status.COMPLETED


def test_lapses_and_reminders_wait_for_the_daytime(approved, clock):
    clock.move_to(lima(2027, 1, 16, 2, 0))
    out = StringIO()
    call_command("payments_daily", stdout=out)
    assert "flagged 2 overdue installments, lapsed 0 plans, queued 0 reminders" in out.getvalue()
    clock.move_to(lima(2027, 1, 16, 8, 0))
    out = StringIO()
    call_command("payments_daily", stdout=out)
    assert "flagged 0 overdue installments, lapsed 1 plans" in out.getvalue()


def test_a_due_date_on_a_non_working_day_is_carried_over_to_the_next_business_day(
    person, clock, client
):
    # Due Sat 30 Jan, Sun 28 Feb and Tue 30 Mar 2027 (art. 145: payable until Mon 1 Feb and
    # Mon 1 Mar respectively).
    notification = plan(person, first_due_date="2027-01-30")
    clock.move_to(lima(2027, 1, 31, 8, 0))  # Sunday
    assert flag_overdue().done == 0
    user = notification.person.user
    assert user is not None
    open_notification(notification, reader=user, meta=RequestMeta(None, ""))
    client.force_login(user)
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "(día no hábil: puede pagar hasta el 01/02/2027)" in page
    assert "Vencida" not in page
    clock.move_to(lima(2027, 2, 1, 23, 0))  # Monday, the day it is carried over to
    assert flag_overdue().done == 0
    clock.move_to(lima(2027, 2, 2, 0, 30))
    assert flag_overdue().done == 1
    client.force_login(user)  # a new session: the last one timed out
    assert (
        "Vencida" in client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    )
    # With the second installment also unpaid, the plan may not lapse while it is payable.
    clock.move_to(lima(2027, 3, 1, 8, 0))  # Mon 1 Mar
    assert flag_overdue().done == 0
    assert lapse_due_plans().done == 0
    assert Plan.objects.get().status == Plan.Status.ACTIVE
    clock.move_to(lima(2027, 3, 2, 8, 0))
    assert flag_overdue().done == 1
    assert lapse_due_plans().done == 1
