"""What the person and the officers see."""

import pytest
from django.test import Client

from backoffice.groups import NOTIFIERS, SUPERVISORS
from mailboxes.models import IssuingUnit
from payments.models import Debt, Payment, Plan
from payments.queries import due_for
from payments.tests.helpers import fine, lima, open_it, pay, person_client, plan
from tests import factories

# The overdue and lapse rules on exact days, without the grace for confirmations (conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_confirmation_grace")]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def detail_url(notification):
    return f"/buzon/notificaciones/{notification.public_id}/"


def test_the_person_sees_what_to_pay_once_the_fine_is_opened():
    notification = fine()
    debt = Debt.objects.get()
    client = person_client(notification)
    before = page(client, detail_url(notification))
    assert debt.payment_code not in before  # part of the content: only after the acuse
    assert client.get(f"/buzon/pagos/{debt.payment_code}/").status_code == 302
    open_it(notification)
    html = page(client, detail_url(notification))
    assert "Multa por pagar" in html
    assert "S/ 350.00" in html
    assert "30/12/2026" in html
    assert f'<p class="paycode" aria-labelledby="code-{debt.payment_code}" translate="no">' in html
    assert "Págalo.pe" in html  # BUZON_PAYMENT_INSTRUCTIONS
    assert "Aún no hay pagos." in html


