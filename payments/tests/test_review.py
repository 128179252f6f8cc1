"""What an independent review found: each test fails without its fix, and checks what a person,
an officer or an operator would notice."""

import json
import logging
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from alerts import actions as alert_actions
from backoffice.groups import NOTIFIERS
from evidence.models import EventKind
from mailboxes.inputs import check_notification
from mailboxes.models import IssuingUnit
from payments import actions, reminders
from payments.actions import PaymentRefused, apply_payment, flag_overdue, lapse_due_plans
from payments.models import Debt, Flag, Payment, Plan, Reminder
from payments.reminders import deliver, queue_reminders
from payments.tests.helpers import BASIS, fine, lima, open_it, pay, person_client, plan
from tests import factories

# The overdue and lapse rules on exact days, without the grace for confirmations (conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_confirmation_grace")]

TOO_LARGE = "El monto no puede ser mayor que S/ 9,999,999.99."
PAYMENT_RANGE = "El monto debe ser mayor que cero y como máximo S/ 9,999,999.99."


def installment(notification, number):
    return Debt.objects.get(plan__notification=notification, number=number)


def received(notification):
    return list(notification.events.filter(kind=EventKind.PAYMENT_RECEIVED).order_by("pk"))


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


# --- 1. Huge amounts are refused with the usual error, never decimal.InvalidOperation ----------


@pytest.mark.parametrize("amount", ["1" * 30, 10**40, Decimal("1E+30"), 1e30])
def test_a_huge_fine_amount_is_refused_with_the_usual_message(amount):
    registration = factories.register()
    data = factories.notification_input(
        registration.procedure.number,
        unit="SFM",
        kind="fine",
        details={"amount": amount, "legal_basis": BASIS, "due_date": "2026-12-30"},
    )
    with pytest.raises(ValidationError) as caught:
        check_notification(data, actor=None)
    assert caught.value.message_dict["details"] == [TOO_LARGE]


@pytest.mark.parametrize(
    ("total", "message"),
    [("1" * 30, TOO_LARGE), (10**40, TOO_LARGE), ("-" + "9" * 40, "mayor que cero")],
)
def test_a_huge_plan_total_is_refused_at_deposit_and_nothing_is_written(total, message):
    with pytest.raises(ValidationError) as caught:
        plan(total=total)
    assert message in " ".join(caught.value.message_dict["details"])
    assert not Plan.objects.exists()


@pytest.mark.parametrize("amount", ["1" * 30, 10**40, Decimal("1E+30")])
def test_a_huge_payment_is_refused_with_the_usual_message(amount):
    debt = Debt.objects.get(notification=fine())
    with pytest.raises(PaymentRefused) as caught:
        apply_payment("BN-1", debt.payment_code, amount, lima(2026, 12, 1, 9), "bn")
    assert caught.value.code == "invalid"
    assert caught.value.errors == {"amount": [PAYMENT_RANGE]}
    assert not Payment.objects.exists()


def test_record_payment_answers_a_huge_amount_in_json_without_a_traceback():
    debt = Debt.objects.get(notification=fine())
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "record_payment", "--transaction-id", "OP-9", "--code", debt.payment_code,
            "--amount", "1" * 30, "--paid-at", "2026-12-01T08:00", "--source", "bn", stdout=out,
        )  # fmt: skip
    answer = json.loads(out.getvalue())
    assert answer == {"ok": False, "error": "invalid", "errors": {"amount": [PAYMENT_RANGE]}}


# --- 2. The idempotency key is the channel and its transaction id ------------------------------


def test_two_channels_may_issue_the_same_operation_number():
    notification = fine()
    debt = Debt.objects.get()
    at = lima(2026, 12, 1, 9, 30)
    first = apply_payment("000123", debt.payment_code, "100.00", at, "bn")
    second = apply_payment("000123", debt.payment_code, "100.00", at, "pagalo")
    assert first.created
    assert second.created
    debt.refresh_from_db()
    assert debt.paid == Decimal("200.00")
    assert [(e.data["source"], e.data["transaction_id"]) for e in received(notification)] == [
        ("bn", "000123"),
        ("pagalo", "000123"),
    ]
    # The same channel's confirmation again counts once ("BN" is the channel "bn").
    again = apply_payment("000123", debt.payment_code, "100.00", at, " BN ")
    assert not again.created
    assert again.payment.pk == first.payment.pk
    # The same channel and number for another payment is a conflict.
    with pytest.raises(PaymentRefused) as caught:
        apply_payment("000123", debt.payment_code, "120.00", at, "bn")
    assert caught.value.code == "conflict"
    debt.refresh_from_db()
    assert debt.paid == Decimal("200.00")


