"""Review 6: the casilla's Pendientes on a lapsed plan's balance."""

from datetime import timedelta

import pytest

from payments.actions import flag_overdue, lapse_due_plans
from payments.models import Debt, Plan
from payments.tests.helpers import lima, open_it, person_client, plan

pytestmark = pytest.mark.django_db


def test_pendientes_does_not_call_a_lapsed_balance_overdue_the_day_after_it_becomes_payable(
    clock,
):
    """The balance's due date is when it becomes payable ("exigible desde", docs/payments.md);
    the notification page says "Exigible desde el …". The casilla's Pendientes must not turn
    that into a payment deadline ("Pagar hasta el …") and then show the balance as "Vencida"
    the day after."""
    approved = plan()  # 1000.00 in 3, due 15/12/2026, 15/01/2027, 15/02/2027
    open_it(approved)
    # Installment 2 (payable until Friday 15/01) is missed once the grace for a payment's
    # confirmation (2 business days) has passed: from Wednesday 20/01.
    clock.move_to(lima(2027, 1, 20, 8, 0))
    flag_overdue()
    assert lapse_due_plans().done == 1
    letter = Plan.objects.get().lapse_notification
    assert letter is not None
    open_it(letter)
    balance = Debt.objects.get(notification=letter)
    payable = balance.due_date.strftime("%d/%m/%Y")
    after = balance.due_date + timedelta(days=1)
    clock.move_to(lima(after.year, after.month, after.day, 9, 0))
    client = person_client(letter)
    page = client.get("/buzon/pendientes/").content.decode()
    assert balance.payment_code in page
    assert f"Exigible desde el {payable}" in page
    assert f"Pagar hasta el {payable}" not in page
    assert "Vencida" not in page
    # Nor on the lapse notification's own page.
    detail = client.get(f"/buzon/notificaciones/{letter.public_id}/").content.decode()
    assert f"Exigible desde el <strong>{payable}</strong>" in detail
    assert "Vencida" not in detail
    assert "cuota vencida" not in detail


def test_the_officers_desk_does_not_call_a_lapsed_balance_overdue_either(clock):
    """The same rule on the officers' side (Debt.is_overdue()): the list, its "Vencidas"
    filter and the debt's page show the balance as payable since its date, not overdue, while
    a missed installment of the same plan is."""
    from django.test import Client

    from backoffice.groups import NOTIFIERS
    from mailboxes.models import IssuingUnit
    from tests import factories

    approved = plan()
    open_it(approved)
    clock.move_to(lima(2027, 1, 20, 8, 0))
    flag_overdue()
    assert lapse_due_plans().done == 1
    balance = Debt.objects.get(kind=Debt.Kind.LAPSED_BALANCE)
    after = balance.due_date + timedelta(days=3)
    clock.move_to(lima(after.year, after.month, after.day, 9, 0))
    officer = factories.officer("", NOTIFIERS)
    IssuingUnit.objects.get(code="SFM").members.add(officer)
    desk = Client()
    desk.force_login(officer)

    def row(page: str, code: str) -> str:
        return next(r.split("</tr>")[0] for r in page.split("<tr>") if code in r)

    listed = desk.get("/oficina/pagos/").content.decode()
    assert "Vencida" not in row(listed, balance.payment_code)
    overdue = desk.get("/oficina/pagos/?filtro=vencidas").content.decode()
    assert balance.payment_code not in overdue
    page = desk.get(f"/oficina/pagos/{balance.payment_code}/").content.decode()
    assert "Exigible desde" in page
    assert "Fecha límite de pago" not in page
    # The plan's table says the same of the balance's date: payable from, not a due date.
    assert f"exigible desde el {balance.due_date:%d/%m/%Y}" in page
    assert 'badge--bad">Vencida' not in page
