"""Review 6: the casilla's Pendientes on a lapsed plan's balance."""

import pytest

from payments.actions import flag_overdue, lapse_due_plans
from payments.models import Debt, Plan
from payments.tests.helpers import lima, open_it, person_client, plan

pytestmark = pytest.mark.django_db


def test_pendientes_does_not_call_a_lapsed_balance_overdue_the_day_after_it_becomes_payable(
    clock,
):
    """The balance's due date is when it becomes payable ("exigible desde", docs/payments.md);
    the notification page says "Exigible desde el 18/01/2027". The casilla's Pendientes must
    not turn that into a payment deadline ("Pagar hasta el 18/01/2027") and then show the
    balance as "Vencida" on 19/01."""
    approved = plan()  # 1000.00 in 3, due 15/12/2026, 15/01/2027, 15/02/2027
    open_it(approved)
    clock.move_to(lima(2027, 1, 16, 8, 0))
    flag_overdue()
    assert lapse_due_plans().done == 1
    letter = Plan.objects.get().lapse_notification
    assert letter is not None
    open_it(letter)
    balance = Debt.objects.get(notification=letter)
    assert balance.due_date.isoformat() == "2027-01-18"
    clock.move_to(lima(2027, 1, 19, 9, 0))
    client = person_client(letter)
    page = client.get("/buzon/pendientes/").content.decode()
    assert balance.payment_code in page
    assert "Pagar hasta el 18/01/2027" not in page
    assert "Vencida" not in page
