"""Amounts and installment schedules, without a database.

Rounding rule (docs/payments.md): the total is split into equal shares rounded down to the
cent, and the cents left over (fewer than the number of installments) are added to the first
installment. So the installments always add up to the total exactly, every installment but the
first is the same, and the first is at most (count - 1) cents larger.

Due dates are monthly, on the same day of the month as the first one; a day the month does not
have becomes the month's last day (31 January, 28 or 29 February, 31 March...).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999.99")
MIN_INSTALLMENTS = 2
MAX_INSTALLMENTS = 72


# No accepted amount has more than this many digits before the point (MAX_AMOUNT has 7):
# anything larger is refused before quantize(), which would overflow the decimal context.
MAX_INTEGER_DIGITS = 10


class AmountError(ValueError):
    """Not an amount in soles with at most two decimals."""


class AmountTooLarge(AmountError):  # noqa: N818 (a kind of AmountError)
    """An amount far beyond any accepted one (1E+30, thirty 1s...): the caller's range message
    applies. `negative` says which end of the range it is off."""

    def __init__(self, negative: bool) -> None:
        super().__init__("too large")
        self.negative = negative


def parse_amount(value: Any) -> Decimal:
    """An amount given as text ("350", "350.5", "350.50"), an int or a Decimal; never a bool.

    Returns it quantized to the cent; raises AmountError for anything else (a comma as the
    decimal separator, three decimals, NaN...), and AmountTooLarge, an AmountError, for one
    with more than MAX_INTEGER_DIGITS digits before the point. Range checks are the caller's.
    """
    if isinstance(value, bool) or value is None:
        raise AmountError("not an amount")
    if isinstance(value, float):
        value = Decimal(repr(value))  # JSON numbers: 350.5 means "350.5"
    if isinstance(value, str):
        value = value.strip()
        if not value or not all(ch.isascii() and (ch.isdigit() or ch in ".-+") for ch in value):
            raise AmountError("not an amount")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise AmountError("not an amount") from None
    if not amount.is_finite():
        raise AmountError("not an amount")
    if amount and amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise AmountTooLarge(negative=amount < 0)
    try:
        quantized = amount.quantize(CENT)
    except (InvalidOperation, ArithmeticError):  # cannot happen below MAX_INTEGER_DIGITS
        raise AmountTooLarge(negative=amount < 0) from None
    if quantized != amount:
        raise AmountError("more than two decimals")
    return quantized


def canonical(amount: Decimal) -> str:
    """The form stored in details and evidence: "350.00"."""
    return str(amount.quantize(CENT))


def soles(amount: Decimal) -> str:
    """For people: "S/ 1,234.50" (the usual way of writing soles in Peru)."""
    return f"S/ {amount.quantize(CENT):,.2f}"


def split(total: Decimal, count: int) -> list[Decimal]:
    """Equal shares rounded down to the cent; the leftover cents go to the first one."""
    if count < 1:
        raise ValueError("at least one installment")
    cents = int(total.quantize(CENT) * 100)
    base, leftover = divmod(cents, count)
    shares = [base] * count
    shares[0] += leftover
    return [(Decimal(share) / 100).quantize(CENT) for share in shares]


def add_months(first: date, months: int) -> date:
    """The same day of the month, `months` later, clamped to the end of a shorter month."""
    index = first.month - 1 + months
    year, month = first.year + index // 12, index % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Row:
    number: int
    amount: Decimal
    due_date: date

    @classmethod
    def of(cls, details: Mapping[str, Any]) -> Row:
        """A row as `as_details()` wrote it into a notification's details."""
        return cls(
            int(details["number"]),
            Decimal(details["amount"]),
            date.fromisoformat(details["due_date"]),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "amount": canonical(self.amount),
            "due_date": self.due_date.isoformat(),
        }


def schedule(total: Decimal, count: int, first_due_date: date) -> list[Row]:
    return [
        Row(number, amount, add_months(first_due_date, number - 1))
        for number, amount in enumerate(split(total, count), start=1)
    ]
