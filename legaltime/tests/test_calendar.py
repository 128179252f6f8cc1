"""Business days and hours on Peru's real calendar (no mocks: the holidays package decides).

Every expected date below was counted by hand on a 2025-2027 calendar.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from legaltime.calendar import (
    add_business_days,
    is_business_day,
    legal_date_of,
    next_business_day,
    within_business_hours,
)
from legaltime.models import NonWorkingDay

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")


def lima(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LIMA)


def decree(day: date, basis: str = "Decreto Supremo N.° 099-2026-PCM") -> NonWorkingDay:
    return NonWorkingDay.objects.create(
        date=day, description="Día no laborable para el sector público", legal_basis=basis
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 1), False),  # Thu, New Year's Day
        (date(2026, 1, 2), True),  # Fri
        (date(2026, 4, 1), True),  # Wed before Holy Week
        (date(2026, 4, 2), False),  # Holy Thursday
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 4), False),  # Saturday
        (date(2026, 4, 6), True),  # Monday after Easter
        (date(2026, 7, 27), True),  # Mon
        (date(2026, 7, 28), False),  # Tue, Independence Day
        (date(2026, 7, 29), False),  # Wed, second national holiday
        (date(2026, 7, 30), True),  # Thu
        (date(2026, 8, 30), False),  # Sun, Santa Rosa de Lima
        (date(2026, 8, 31), True),  # Mon
        (date(2026, 10, 8), False),  # Thu, Combate de Angamos
        (date(2026, 10, 9), True),  # Fri
        (date(2026, 11, 2), True),  # Mon after All Saints (not a holiday)
        (date(2026, 12, 8), False),  # Tue, Immaculate Conception
        (date(2026, 12, 9), False),  # Wed, Batalla de Ayacucho
        (date(2026, 12, 24), True),  # Thu: not a holiday unless decreed
        (date(2026, 12, 25), False),  # Fri, Christmas
        (date(2025, 4, 17), False),  # Holy Thursday 2025
        (date(2025, 12, 9), False),  # Tue, Batalla de Ayacucho 2025
    ],
)
def test_is_business_day(day, expected):
    assert is_business_day(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 31), date(2026, 4, 1)),  # Tue -> Wed
        (date(2026, 4, 1), date(2026, 4, 6)),  # Wed -> over Holy Week to Mon
        (date(2026, 4, 2), date(2026, 4, 6)),  # from the holiday itself
        (date(2026, 7, 24), date(2026, 7, 27)),  # Fri -> Mon
        (date(2026, 7, 27), date(2026, 7, 30)),  # Mon -> over 28-29 July to Thu
        (date(2026, 8, 28), date(2026, 8, 31)),  # Fri -> over the weekend of 30 Aug to Mon
        (date(2026, 10, 7), date(2026, 10, 9)),  # Wed -> over 8 Oct to Fri
        (date(2026, 10, 30), date(2026, 11, 2)),  # Fri -> over 1 Nov (Sun) to Mon
        (date(2026, 12, 7), date(2026, 12, 10)),  # Mon -> over 8-9 Dec to Thu
        (date(2026, 12, 24), date(2026, 12, 28)),  # Thu -> over Christmas to Mon
        (date(2026, 12, 31), date(2027, 1, 4)),  # Thu -> over New Year 2027 (Fri) to Mon
        (date(2025, 4, 16), date(2025, 4, 21)),  # Wed -> over Holy Week 2025 to Mon
    ],
)
def test_next_business_day(day, expected):
    assert next_business_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 31), 0, date(2026, 3, 31)),
        (date(2026, 3, 31), 1, date(2026, 4, 1)),
        (date(2026, 3, 31), 2, date(2026, 4, 6)),  # Wed 1, then Mon 6 after Holy Week
        (date(2026, 3, 31), 3, date(2026, 4, 7)),
        (date(2026, 3, 27), 5, date(2026, 4, 7)),  # Mar 30, 31, Apr 1, 6, 7
        (date(2026, 4, 2), 1, date(2026, 4, 6)),  # counting from a holiday
        (date(2026, 7, 22), 1, date(2026, 7, 24)),  # skips 23 July (Thu)
        (date(2026, 7, 22), 3, date(2026, 7, 30)),  # Jul 24, 27, 30
        (date(2026, 7, 24), 2, date(2026, 7, 30)),  # Jul 27, 30
        (date(2026, 8, 5), 1, date(2026, 8, 7)),  # skips 6 August (Thu)
        (date(2026, 8, 27), 2, date(2026, 8, 31)),  # Aug 28, 31
        (date(2026, 10, 6), 3, date(2026, 10, 12)),  # Oct 7, 9, 12
        (date(2026, 10, 29), 2, date(2026, 11, 2)),  # Oct 30, Nov 2
        (date(2026, 12, 4), 3, date(2026, 12, 11)),  # Dec 7, 10, 11
        (date(2026, 12, 22), 5, date(2026, 12, 30)),  # Dec 23, 24, 28, 29, 30
        (date(2026, 12, 29), 5, date(2027, 1, 6)),  # Dec 30, 31, Jan 4, 5, 6
        (date(2025, 12, 5), 3, date(2025, 12, 12)),  # Fri; Dec 10, 11, 12 after 8-9 Dec
    ],
)
def test_add_business_days(day, n, expected):
    assert add_business_days(day, n) == expected


def test_add_business_days_refuses_a_negative_count():
    with pytest.raises(ValueError, match="negative"):
        add_business_days(date(2026, 4, 1), -1)


def test_a_day_declared_non_working_by_decree_moves_the_count():
    assert is_business_day(date(2026, 12, 24))
    assert add_business_days(date(2026, 12, 22), 5) == date(2026, 12, 30)

    decree(date(2026, 12, 24))

    assert not is_business_day(date(2026, 12, 24))
    assert next_business_day(date(2026, 12, 23)) == date(2026, 12, 28)
    # Dec 23, 28, 29, 30, 31
    assert add_business_days(date(2026, 12, 22), 5) == date(2026, 12, 31)


def test_a_decree_for_the_next_year_counts_when_a_deadline_crosses_it():
    decree(date(2027, 1, 4), basis="Decreto Supremo N.° 001-2027-PCM")
    assert next_business_day(date(2026, 12, 31)) == date(2027, 1, 5)
    # Dec 30, 31, Jan 5, 6, 7
    assert add_business_days(date(2026, 12, 29), 5) == date(2027, 1, 7)


def test_counting_across_the_new_year_reads_decreed_days_in_one_query(
    django_assert_num_queries,
):
    with django_assert_num_queries(1):
        assert add_business_days(date(2026, 12, 29), 5) == date(2027, 1, 6)


def test_a_long_count_reads_each_year_once(django_assert_max_num_queries):
    # 2026 has 248 business days (261 weekdays, 13 of them holidays): this runs into 2027.
    with django_assert_max_num_queries(2):
        add_business_days(date(2026, 1, 1), 260)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (lima(2026, 3, 31, 7, 0), date(2026, 3, 31)),  # Tue before opening: counts that day
        (lima(2026, 3, 31, 10, 0), date(2026, 3, 31)),  # Tue within hours
        (lima(2026, 3, 31, 16, 29), date(2026, 3, 31)),  # last minute before closing
        (lima(2026, 3, 31, 16, 30), date(2026, 4, 1)),  # at closing: next business day
        (lima(2026, 4, 1, 12, 0), date(2026, 4, 1)),  # Holy Week eve, within hours
        (lima(2026, 4, 1, 17, 0), date(2026, 4, 6)),  # Holy Week eve, after hours
        (lima(2026, 4, 2, 10, 0), date(2026, 4, 6)),  # on Holy Thursday
        (lima(2026, 7, 24, 18, 0), date(2026, 7, 27)),  # Friday evening
        (lima(2026, 7, 27, 17, 0), date(2026, 7, 30)),  # eve of 28 July, after hours
        (lima(2026, 8, 29, 10, 0), date(2026, 8, 31)),  # Saturday before 30 August
        (lima(2026, 10, 7, 20, 0), date(2026, 10, 9)),  # eve of 8 October, evening
        (lima(2026, 12, 7, 23, 59), date(2026, 12, 10)),  # eve of 8-9 December
        (lima(2026, 12, 24, 16, 45), date(2026, 12, 28)),  # Christmas Eve after closing
        (lima(2026, 12, 31, 18, 0), date(2027, 1, 4)),  # New Year's Eve after closing
        # 03:00 UTC on Apr 1 is 22:00 on Tue Mar 31 in Lima: after closing
        (datetime(2026, 4, 1, 3, 0, tzinfo=UTC), date(2026, 4, 1)),
        # 21:00 UTC on Fri Jul 24 is 16:00 in Lima: within hours
        (datetime(2026, 7, 24, 21, 0, tzinfo=UTC), date(2026, 7, 24)),
    ],
)
def test_legal_date_of(moment, expected):
    assert legal_date_of(moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (lima(2026, 3, 31, 8, 29), False),
        (lima(2026, 3, 31, 8, 30), True),
        (lima(2026, 3, 31, 16, 29), True),
        (lima(2026, 3, 31, 16, 30), False),
        (lima(2026, 4, 2, 10, 0), False),  # Holy Thursday
        (lima(2026, 8, 29, 10, 0), False),  # Saturday
        (datetime(2026, 3, 31, 13, 30, tzinfo=UTC), True),  # 08:30 in Lima
        (datetime(2026, 3, 31, 13, 29, tzinfo=UTC), False),  # 08:29 in Lima
    ],
)
def test_within_business_hours(moment, expected):
    assert within_business_hours(moment) is expected


def test_business_hours_come_from_the_settings(settings):
    settings.BUZON_BUSINESS_HOURS_START = "09:00"
    settings.BUZON_BUSINESS_HOURS_END = "18:00"
    assert not within_business_hours(lima(2026, 3, 31, 8, 45))
    assert within_business_hours(lima(2026, 3, 31, 17, 0))
    assert legal_date_of(lima(2026, 3, 31, 17, 0)) == date(2026, 3, 31)
    assert legal_date_of(lima(2026, 3, 31, 18, 0)) == date(2026, 4, 1)


@pytest.mark.parametrize(
    ("start", "end"),
    [("8:30", "16:30"), ("08:30", "24:00"), ("08:30", "4:30 pm"), ("16:30", "08:30")],
)
def test_bad_business_hours_fail_loudly(settings, start, end):
    settings.BUZON_BUSINESS_HOURS_START = start
    settings.BUZON_BUSINESS_HOURS_END = end
    with pytest.raises(ImproperlyConfigured, match="BUZON_BUSINESS_HOURS"):
        legal_date_of(lima(2026, 3, 31, 10, 0))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        legal_date_of(datetime(2026, 3, 31, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        within_business_hours(datetime(2026, 3, 31, 10, 0))  # noqa: DTZ001
