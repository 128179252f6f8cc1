"""Review 6: a plan must not lapse over an installment that was paid on time."""

import pytest

from payments.actions import flag_overdue, lapse_due_plans
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