@pytest.mark.parametrize("source", ["Págalo.pe", "Banco de la Nación", "b_n", "x" * 31, "b\nn"])
def test_a_channel_that_is_not_a_short_id_is_refused(source):
    debt = Debt.objects.get(notification=fine())
    with pytest.raises(PaymentRefused) as caught:
        apply_payment("OP-1", debt.payment_code, "350.00", lima(2026, 12, 1, 9), source)
    assert caught.value.code == "invalid"
    (message,) = caught.value.errors["source"]
    assert "de 1 a 30 letras minúsculas sin tildes, dígitos o guiones" in message
    assert not Payment.objects.exists()


def test_record_payment_takes_the_channel_id_and_refuses_a_name():
    debt = Debt.objects.get(notification=fine())
    args = ["--code", debt.payment_code, "--amount", "350", "--paid-at", "2026-12-01T08:00"]
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "record_payment", "--transaction-id", "7", *args, "--source", "Págalo.pe", stdout=out
        )
    assert list(json.loads(out.getvalue())["errors"]) == ["source"]
    out = StringIO()
    call_command("record_payment", "--transaction-id", "7", *args, "--source", "pagalo", stdout=out)
    answer = json.loads(out.getvalue())
    assert (answer["created"], answer["payment"]["source"]) == (True, "pagalo")


# --- 3. A payment made before a lapse and confirmed after it is credited -----------------------


def lapse_on_16_january(clock):
    clock.move_to(lima(2027, 1, 16, 8, 0))
    flag_overdue()
    assert lapse_due_plans().done == 1
    return Plan.objects.get()


def test_a_payment_made_before_the_lapse_is_credited_to_the_lapsed_balance(approved, clock):
    the_plan = lapse_on_16_january(clock)
    letter = the_plan.lapse_notification
    balance = Debt.objects.get(notification=letter)
    assert balance.amount == Decimal("1000.00")
    first = installment(approved, 1)
    # The bank confirms this morning what was paid last night, before the lapse.
    clock.move_to(lima(2027, 1, 16, 9, 0))
    result = pay(first, "333.34", tid="BN-555", paid_at=lima(2027, 1, 15, 19, 30), source="bn")
    payment = result.payment
    assert (payment.debt, payment.redirected_from) == (balance, first)
    balance.refresh_from_db()
    assert (balance.paid, balance.balance) == (Decimal("333.34"), Decimal("666.66"))
    first.refresh_from_db()
    assert (first.status, first.paid, first.flagged) == (Debt.Status.CANCELLED, 0, False)
    # The person sees it credited on the balance's page, with what is still owed.
    open_it(letter)
    client = person_client(letter)
    html = client.get(f"/buzon/notificaciones/{letter.public_id}/").content.decode()
    assert "S/ 666.66" in html
    assert "pagado con el código de la cuota 1 antes de la pérdida del fraccionamiento" in html
    receipt_url = f"/buzon/pagos/{balance.payment_code}/constancia/{payment.public_id}.pdf"
    assert receipt_url in html
    text = " ".join(factories.pdf_text(payment.receipt.read()).split())
    assert first.payment_code in text
    assert "se aplicó al saldo por pérdida del fraccionamiento" in text
    assert balance.payment_code in text
    assert "Queda un saldo pendiente de S/ 666.66" in text
    # With its evidence, on the notification of the balance.
    (event,) = received(letter)
    assert event.data["payment_code"] == first.payment_code
    assert event.data["credited_to"] == {
        "debt": "lapsed_balance",
        "payment_code": balance.payment_code,
        "reason": "paid_before_lapse",
        "plan_lapsed_at": event.data["credited_to"]["plan_lapsed_at"],
    }
    assert event.data["credited_to"]["plan_lapsed_at"].startswith("2027-01-16T13:00:00")
    assert event.data["owed_before"] == "1000.00"
    # The same confirmation again changes nothing.
    again = pay(first, "333.34", tid="BN-555", paid_at=lima(2027, 1, 15, 19, 30), source="bn")
    assert not again.created
    assert again.as_dict()["payment"]["payment_code"] == first.payment_code


def test_the_officer_sees_where_a_payment_before_the_lapse_went(approved, clock):
    lapse_on_16_january(clock)
    first = installment(approved, 1)
    pay(first, "333.34", tid="BN-556", paid_at=lima(2027, 1, 15, 19, 30), source="bn")
    balance = Debt.objects.get(kind=Debt.Kind.LAPSED_BALANCE)
    officer = factories.officer("", NOTIFIERS)
    IssuingUnit.objects.get(code="SFM").members.add(officer)
    client = Client()
    client.force_login(officer)
    html = client.get(f"/oficina/pagos/{first.payment_code}/").content.decode()
    assert "BN-556" in html
    assert balance.payment_code in html
    html = client.get(f"/oficina/pagos/{balance.payment_code}/").content.decode()
    assert "con el código de la cuota 1, pagado antes de la pérdida" in html


