"""When an unpaid debt is overdue: the one rule, used by the model, the daily jobs and the
officers' lists.

A due date is a "fecha determinada". When it falls on a day that is not a business day
(a weekend, a holiday, a day declared non-working), it is carried over to the next business
day (TUO de la Ley N.° 27444, art. 145). So an installment due on Saturday can be paid all of
Monday, and is overdue from Tuesday. The due date itself is stored and shown as set.
"""

from __future__ import annotations

from datetime import date, timedelta

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
