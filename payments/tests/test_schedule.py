"""Installment schedules, amounts and payment codes: the rules, with property tests."""

import calendar
import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments import codes
from payments.schedule import (
    MAX_AMOUNT,
    MAX_INSTALLMENTS,
    MIN_INSTALLMENTS,
    AmountError,
    add_months,
    parse_amount,
    schedule,
    soles,
    split,
)

PROPERTIES = settings(max_examples=300, deadline=None, database=None)
counts = st.integers(MIN_INSTALLMENTS, MAX_INSTALLMENTS)
cents = st.integers(1, int(MAX_AMOUNT * 100))


@PROPERTIES
@given(total_cents=cents, count=counts)
def test_installments_always_add_up_to_the_total(total_cents, count):
    total = Decimal(total_cents) / 100
    shares = split(total, count)
    assert len(shares) == count
    assert sum(shares) == total
    assert all(share == share.quantize(Decimal("0.01")) for share in shares)


@PROPERTIES
@given(total_cents=cents, count=counts)
def test_equal_shares_and_the_leftover_cents_on_the_first(total_cents, count):
    if total_cents < count:
        return  # refused at deposit: not even a cent per installment
    shares = split(Decimal(total_cents) / 100, count)
    rest = set(shares[1:])
    assert len(rest) == 1
    (base,) = rest
    assert base > 0
    assert base == (Decimal(total_cents // count) / 100)
    assert Decimal(0) <= shares[0] - base < Decimal(count) / 100


@PROPERTIES
@given(
    total_cents=cents,
    count=counts,
    first=st.dates(min_value=date(2026, 1, 1), max_value=date(2036, 12, 31)),
)
def test_schedules_are_monthly_on_the_same_day_clamped_to_month_end(total_cents, count, first):
    rows = schedule(Decimal(total_cents) / 100, count, first)
    assert [r.number for r in rows] == list(range(1, count + 1))
    assert sum(r.amount for r in rows) == Decimal(total_cents) / 100
    assert rows[0].due_date == first
    for previous, row in itertools.pairwise(rows):
        assert row.due_date > previous.due_date
        months = (row.due_date.year - previous.due_date.year) * 12
        assert months + row.due_date.month - previous.due_date.month == 1
        length = calendar.monthrange(row.due_date.year, row.due_date.month)[1]
        assert row.due_date.day == min(first.day, length)


def test_the_rounding_rule_on_examples():
    assert split(Decimal("1000.00"), 3) == [Decimal("333.34"), Decimal("333.33"), Decimal("333.33")]
    assert split(Decimal("0.05"), 2) == [Decimal("0.03"), Decimal("0.02")]
    assert split(Decimal("100.00"), 4) == [Decimal("25.00")] * 4


def test_month_end_does_not_drift():
    first = date(2027, 1, 31)
    assert [add_months(first, k) for k in range(4)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert add_months(date(2027, 12, 29), 2) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [("350", "350.00"), ("350.5", "350.50"), (" 350.50 ", "350.50"), (12, "12.00"),
     (Decimal("7.10"), "7.10"), (350.5, "350.50"), ("350.500", "350.50")],
)  # fmt: skip
def test_amounts_accepted(given_value, expected):
    assert str(parse_amount(given_value)) == expected


@pytest.mark.parametrize(
    "given_value",
    ["350,50", "1,234.00", "12.345", "NaN", "Infinity", "", "1e3", True, None, "S/ 5"],
)
def test_amounts_refused(given_value):
    with pytest.raises(AmountError):
        parse_amount(given_value)


def test_soles_are_written_the_peruvian_way():
    assert soles(Decimal("1234.5")) == "S/ 1,234.50"


@PROPERTIES
@given(st.data())
def test_a_mistyped_payment_code_is_always_refused(data):
    code = codes.random_code()
    assert codes.is_valid(code)
    assert len(code) == codes.LENGTH
    assert code[0] != "0"
    position = data.draw(st.integers(0, codes.LENGTH - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    assert not codes.is_valid(code[:position] + digit + code[position + 1 :])
    swap = data.draw(st.integers(0, codes.LENGTH - 2))
    if code[swap] != code[swap + 1]:
        swapped = code[:swap] + code[swap + 1] + code[swap] + code[swap + 2 :]
        assert not codes.is_valid(swapped)


def test_codes_may_be_typed_with_spaces_or_dashes():
    code = codes.random_code()
    assert codes.is_valid(f"{code[:4]} {code[4:8]}-{code[8:]}")
    assert not codes.is_valid(code[:-1])
    assert not codes.is_valid("\u0661" * codes.LENGTH)  # ARABIC-INDIC DIGIT ONE