def test_a_payment_after_the_lapse_to_a_cancelled_code_is_still_closed(approved, clock):
    lapse_on_16_january(clock)
    third = installment(approved, 3)
    clock.move_to(lima(2027, 1, 16, 9, 0))
    result = pay(third, "333.33", paid_at=lima(2027, 1, 16, 8, 30))
    assert (result.payment.debt, result.payment.flag) == (third, Flag.CLOSED)
    assert Debt.objects.get(kind=Debt.Kind.LAPSED_BALANCE).paid == 0


def test_a_payment_before_a_lapse_with_no_balance_is_flagged_with_its_own_reason(approved, clock):
    # A plan lapsed without a balance debt (none is expected: a data repair, say).
    Plan.objects.update(status=Plan.Status.LAPSED, lapsed_at=lima(2027, 1, 16, 8, 0))
    Debt.objects.filter(plan__notification=approved).update(status=Debt.Status.CANCELLED)
    clock.move_to(lima(2027, 1, 16, 9, 0))
    second = installment(approved, 2)
    result = pay(second, "333.33", paid_at=lima(2027, 1, 14, 12, 0))
    assert (result.payment.debt, result.payment.flag) == (second, Flag.PRE_LAPSE)
    second.refresh_from_db()
    assert (second.flagged, second.get_flag_reason_display()) == (
        True,
        "Pago anterior a la pérdida del fraccionamiento, sin saldo",
    )
    text = " ".join(factories.pdf_text(result.payment.receipt.read()).split())
    assert "antes de que el fraccionamiento se perdiera" in text


# --- 4. One failing plan or installment does not stop payments_daily ---------------------------


def test_a_plan_that_cannot_lapse_stops_neither_the_others_nor_the_reminders(
    person, clock, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    good = plan(person, key="plan-a")
    broken = plan(person, key="plan-b")
    soon = plan(person, key="plan-c", first_due_date="2027-01-18")
    mail.outbox.clear()
    from mailboxes.actions import deposit_notification as real

    def refuse_one(data, **kwargs):
        if data.idempotency_key == f"payments:lapse:{broken.public_id}":
            raise ValidationError({"unit": ["Elija una unidad emisora."]})
        return real(data, **kwargs)

    monkeypatch.setattr(actions, "deposit_notification", refuse_one)
    clock.move_to(lima(2027, 1, 16, 8, 0))
    out = StringIO()
    with (
        caplog.at_level(logging.ERROR),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError),
    ):
        call_command("payments_daily", stdout=out)
    summary = out.getvalue()
    broken_plan = Plan.objects.get(notification=broken)
    assert "flagged 4 overdue installments, lapsed 1 plans, queued 1 reminders" in summary
    assert f"FAILED: 1 plans to lapse (#{broken_plan.pk})" in summary
    assert f"could not lapse plan {broken_plan.pk}" in caplog.text
    assert Plan.objects.get(notification=good).status == Plan.Status.LAPSED
    assert broken_plan.status == Plan.Status.ACTIVE  # rolled back whole, tried again next run
    assert not broken_plan.debts.filter(status=Debt.Status.CANCELLED).exists()
    (reminder,) = Reminder.objects.all()
    assert reminder.debt == installment(soon, 1)
    assert any("vence el 18/01/2027" in m.body for m in mail.outbox)
    # Once the cause is gone, the next run lapses it.
    monkeypatch.setattr(actions, "deposit_notification", real)
    clock.move_to(lima(2027, 1, 16, 9, 0))
    out = StringIO()
    call_command("payments_daily", stdout=out)
    assert "lapsed 1 plans" in out.getvalue()
    assert "FAILED" not in out.getvalue()


def test_an_installment_that_cannot_be_flagged_overdue_does_not_stop_the_others(
    person, clock, monkeypatch, caplog
):
    good = plan(person, key="plan-a")
    broken = plan(person, key="plan-b")
    broken_first = installment(broken, 1)
    real = actions._refresh_plan

    def fail_for_one(the_plan, today, cutoff=None):
        if the_plan.notification_id == broken.pk:
            raise OSError("disk full")
        real(the_plan, today, cutoff)

    monkeypatch.setattr(actions, "_refresh_plan", fail_for_one)
    clock.move_to(lima(2026, 12, 16, 2, 0))
    with caplog.at_level(logging.ERROR):
        tally = flag_overdue()
    assert (tally.done, tally.failed) == (1, [broken_first.pk])
    assert "disk full" in caplog.text
    assert installment(good, 1).overdue_at is not None
    assert installment(broken, 1).overdue_at is None  # rolled back: flagged on the next run
    assert not broken.events.filter(kind=EventKind.INSTALLMENT_OVERDUE).exists()


