"""When an unpaid debt is overdue: the one rule, used by the model, the daily jobs and the
officers' lists.

A due date is a "fecha determinada". When it falls on a day that is not a business day
(a weekend, a holiday, a day declared non-working), it is carried over to the next business
day (TUO de la Ley N.° 27444, art. 145). So an installment due on Saturday can be paid all of
Monday, and is overdue from Tuesday. The due date itself is stored and shown as set.

An overdue installment counts as *missed* (flagged overdue, with its evidence entry, and counted
for the plan's lapse) only once settings.BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS more
business days have passed: a payment made on the last day, at night, reaches us with the
bank's confirmation the next business day or later (`missed_before()`).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

from legaltime.calendar import BusinessCalendar


def payable_until(due: date, calendar: BusinessCalendar | None = None) -> date:
    """The last day a debt due on `due` can be paid on time. Pass one `calendar` for many
    dates: each new one reads the days declared non-working again."""
    calendar = calendar or BusinessCalendar()
    return due if calendar.is_business_day(due) else calendar.next_business_day(due)


def overdue_before(today: date, calendar: BusinessCalendar | None = None) -> date:
    """Debts due before this date are overdue on `today`, and no others: the day after the last
    business day before `today` (every due date up to that business day is payable no later
    than it; every later one is payable until today or after). For queries on `due_date`, and
    to test many debts against one date."""
    calendar = calendar or BusinessCalendar()
    day = today - timedelta(days=1)
    while not calendar.is_business_day(day):
        day -= timedelta(days=1)
    return day + timedelta(days=1)


def missed_before(today: date, calendar: BusinessCalendar | None = None) -> date:
    """Installments due before this date count as missed on `today`, and no others: those still
    unpaid after the day they could be paid on time (payable_until()) and then the grace for
    the payment system's confirmation, settings.BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS
    business days. With a grace of 2, an installment payable until Friday is missed from
    Wednesday on. A grace of 0 is overdue_before(today)."""
    calendar = calendar or BusinessCalendar()
    day = today
    for _ in range(settings.BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS):
        day -= timedelta(days=1)
        while not calendar.is_business_day(day):
            day -= timedelta(days=1)
    return overdue_before(day, calendar)
