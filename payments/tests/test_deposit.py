"""Depositing fines and plans: checked details, payment codes, and the content hash."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from evidence.models import EventKind
from mailboxes.actions import content_sha256, deposit_many
from mailboxes.models import Notification
from payments import codes
from payments.models import Debt, Plan
from payments.tests.helpers import BASIS, fine, plan
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_fine_carries_its_amount_basis_due_date_and_a_payment_code():
    notification = fine(amount="350.5", legal_basis=f"  {BASIS} ")
    debt = Debt.objects.get(notification=notification)
    assert notification.details == {
        "amount": "350.50",
        "legal_basis": BASIS,
        "due_date": "2026-12-30",
        "payment_code": debt.payment_code,
    }
    assert codes.is_valid(debt.payment_code)
    assert debt.amount == Decimal("350.50")
    assert debt.kind == Debt.Kind.FINE
    assert debt.person == notification.person
    assert debt.status == Debt.Status.PENDING


def test_the_payment_code_is_part_of_what_was_notified_and_of_its_evidence():
    notification = fine()
    stored = Notification.objects.get(pk=notification.pk)
    assert stored.details["payment_code"]
    assert stored.content_sha256 == content_sha256(stored)
    deposited = stored.events.get(kind=EventKind.NOTIFICATION_DEPOSITED)
    assert deposited.entry["content_sha256"] == stored.content_sha256


def test_a_plan_carries_its_schedule_with_a_code_per_installment():
    notification = plan(total="1000", installments=3, first_due_date="2027-01-31")
    schedule = notification.details["schedule"]
    assert [(r["number"], r["amount"], r["due_date"]) for r in schedule] == [
        (1, "333.34", "2027-01-31"),
        (2, "333.33", "2027-02-28"),
        (3, "333.33", "2027-03-31"),
    ]
    the_plan = Plan.objects.get(notification=notification)
    assert the_plan.total == Decimal("1000.00")
    debts = list(the_plan.debts.order_by("number"))
    assert [d.payment_code for d in debts] == [r["payment_code"] for r in schedule]
    assert len({d.payment_code for d in debts}) == 3
    assert sum(d.amount for d in debts) == the_plan.total
    stored = Notification.objects.get(pk=notification.pk)
    assert stored.content_sha256 == content_sha256(stored)


def test_fines_and_plans_without_details_still_deposit_with_nothing_to_pay():
    legacy = factories.deposit(kind="fine")
    blank_form = fine(amount="", legal_basis="", due_date="")
    old_plan = factories.deposit(kind="installment", details=None)
    for notification in (legacy, blank_form, old_plan):
        assert notification.details == {}
    assert not Debt.objects.exists()
    assert not Plan.objects.exists()


def test_every_problem_with_a_fine_is_listed_and_nothing_is_written():
    with pytest.raises(ValidationError) as caught:
        fine(amount="350,50", legal_basis="", due_date="2026-11-30", color="red")
    messages = caught.value.message_dict["details"]
    assert "Datos no reconocidos: color." in messages
    assert any("punto decimal" in m for m in messages)
    assert "Indique la base legal." in messages
    assert "La fecha límite de pago no puede ser anterior a hoy." in messages
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"amount": "0"}, "El monto debe ser mayor que cero."),
        ({"amount": "10000000.00"}, "El monto no puede ser mayor que S/ 9,999,999.99."),
        ({"amount": "1.001"}, "como máximo dos decimales"),
        ({"due_date": "30/12/2026"}, "no es una fecha válida"),
        ({"due_date": "2026-02-30"}, "no es una fecha válida"),
        ({"legal_basis": "x" * 501}, "como máximo 500 caracteres"),
    ],
)
def test_a_fine_is_refused(details, message):
    with pytest.raises(ValidationError) as caught:
        fine(**details)
    assert message in " ".join(caught.value.message_dict["details"])


def test_today_in_lima_is_a_valid_due_date():
    assert fine(due_date="2026-12-01").details["due_date"] == "2026-12-01"


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"installments": 1}, "entre 2 y 72"),
        ({"installments": 73}, "entre 2 y 72"),
        ({"installments": "tres"}, "número entero"),
        ({"total": "0.05", "installments": 6}, "no alcanza para 6 cuotas"),
        ({"first_due_date": ""}, "Indique el vencimiento de la primera cuota."),
        ({"schedule": []}, "Datos no reconocidos: schedule."),
    ],
)
def test_a_plan_is_refused(details, message):
    with pytest.raises(ValidationError) as caught:
        plan(**details)
    assert message in " ".join(caught.value.message_dict["details"])


def test_a_lapsed_balance_cannot_be_deposited_by_hand():
    target = plan()
    with pytest.raises(ValidationError) as caught:
        fine(lapsed_plan=str(target.public_id), payment_code=codes.random_code())
    assert "fraccionamiento perdido" in " ".join(caught.value.message_dict["details"])


def test_the_same_key_deposits_a_fine_once():
    registration = factories.register()
    first = fine(registration, key="multa-1")
    again = fine(registration, key="multa-1")
    assert again.pk == first.pk
    assert Debt.objects.count() == 1


FINE = {"amount": "100", "legal_basis": BASIS, "due_date": "2026-12-30"}
PLAN = {"total": "500", "installments": 5, "first_due_date": "2027-01-10", "legal_basis": BASIS}


def test_a_batch_gives_every_debt_its_own_code_and_hash():
    registration = factories.register()
    number = registration.procedure.number
    items = [
        factories.notification_input(
            number,
            unit="SFM",
            kind="fine" if i % 2 else "installment",
            idempotency_key=f"lote-{i}",
            details=FINE if i % 2 else PLAN,
        )
        for i in range(6)
    ]
    results = deposit_many(items, actor=None)
    assert all(r.created for r in results)
    assert Debt.objects.count() == 3 + 3 * 5
    assert len(set(Debt.objects.values_list("payment_code", flat=True))) == 18
    for notification in Notification.objects.all():
        assert notification.content_sha256 == content_sha256(notification)
        deposited = notification.events.get(kind=EventKind.NOTIFICATION_DEPOSITED)
        assert deposited.entry["content_sha256"] == notification.content_sha256
