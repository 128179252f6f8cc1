"""POST /payments with live and test keys: each pays only its own kind of debt (a test
mailbox's, or a real person's), the other kind's code is answered as a code no debt has, and a
payment is a test payment exactly when its debt is a test mailbox's, at runtime and in the
migrations alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from api.tests.test_keys_and_errors import key_for, post, problem_of
from evidence.models import Event, EventKind
from payments import codes
from payments.models import Debt, Payment
from payments.tests.helpers import fine, lima
from payments.tests.test_test_keys import _migrate, sandbox_fine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _first_of_december() -> Iterator[None]:
    """The fines fall due on 30 December 2026; pay them on the 1st, 10:00 in Lima."""
    with time_machine.travel(lima(2026, 12, 1, 10, 0), tick=False):
        yield


def body(code: str, tid: str, paid_at: str = "2026-12-01T09:30:00-05:00") -> dict[str, Any]:
    return {"source": "bn", "transaction_id": tid, "payment_code": code, "amount": "350.00",
            "paid_at": paid_at}  # fmt: skip


def keys() -> tuple[str, str]:
    _live, live = key_for("payments:write", name="banco")
    _test, test = key_for("payments:write", test=True, name="banco-pruebas")
    return live, test


def nothing_paid(*debts: Debt) -> None:
    for debt in debts:
        debt.refresh_from_db()
        assert (str(debt.paid), debt.status) == ("0.00", Debt.Status.PENDING)
    assert not Payment.objects.filter(debt__in=debts).exists()
    assert not Event.objects.filter(
        kind=EventKind.PAYMENT_RECEIVED, notification__debts__in=debts
    ).exists()


def test_a_live_key_cannot_tell_a_test_payment_code_from_an_unknown_one():
    live, _test = keys()
    sandbox = sandbox_fine()
    unknown = codes.random_code()
    # Also paid years before the test fine's deposit: for a debt it could pay, the date would
    # be refused naming the deposit; here the test code is as unknown as any other.
    for when in ("2026-12-01T09:30:00-05:00", "2020-01-01T09:00:00-05:00"):
        answers = [
            post("/payments", live, body(code, f"BN-{code}-{when[:4]}", when), f"{code}{when}")
            for code in (sandbox.payment_code, unknown)
        ]
        assert [a.status_code for a in answers] == [404, 404]
        assert problem_of(answers[0]) == problem_of(answers[1])
        assert problem_of(answers[0])["errors"] == [
            {"field": "payment_code", "detail": "Ninguna deuda tiene ese código de pago."}
        ]
    nothing_paid(sandbox)


def test_a_payment_is_a_test_payment_exactly_when_its_debt_is_a_test_mailboxs(reference_data):
    live, test = keys()
    sandbox = sandbox_fine()
    real = Debt.objects.get(notification=fine())
    # Each key pays its own kind of debt. (Both may use the same operation number of a channel,
    # test_test_keys.py; not here, where the payments go back to before that was possible.)
    trial = post("/payments", test, body(sandbox.payment_code, "T-000777"), "t-1")
    bank = post("/payments", live, body(real.payment_code, "000777"), "l-1")
    assert (trial.status_code, bank.status_code) == (201, 201)
    trial_body, bank_body = json.loads(trial.content), json.loads(bank.content)
    assert (trial_body["test"], bank_body["test"]) == (True, False)
    assert Payment.objects.get(debt=sandbox).is_test is True
    assert Payment.objects.get(debt=real).is_test is False
    # The other kind's code is unknown to each key, whatever the operation number, and
    # nothing is written: not even a real payment of the test fine.
    other_fine = sandbox_fine()
    other_real = Debt.objects.get(notification=fine())
    for key, code, used in ((live, other_fine.payment_code, "000777"),
                            (test, other_real.payment_code, "T-000777")):  # fmt: skip
        refused = post("/payments", key, body(code, "000778"), f"x-{code}")
        assert refused.status_code == 404
        # With a number the key already used: the same 409 as for a code no debt has.
        taken = post("/payments", key, body(code, used), f"y-{code}")
        assert taken.status_code == 409
        unknown = post("/payments", key, body(codes.random_code(), used), f"z-{code}")
        assert problem_of(taken) == problem_of(unknown)
    nothing_paid(other_fine, other_real)
    assert Payment.objects.count() == 2
    # The same confirmation again, under a new Idempotency-Key, is the same payment, on each
    # side: 200, created false, the same id, nothing counted twice.
    for key, code, tid, first in ((test, sandbox.payment_code, "T-000777", trial_body),
                                  (live, real.payment_code, "000777", bank_body)):  # fmt: skip
        again = post("/payments", key, body(code, tid), f"again-{code}")
        assert again.status_code == 200
        assert json.loads(again.content) == {**first, "created": False}
    for debt in (sandbox, real):
        debt.refresh_from_db()
        assert (str(debt.paid), debt.status) == ("350.00", Debt.Status.PAID)
    # The migrations' rule is the runtime's: undoing the column and marking the payments
    # again from their debts gives every payment the mark it was given when it was made.
    marks = dict(Payment.objects.values_list("debt__payment_code", "is_test"))
    assert marks == {sandbox.payment_code: True, real.payment_code: False}
    try:
        _migrate([("payments", "0001_initial")])
        _migrate()
        assert dict(Payment.objects.values_list("debt__payment_code", "is_test")) == marks
    finally:
        _migrate()


def test_a_test_fines_payment_recorded_as_real_before_the_fix_becomes_a_test_payment(
    reference_data,
):
    """Until now a live key could pay a test fine, and its payment was recorded as a real
    one. Migration 0004 marks it from its debt, as 0002 did; a payment whose channel and
    transaction id a test key also used stays as it was (both cannot be test payments)."""
    live, test = keys()
    sandbox, clash = sandbox_fine(), sandbox_fine()
    assert post("/payments", test, body(sandbox.payment_code, "000900"), "t-1").status_code == 201
    assert post("/payments", test, body(clash.payment_code, "000901"), "t-2").status_code == 201
    assert post("/payments", test, body(sandbox.payment_code, "000902"), "t-3").status_code == 201
    # As a live key recorded them before the fix: 000900 and, paying the other test fine,
    # the test key's own 000902.
    Payment.objects.filter(transaction_id="000900").update(is_test=False)
    Payment.objects.filter(transaction_id="000901").update(transaction_id="000902", is_test=False)
    try:
        _migrate([("payments", "0003_claim_before_sending")])
        _migrate([("payments", "0004_test_payments_follow_their_debt")])
        marks = dict(Payment.objects.values_list("debt__payment_code", "is_test"))
        assert marks == {sandbox.payment_code: True, clash.payment_code: False}
        assert Payment.objects.filter(debt=sandbox, is_test=True).count() == 2
    finally:
        _migrate()
    # To the live key the test fine's code is now unknown, its old operation included; the
    # test key gets that payment back instead of paying twice.
    assert post("/payments", live, body(sandbox.payment_code, "000900"), "l-1").status_code == 404
    resent = post("/payments", test, body(sandbox.payment_code, "000900"), "t-4")
    assert resent.status_code == 200
    sandbox.refresh_from_db()
    assert str(sandbox.paid) == "700.00"
