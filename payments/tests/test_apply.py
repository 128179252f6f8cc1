"""Payment confirmations: idempotent by transaction id, partial and over payments flagged."""

import hashlib
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evidence.models import EventKind
from payments import codes
from payments.actions import PaymentRefused, apply_payment, review_payment
from payments.models import Debt, Flag, Payment
from payments.tests.helpers import fine, lima, pay
from tests import factories
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def received(notification):
    return list(notification.events.filter(kind=EventKind.PAYMENT_RECEIVED))


def test_an_exact_payment_settles_the_fine_with_a_receipt_and_evidence():
    notification = fine()
    debt = Debt.objects.get()
    result = pay(debt, "350.00", tid="PAGALO-0001", paid_at=lima(2026, 12, 1, 9, 15))
    assert result.created
    debt.refresh_from_db()
    assert (debt.status, debt.paid, debt.flagged) == (Debt.Status.PAID, Decimal("350.00"), False)
    payment = result.payment
    assert payment.outcome == Payment.Outcome.EXACT
    assert payment.flag == ""
    pdf = payment.receipt.read()
    assert hashlib.sha256(pdf).hexdigest() == payment.receipt_sha256
    text = factories.pdf_text(pdf)
    assert "CONSTANCIA DE PAGO" in text
    assert debt.payment_code in text
    assert "S/ 350.00" in text
    assert "PAGALO-0001" in text
    assert "01/12/2026 09:15" in text
    (event,) = received(notification)
    assert event.data["transaction_id"] == "PAGALO-0001"
    assert event.data["amount"] == "350.00"
    assert event.data["outcome"] == "exact"
    assert event.data["payment_code"] == debt.payment_code
    assert event.data["receipt_sha256"] == payment.receipt_sha256


def test_a_payment_applied_twice_counts_once():
    notification = fine()
    debt = Debt.objects.get()
    first = pay(debt, "100.00", tid="BN-77")
    again = pay(debt, "100.00", tid="BN-77")
    assert first.created
    assert not again.created
    assert again.payment.pk == first.payment.pk
    debt.refresh_from_db()
    assert debt.paid == Decimal("100.00")
    assert Payment.objects.count() == 1
    assert len(received(notification)) == 1


def test_the_same_transaction_id_with_other_data_is_refused():
    debt = Debt.objects.get(notification=fine())
    pay(debt, "100.00", tid="BN-78")
    with pytest.raises(PaymentRefused) as caught:
        pay(debt, "120.00", tid="BN-78")
    assert caught.value.code == "conflict"
    assert "ya se registró para otro pago" in caught.value.message
    debt.refresh_from_db()
    assert debt.paid == Decimal("100.00")


def test_unknown_and_mistyped_codes_are_clear_errors():
    fine()
    unused = codes.random_code()
    with pytest.raises(PaymentRefused) as unknown:
        apply_payment("X-1", unused, "10.00", lima(2026, 12, 1, 9), "pagalo")
    assert unknown.value.code == "unknown_code"
    assert unknown.value.message == "Ninguna deuda tiene ese código de pago."
    code = Debt.objects.get().payment_code
    mistyped = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(PaymentRefused) as invalid:
        apply_payment("X-2", mistyped, "-5", lima(2026, 12, 1, 9).replace(tzinfo=None), "")
    assert invalid.value.code == "invalid"
    assert set(invalid.value.errors) == {"payment_code", "amount", "paid_at", "source"}
    assert not Payment.objects.exists()


def test_a_partial_payment_is_recorded_as_such_and_flagged():
    notification = fine()
    debt = Debt.objects.get()
    result = pay(debt, "150.00")
    debt.refresh_from_db()
    assert result.payment.outcome == Payment.Outcome.PARTIAL
    assert result.payment.flag == Flag.PARTIAL
    assert (debt.status, debt.balance) == (Debt.Status.PARTIAL, Decimal("200.00"))
    assert (debt.flagged, debt.flag_reason) == (True, Flag.PARTIAL)
    assert "Queda un saldo pendiente de S/ 200.00" in factories.pdf_text(
        result.payment.receipt.read()
    )
    rest = pay(debt, "200.00")
    debt.refresh_from_db()
    assert rest.payment.outcome == Payment.Outcome.EXACT
    assert debt.status == Debt.Status.PAID
    assert debt.flagged  # the partial payment still waits for an officer
    assert [e.data["outcome"] for e in received(notification)] == ["partial", "exact"]


