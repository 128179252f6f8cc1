"""Review 6: a plan must not lapse over an installment that was paid on time."""

from datetime import date, timedelta

import pytest

from evidence.models import EventKind
from legaltime.calendar import BusinessCalendar
from payments.actions import flag_overdue, lapse_due_plans
from payments.due import missed_before, payable_until
from payments.models import Debt, Plan
from payments.tests.helpers import lima, pay, plan

pytestmark = pytest.mark.django_db


def test_an_installment_paid_on_its_due_day_but_confirmed_next_morning_does_not_lapse_the_plan(
    clock,
):
    """docs/payments.md: a plan lapses when 2 installments are past due *and not paid in full*
    at the same time. Here only installment 1 was ever missed: installment 2 was paid at the
    bank at 21:00 on its due day (Friday 15/01/2027); the bank's confirmation arrives at 09:00
    the next day, after the 08:00 run of payments_daily."""
    approved = plan()  # 1000.00 in 3, due 15/12/2026, 15/01/2027, 15/02/2027
    second = Debt.objects.get(plan__notification=approved, number=2)
    clock.move_to(lima(2027, 1, 16, 8, 0))
    flag_overdue()
    lapse_due_plans()
    clock.move_to(lima(2027, 1, 16, 9, 0))
    pay(second, "333.33", paid_at=lima(2027, 1, 15, 21, 0))
    the_plan = Plan.objects.get()
    assert the_plan.status == Plan.Status.ACTIVE, (
        "the plan lapsed although installment 2 was paid on time: only one installment was missed"
    )
    third = Debt.objects.get(plan__notification=approved, number=3)
    assert third.status == Debt.Status.PENDING  # still payable with its own code


def test_no_overdue_entry_says_unpaid_of_an_installment_paid_on_its_last_day(clock):
    """The `installment_overdue` entry ("Cuota 2 vencida el 15/01/2027 sin pagar") waits for the
    same grace: written at 08:00 on Saturday it would be false by 09:00, and the log keeps it."""
    approved = plan()
    second = Debt.objects.get(plan__notification=approved, number=2)
    clock.move_to(lima(2027, 1, 16, 8, 0))
    flag_overdue()
    overdue = approved.events.filter(kind=EventKind.INSTALLMENT_OVERDUE)
    assert [e.data["installment"] for e in overdue] == [1]
    clock.move_to(lima(2027, 1, 18, 9, 0))  # Monday: the bank confirms
    pay(second, "333.33", paid_at=lima(2027, 1, 15, 21, 0))
    clock.move_to(lima(2027, 1, 20, 8, 0))
    flag_overdue()
    lapse_due_plans()
    assert [e.data["installment"] for e in overdue.all()] == [1]
    assert Plan.objects.get().status == Plan.Status.ACTIVE


def test_an_installment_left_unpaid_counts_as_missed_once_the_grace_is_over(clock):
    approved = plan()
    clock.move_to(lima(2027, 1, 19, 8, 0))  # Tuesday: the second business day of the grace
    flag_overdue()
    assert lapse_due_plans().done == 0
    assert Plan.objects.get().status == Plan.Status.ACTIVE
    clock.move_to(lima(2027, 1, 20, 8, 0))  # Wednesday
    flag_overdue()
    assert lapse_due_plans().done == 1
    the_plan = Plan.objects.get()
    assert the_plan.status == Plan.Status.LAPSED
    assert the_plan.missed == 2
    overdue = approved.events.filter(kind=EventKind.INSTALLMENT_OVERDUE)
    assert sorted(e.data["installment"] for e in overdue) == [1, 2]


def test_a_confirmation_later_than_the_grace_still_shows_the_installment_was_paid_on_time(clock):
    """Past the grace the installment is flagged overdue (the agency knew of no payment); the
    bank's late confirmation shows it was paid on its last day: it no longer counts as missed,
    and the payment's entry says it was paid on time."""
    approved = plan()
    first = Debt.objects.get(plan__notification=approved, number=1)
    clock.move_to(lima(2026, 12, 21, 8, 0))  # 15/12 was a Tuesday: missed from Friday 18/12
    flag_overdue()
    assert Plan.objects.get().missed == 1
    clock.move_to(lima(2026, 12, 21, 10, 0))
    pay(first, paid_at=lima(2026, 12, 15, 22, 30))
    assert Plan.objects.get().missed == 0
    received = approved.events.get(kind=EventKind.PAYMENT_RECEIVED)
    assert received.data["paid_on_time"] is True


@pytest.mark.parametrize("grace", [0, 1, 2, 5])
def test_missed_before_is_the_grace_counted_in_business_days_after_the_payable_day(settings, grace):
    """missed_before() against its definition: due on `d`, missed on `today` once
    add_business_days(payable_until(d), grace) < today."""
    settings.BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS = grace
    calendar = BusinessCalendar()
    start = date(2026, 12, 20)  # across Christmas, New Year and weekends
    for offset in range(30):
        today = start + timedelta(days=offset)
        cutoff = missed_before(today, calendar)
        for back in range(1, 20):
            due = today - timedelta(days=back)
            missed = calendar.add_business_days(payable_until(due, calendar), grace) < today
            assert (due < cutoff) == missed, (today, due)