# --- 5. Counts of installments: ASCII digits only, never a 500 ---------------------------------


@pytest.mark.parametrize(
    "count", ["²", "٣", "3²", "1" * 5000], ids=["superscript", "arabic", "mixed", "long"]
)
def test_an_installment_count_that_is_not_ascii_digits_is_refused(count):
    with pytest.raises(ValidationError) as caught:
        plan(installments=count)
    assert "El número de cuotas debe ser un número entero." in caught.value.message_dict["details"]
    assert not Plan.objects.exists()


# --- 6. A reminder is sent only while its installment is open and its plan active --------------


def test_a_queued_reminder_for_an_installment_paid_meanwhile_is_not_sent(approved, clock):
    clock.move_to(lima(2026, 12, 12, 8, 0))
    assert queue_reminders() == 1  # queued; the sending task has not run yet
    pay(installment(approved, 1))
    reminder = Reminder.objects.get()
    assert deliver(reminder.pk) == "skipped"
    assert mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.get_status_display() == "Omitida: la cuota ya no estaba pendiente"
    assert not approved.events.filter(kind=EventKind.ALERT_SENT).exists()


def test_a_retry_after_the_plan_lapsed_sends_nothing(approved, clock, monkeypatch):
    sent, retries = [], []

    def fail(reminder):
        sent.append(reminder)
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr(reminders, "_send", fail)
    # Where every alert-like row's attempt schedules its retry (alerts.actions.attempt_claimed).
    monkeypatch.setattr(alert_actions, "retry_later", lambda task, pk, attempts: retries.append(pk))
    clock.move_to(lima(2027, 1, 12, 8, 0))
    # Installment 2 falls due on 15/01; installment 1 was missed.
    queue_reminders()
    reminder = Reminder.objects.get()
    assert deliver(reminder.pk) == "pending"  # the first attempt failed: a retry is scheduled
    assert (len(sent), retries) == (1, [reminder.pk])
    lapse_on_16_january(clock)
    assert deliver(reminder.pk) == "skipped"  # the retry
    assert len(sent) == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("skipped", 1)


# --- 7. The time of a payment: not before the notification, not in the future ------------------


def test_a_payment_dated_before_the_notification_is_refused(clock):
    clock.move_to(lima(2026, 12, 20, 10, 0))
    debt = Debt.objects.get(notification=fine())  # deposited 20/12/2026 10:00
    with pytest.raises(PaymentRefused) as caught:
        pay(debt, paid_at=lima(2026, 12, 18, 9, 0))
    assert caught.value.errors["paid_at"] == [
        "La fecha del pago (18/12/2026 09:00) es anterior a la notificación de esta deuda, "
        "depositada el 20/12/2026 10:00."
    ]
    assert pay(debt, paid_at=lima(2026, 12, 19, 12, 0)).created  # a clock some hours off: fine


def test_a_payment_dated_in_the_future_is_refused():
    debt = Debt.objects.get(notification=fine())
    with pytest.raises(PaymentRefused) as caught:
        pay(debt, paid_at=lima(2026, 12, 3, 10, 0))
    assert caught.value.errors["paid_at"] == ["La fecha del pago está en el futuro."]


# --- 9. The evidence of a payment says what became of the plan ---------------------------------


def test_the_payment_evidence_carries_the_plan_status_after_it(approved):
    for number in (1, 2, 3):
        pay(installment(approved, number))
    assert [e.data["plan_status"] for e in received(approved)] == [
        "active",
        "active",
        "completed",
    ]
    notification = fine()
    pay(Debt.objects.get(notification=notification))
    (event,) = received(notification)
    assert event.data["plan_status"] is None


# --- 8. The officer's review note is shown to the person (intended, docs/payments.md) ----------


def test_the_review_note_is_in_the_persons_certificate_timeline():
    from evidence.actions import issue_certificate
    from payments.actions import review_payment

    notification = fine()
    payment = pay(Debt.objects.get(), "400.00", tid="BN-900").payment
    review_payment(payment, actor=factories.supervisor(), note="Se devolverán S/ 50.00.")
    _certificate, pdf = issue_certificate(notification, requested_by=None)
    text = " ".join(factories.pdf_text(pdf).split())
    assert "Pago observado revisado (operación BN-900): Se devolverán S/ 50.00." in text