def test_an_overpayment_is_recorded_as_such_and_flagged():
    debt = Debt.objects.get(notification=fine())
    result = pay(debt, "400.00")
    debt.refresh_from_db()
    assert result.payment.outcome == Payment.Outcome.OVER
    assert result.payment.flag == Flag.OVER
    assert (debt.status, debt.excess, debt.flagged) == (
        Debt.Status.OVERPAID,
        Decimal("50.00"),
        True,
    )
    assert "Se pagaron S/ 50.00 más" in factories.pdf_text(result.payment.receipt.read())


def test_paying_a_settled_debt_again_is_flagged():
    debt = Debt.objects.get(notification=fine())
    pay(debt, "350.00")
    debt.refresh_from_db()
    second = pay(debt, "350.00")
    assert (second.payment.outcome, second.payment.flag) == (Payment.Outcome.OVER, Flag.CLOSED)
    assert second.payment.owed_before == Decimal("0.00")


def test_a_supervisor_reviews_a_flagged_payment_with_a_note():
    notification = fine()
    debt = Debt.objects.get()
    payment = pay(debt, "400.00").payment
    supervisor = factories.supervisor()
    with pytest.raises(PaymentRefused):
        review_payment(payment, actor=supervisor, note="  ")
    review_payment(payment, actor=supervisor, note="Devolución de S/ 50.00 solicitada.")
    payment.refresh_from_db()
    debt.refresh_from_db()
    assert payment.reviewed_by == supervisor
    assert not debt.flagged
    event = notification.events.get(kind="payment_reviewed")
    assert event.actor == supervisor
    assert event.data["note"] == "Devolución de S/ 50.00 solicitada."


def test_record_payment_command_prints_json():
    debt = Debt.objects.get(notification=fine())
    out = StringIO()
    args = ["--code", debt.payment_code, "--amount", "350", "--paid-at", "2026-12-01T08:00"]
    call_command("record_payment", "--transaction-id", "OP-1", *args, "--source", "BN", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["ok"] is True
    assert answer["created"] is True
    assert answer["payment"]["paid_at"].startswith("2026-12-01T13:00:00")  # 08:00 in Lima
    assert answer["debt"]["status"] == "paid"
    out = StringIO()
    call_command("record_payment", "--transaction-id", "OP-1", *args, "--source", "BN", stdout=out)
    assert json.loads(out.getvalue())["created"] is False
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "record_payment", "--transaction-id", "OP-2", "--code", "123456789012",
            "--amount", "1", "--paid-at", "2026-12-01T08:00", "--source", "BN", stdout=out,
        )  # fmt: skip
    assert json.loads(out.getvalue())["error"] == "invalid"


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_a_confirmation_count_once(reference_data):
    notification = fine()
    debt = Debt.objects.get()
    results = at_once(lambda: pay(debt, "350.00", tid="SAME-TX"), 4)
    assert sorted(r.created for r in results) == [False, False, False, True]
    debt.refresh_from_db()
    assert debt.paid == Decimal("350.00")
    assert Payment.objects.count() == 1
    assert len(received(notification)) == 1


def test_the_constancia_de_notificacion_lists_payments_and_reviews():
    from evidence.actions import issue_certificate

    notification = fine()
    debt = Debt.objects.get()
    payment = pay(debt, "400.00").payment
    review_payment(payment, actor=factories.supervisor(), note="Devolución solicitada.")
    _certificate, pdf = issue_certificate(notification, requested_by=None)
    text = factories.pdf_text(pdf)
    assert "Pago recibido" in text
