"""Payments through a test API key (test=True): they reach test debts only, say nothing about
real ones, and number their operations apart from the real payment systems."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from api.models import ApiClient
from backoffice.groups import NOTIFIERS
from mailboxes.models import IssuingUnit
from payments import codes
from payments.actions import PaymentRefused, apply_payment
from payments.models import Debt, Payment
from payments.tests.helpers import fine, lima
from procedures.actions import register_procedure
from tests import factories

pytestmark = pytest.mark.django_db


def sandbox_fine() -> Debt:
    """A fine in a test mailbox, as a test system registers and deposits it."""
    client, _ = ApiClient.objects.get_or_create(name="pruebas", defaults={"is_test": True})
    registration = register_procedure(
        factories.person_input(), factories.procedure_input(), actor=None, client=client
    )
    assert registration.procedure.person.is_test
    return Debt.objects.get(notification=fine(registration))


def test_a_test_payment_does_not_take_the_transaction_id_of_a_real_one():
    sandbox = sandbox_fine()
    real = Debt.objects.get(notification=fine())
    paid_at = lima(2026, 12, 1, 9, 30)
    # The test system pays its test fine as "bn" operation 000777 ...
    trial = apply_payment("000777", sandbox.payment_code, "350.00", paid_at, "bn", test=True)
    assert trial.created
    # ... and the bank's real confirmation with that operation number still pays the citizen's.
    bank = apply_payment("000777", real.payment_code, "350.00", paid_at, "bn")
    assert bank.created
    real.refresh_from_db()
    assert (real.status, real.paid) == (Debt.Status.PAID, Decimal("350.00"))
    # Each one, sent again, is the same payment in its own space: nothing counts twice.
    again = apply_payment("000777", real.payment_code, "350.00", paid_at, "bn")
    assert (again.created, again.payment.pk) == (False, bank.payment.pk)
    trial_again = apply_payment("000777", sandbox.payment_code, "350.00", paid_at, "bn", test=True)
    assert (trial_again.created, trial_again.payment.pk) == (False, trial.payment.pk)
    assert sorted(Payment.objects.values_list("is_test", flat=True)) == [False, True]


def test_the_bank_first_then_a_test_system_with_the_same_operation_number():
    real = Debt.objects.get(notification=fine())
    sandbox = sandbox_fine()
    paid_at = lima(2026, 12, 1, 9, 30)
    apply_payment("000778", real.payment_code, "350.00", paid_at, "bn")
    # To a test key the real operation does not exist: no conflict naming it.
    trial = apply_payment("000778", sandbox.payment_code, "350.00", paid_at, "bn", test=True)
    assert trial.created
    assert trial.payment.debt_id == sandbox.pk


def refusal(code: str, paid_at_day: int) -> PaymentRefused:
    with pytest.raises(PaymentRefused) as caught:
        apply_payment(f"T-{code}", code, "1.00", lima(2020, 1, paid_at_day, 9), "bn", test=True)
    return caught.value


def test_a_test_key_cannot_tell_a_real_payment_code_from_an_unknown_one():
    real = Debt.objects.get(notification=fine())
    unknown = codes.random_code()
    # Paid years before the real fine was deposited: for a real debt that would be refused
    # with the deposit's date; to a test key the real code is as unknown as any other.
    for day in (1, 2):
        answers = [refusal(code, day) for code in (real.payment_code, unknown)]
        assert [(a.code, a.errors) for a in answers] == [
            ("unknown_code", {"payment_code": ["Ninguna deuda tiene ese código de pago."]})
        ] * 2
    real.refresh_from_db()
    assert real.paid == 0
    assert not Payment.objects.exists()


def test_a_test_debt_still_checks_the_date_against_its_own_deposit():
    sandbox = sandbox_fine()
    refused = refusal(sandbox.payment_code, 1)
    assert refused.code == "invalid"
    assert "es anterior a la notificación de esta deuda" in refused.errors["paid_at"][0]


def _migrate(target: list[tuple[str, str]] | None = None) -> None:
    """Migrate the test database to `target`, or to the latest migrations."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(target or executor.loader.graph.leaf_nodes())


def test_payments_recorded_before_the_split_keep_their_place(reference_data):
    """The migration marks the test payments already recorded (their debts are test debts),
    so a test system resending one gets it back instead of paying twice."""
    sandbox = sandbox_fine()
    real = Debt.objects.get(notification=fine())
    paid_at = lima(2026, 12, 1, 9, 30)
    apply_payment("000779", sandbox.payment_code, "100.00", paid_at, "bn", test=True)
    apply_payment("000780", real.payment_code, "100.00", paid_at, "bn")
    try:
        _migrate([("payments", "0001_initial")])  # before the split: no is_test column
        _migrate([("payments", "0002_test_payments_apart_from_real_ones")])
        marks = dict(Payment.objects.values_list("transaction_id", "is_test"))
        assert marks == {"000779": True, "000780": False}
        resent = apply_payment("000779", sandbox.payment_code, "100.00", paid_at, "bn", test=True)
        assert not resent.created
        sandbox.refresh_from_db()
        assert sandbox.paid == Decimal("100.00")
    finally:
        _migrate()


def test_a_payment_recorded_by_hand_never_pays_a_test_debt():
    """record_payment (an officer's bank voucher) is no test key: to it a test debt's code is a
    code no debt has, so a test fine can never receive a real payment."""
    sandbox = sandbox_fine()
    answers = []
    for code in (sandbox.payment_code, codes.random_code()):
        out = StringIO()
        with pytest.raises(CommandError):
            call_command(
                "record_payment", "--transaction-id", f"VOUCHER-{code}", "--code", code,
                "--amount", "350.00", "--paid-at", "2026-12-01T08:00", "--source", "bn",
                stdout=out,
            )  # fmt: skip
        answers.append(json.loads(out.getvalue()))
    assert answers[0] == answers[1]
    assert answers[0]["error"] == "unknown_code"
    sandbox.refresh_from_db()
    assert sandbox.paid == 0
    assert not Payment.objects.exists()


def test_officers_see_a_test_debt_marked_as_a_test():
    sandbox = sandbox_fine()
    real = Debt.objects.get(notification=fine())
    officer = factories.officer("", NOTIFIERS)
    IssuingUnit.objects.get(code="SFM").members.add(officer)
    desk = Client()
    desk.force_login(officer)
    listed = desk.get("/oficina/pagos/").content.decode()
    rows = [row.split("</tr>")[0] for row in listed.split("<tr>")]
    test_row = next(r for r in rows if sandbox.payment_code in r)
    real_row = next(r for r in rows if real.payment_code in r)
    assert "PRUEBA" in test_row
    assert "PRUEBA" not in real_row
    notice = "ningún pago real (banco, Págalo.pe, registro manual) se aplica a ella"
    assert notice in desk.get(f"/oficina/pagos/{sandbox.payment_code}/").content.decode()
    assert notice not in desk.get(f"/oficina/pagos/{real.payment_code}/").content.decode()