def test_the_person_sees_what_was_paid_and_downloads_the_receipt():
    notification = fine()
    open_it(notification)
    debt = Debt.objects.get()
    payment = pay(debt, "150.00").payment
    client = person_client(notification)
    html = page(client, detail_url(notification))
    assert "S/ 200.00" in html  # still owed
    assert "De S/ 350.00; ya pagó S/ 150.00." in html
    receipt_url = f"/buzon/pagos/{debt.payment_code}/constancia/{payment.public_id}.pdf"
    assert receipt_url in html
    response = client.get(receipt_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == payment.receipt.read()  # type: ignore[attr-defined]
    debt_page = page(client, f"/buzon/pagos/{debt.payment_code}/")
    assert receipt_url in debt_page
    pay(debt, "200.00")
    assert "Pagado: S/ 350.00. No tiene nada pendiente aquí." in page(
        client, detail_url(notification)
    )


def test_someone_elses_debt_and_receipt_are_404():
    theirs = fine(factories.register(given_names="José"))
    open_it(theirs)
    debt = Debt.objects.get()
    payment = pay(debt).payment
    mine = fine()
    client = person_client(mine)
    assert client.get(f"/buzon/pagos/{debt.payment_code}/").status_code == 404
    url = f"/buzon/pagos/{debt.payment_code}/constancia/{payment.public_id}.pdf"
    assert client.get(url).status_code == 404
    my_code = Debt.objects.get(notification=mine).payment_code
    assert (
        client.get(f"/buzon/pagos/{my_code}/constancia/{payment.public_id}.pdf").status_code == 404
    )
    assert client.get("/buzon/pagos/no-such-code/").status_code == 404


def test_the_plan_panel_shows_the_next_installment_and_the_schedule(clock):
    notification = plan()
    open_it(notification)
    first = Debt.objects.get(number=1)
    client = person_client(notification)
    html = page(client, detail_url(notification))
    assert "Su fraccionamiento" in html
    assert "Cuota 1 de 3" in html
    assert first.payment_code in html
    assert "Cronograma de cuotas" in html
    assert html.count('class="pay-list__item"') == 3
    clock.move_to(lima(2026, 12, 16, 9, 0))
    client = person_client(notification)  # the session ran out meanwhile
    html = page(client, detail_url(notification))
    assert "Venció el 15/12/2026" in html
    assert "Tiene 1 cuota vencida sin pagar. Si llega a 2 cuotas vencidas" in html


def test_due_for_lists_what_the_person_owes(clock):
    registration = factories.register()
    a_fine = fine(registration)
    a_plan = plan(registration, first_due_date="2026-12-10")
    unopened = fine(registration, amount="99.00")
    open_it(a_fine)
    open_it(a_plan)
    clock.move_to(lima(2026, 12, 12, 9, 0))
    person = registration.procedure.person
    items = due_for(person)
    assert [(i.label, i.installment, i.overdue, i.opened) for i in items] == [
        ("Cuota de fraccionamiento", 1, True, True),  # overdue first, then by due date
        ("Multa", None, False, True),  # 30/12/2026
        ("Cuota de fraccionamiento", 2, False, True),  # 10/01/2027; not the third one yet
        ("Multa", None, False, False),  # not opened: no date to show
    ]
    hidden = next(i for i in items if i.notification == unopened.public_id)
    assert (hidden.amount, hidden.payment_code, hidden.due_date) == (None, None, None)
    assert hidden.url == detail_url(unopened)
    shown = next(i for i in items if i.notification == a_fine.public_id)
    assert str(shown.amount) == "350.00"
    assert shown.url == f"/buzon/pagos/{shown.payment_code}/"


def test_the_pending_list_carries_a_weekend_due_date_over(clock):
    from datetime import date

    registration = factories.register()
    a_plan = plan(registration, first_due_date="2027-01-30")  # Saturday; then 28/02, 30/03
    open_it(a_plan)
    person = registration.procedure.person
    # Monday 1 Feb: the first installment is still payable today, and it alone is listed.
    items = due_for(person, date(2027, 2, 1))
    assert [(i.installment, i.overdue, i.due_date, i.payable_until) for i in items] == [
        (1, False, date(2027, 1, 30), date(2027, 2, 1))
    ]
    clock.move_to(lima(2027, 2, 1, 9, 0))
    client = person_client(a_plan)
    assert "Pagar hasta el 01/02/2027" in page(client, "/buzon/pendientes/")
    # Tuesday: overdue, and the next one is listed too.
    items = due_for(person, date(2027, 2, 2))
    assert [(i.installment, i.overdue) for i in items] == [(1, True), (2, False)]


# --- Officers -------------------------------------------------------------------------------


def officer_of(unit, *groups):
    user = factories.officer("", *groups)
    IssuingUnit.objects.get(code=unit).members.add(user)
    client = Client()
    client.force_login(user)
    return client


def test_officers_see_the_debts_of_their_units_only():
    notification = fine()
    debt = Debt.objects.get()
    pay(debt, "400.00", tid="BN-OVER")
    mine = officer_of("SFM", NOTIFIERS)
    html = page(mine, "/oficina/pagos/")
    assert debt.payment_code in html
    assert "Pago observado" in html
    assert debt.payment_code in page(mine, "/oficina/pagos/?filtro=observadas")
    assert debt.payment_code not in page(mine, "/oficina/pagos/?filtro=pendientes")
    detail = page(mine, f"/oficina/pagos/{debt.payment_code}/")
    assert "BN-OVER" in detail
    assert notification.subject in detail
    assert "Un supervisor debe revisar este pago." in detail
    other = officer_of("SIN", NOTIFIERS)
    assert debt.payment_code not in page(other, "/oficina/pagos/")
    assert other.get(f"/oficina/pagos/{debt.payment_code}/").status_code == 404
    no_permission = officer_of("SFM")  # Mesa de partes
    assert no_permission.get("/oficina/pagos/").status_code == 403


def test_overdue_filter(clock):
    fine(due_date="2026-12-04")  # a Friday
    late = Debt.objects.get()
    fine(due_date="2026-12-05")  # a Saturday: payable until Monday the 7th (art. 145)
    saturday = Debt.objects.exclude(pk=late.pk).get()
    clock.move_to(lima(2026, 12, 6, 9, 0))
    fine(due_date="2026-12-30")
    client = officer_of("SFM", NOTIFIERS)
    html = page(client, "/oficina/pagos/?filtro=vencidas")
    assert late.payment_code in html
    assert saturday.payment_code not in html
    assert html.count("<tr>") == 2  # header and one row


def test_a_supervisor_marks_a_flagged_payment_reviewed():
    fine()
    debt = Debt.objects.get()
    payment = pay(debt, "100.00").payment
    url = f"/oficina/pagos/{debt.payment_code}/pagos/{payment.public_id}/revisar/"
    field = f"p{payment.pk}-note"
    notifier = officer_of("SFM", NOTIFIERS)
    assert notifier.post(url, {field: "Visto"}).status_code == 403
    supervisor = officer_of("SFM", NOTIFIERS, SUPERVISORS)
    assert supervisor.post(url, {field: ""}).status_code == 400
    response = supervisor.post(url, {field: "Se comunicó al administrado el saldo pendiente."})
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.reviewed_at is not None
    html = page(supervisor, f"/oficina/pagos/{debt.payment_code}/")
    assert "Revisado" in html
    assert "Se comunicó al administrado el saldo pendiente." in html


def test_a_fine_without_details_shows_no_payment_panel():
    notification = factories.deposit(kind="fine", subject="Multa antigua")
    open_it(notification)
    html = page(person_client(notification), detail_url(notification))
    assert "Multa antigua" in html
    assert "Código de pago" not in html


def test_a_lapsed_plan_points_to_the_balance(clock):
    notification = plan()
    open_it(notification)
    clock.move_to(lima(2027, 1, 16, 8, 0))
    from payments.actions import flag_overdue, lapse_due_plans

    flag_overdue()
    lapse_due_plans()
    letter = Plan.objects.get(notification=notification).lapse_notification
    assert letter is not None
    client = person_client(notification)
    html = page(client, detail_url(notification))
    assert "el fraccionamiento se perdió" in html
    assert detail_url(letter) in html
    open_it(letter)
    balance = Debt.objects.get(notification=letter)
    html = page(client, detail_url(letter))
    assert "Saldo por pérdida del fraccionamiento" in html
    assert "S/ 1,000.00" in html
    assert balance.payment_code in html


def test_the_notification_page_does_not_query_more_with_more_installments():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(notification):
        open_it(notification)
        for debt in Debt.objects.filter(plan__notification=notification)[:2]:
            pay(debt, "1.00")
        client = person_client(notification)
        client.get(detail_url(notification))
        with CaptureQueriesContext(connection) as captured:
            page(client, detail_url(notification))
        return len(captured)

    assert queries(plan(installments=3)) == queries(plan(installments=72, total="72000"))
