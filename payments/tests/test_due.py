"""The carry-over of due dates that fall on non-working days (TUO Ley 27444, art. 145)."""

from datetime import date, timedelta

import pytest

from payments.due import overdue_before, payable_until

pytestmark = pytest.mark.django_db  # the calendar reads the days declared non-working


@pytest.mark.parametrize(
    ("due", "until"),
    [
        (date(2027, 1, 29), date(2027, 1, 29)),  # a Friday: as set
        (date(2027, 1, 30), date(2027, 2, 1)),  # Saturday -> Monday
        (date(2027, 7, 28), date(2027, 7, 30)),  # Independence Day, then the 29th -> Friday
        (date(2027, 12, 24), date(2027, 12, 24)),  # Christmas Eve is a business day
        (date(2027, 12, 25), date(2027, 12, 27)),  # Christmas (a Saturday) -> Monday
    ],
)
def test_a_due_date_is_payable_until_the_next_business_day(due, until):
    assert payable_until(due) == until


def test_the_query_cutoff_agrees_with_the_carry_over_on_every_day_of_a_year():
    # due < overdue_before(today) exactly when payable_until(due) < today; from New Year's Day
    # on, so the cutoff's walk back crosses the year boundary and the Christmas holidays.
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(366)]
    for today in days:
        cutoff = overdue_before(today)
        for due in (today - timedelta(days=k) for k in range(1, 10)):
            assert (due < cutoff) == (payable_until(due) < today), (today, due)
