"""Peru's legal calendar: business days and office hours.

TUO de la Ley N.° 27444, Ley del Procedimiento Administrativo General (D.S. N.° 004-2019-JUS):

- art. 18: notifications are made on business days and within office hours;
- arts. 144-145: a deadline in days counts business days only, starting on the business day
  after the notification.

A business day is a Monday to Friday that is neither a public holiday (the `holidays` package,
country "PE") nor a day declared non-working by decree (`NonWorkingDay`). Office hours come from
the settings BUZON_BUSINESS_HOURS_START and BUZON_BUSINESS_HOURS_END, read in America/Lima.

The module-level functions each open a fresh `BusinessCalendar`; code that asks many questions
in a row (legaltime.policies) shares one, so each year's decreed days are read from the database
once.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from legaltime.models import NonWorkingDay

LEGAL_TIME_ZONE = ZoneInfo("America/Lima")

# No real calendar has a year without a business day; past this, the data is wrong.
_MAX_DAYS_WITHOUT_BUSINESS_DAY = 366
_HOUR_MINUTE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@functools.cache
def public_holidays(year: int) -> frozenset[date]:
    """Peru's public holidays in `year` (D. Leg. N.° 713 and the laws that add holidays)."""
    return frozenset(holidays.country_holidays("PE", years=year).keys())


def non_working_days(first_year: int, last_year: int) -> frozenset[date]:
    """The days declared non-working by decree from `first_year` to `last_year`, inclusive."""
    rows = NonWorkingDay.objects.filter(
        date__gte=date(first_year, 1, 1), date__lte=date(last_year, 12, 31)
    ).values_list("date", flat=True)
    return frozenset(rows)


def business_hours() -> tuple[time, time]:
    """Office hours (art. 18): opening included, closing excluded, both in America/Lima."""
    start = _parse_hour("BUZON_BUSINESS_HOURS_START")
    end = _parse_hour("BUZON_BUSINESS_HOURS_END")
    if start >= end:
        raise ImproperlyConfigured(
            "BUZON_BUSINESS_HOURS_START must be earlier than BUZON_BUSINESS_HOURS_END, "
            f"got {start:%H:%M} and {end:%H:%M}"
        )
    return start, end


def _parse_hour(name: str) -> time:
    raw = getattr(settings, name)
    if not isinstance(raw, str) or not _HOUR_MINUTE.fullmatch(raw):
        raise ImproperlyConfigured(f"{name} must be a time as HH:MM (24 hours), got {raw!r}")
    return time.fromisoformat(raw)


def lima_time(moment: datetime) -> datetime:
    """`moment` in America/Lima, where legal dates are read. Naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"legal time needs a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(LEGAL_TIME_ZONE)


def lima_date(moment: datetime) -> date:
    """The calendar date of `moment` in America/Lima (no business-day adjustment)."""
    return lima_time(moment).date()


class BusinessCalendar:
    """Answers business-day questions, reading each year's decreed days at most once.

    Keep an instance for one call chain only (one request, one task): a NonWorkingDay added
    later is not seen by an instance that already loaded that year.
    """

    def __init__(self) -> None:
        self._decreed: dict[int, frozenset[date]] = {}

    def _decreed_days(self, year: int) -> frozenset[date]:
        if year not in self._decreed:
            # Deadlines near the end of a year run into the next one: load both in one query.
            loaded = non_working_days(year, year + 1)
            for y in (year, year + 1):
                self._decreed.setdefault(y, frozenset(d for d in loaded if d.year == y))
        return self._decreed[year]

    def preload(self, first_year: int, last_year: int) -> None:
        """Read the decreed days of these years in one query: for many dates across years."""
        loaded = non_working_days(first_year, last_year)
        for y in range(first_year, last_year + 1):
            self._decreed.setdefault(y, frozenset(d for d in loaded if d.year == y))

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday, not a public holiday, not declared non-working (art. 145)."""
        return (
            day.weekday() < 5
            and day not in public_holidays(day.year)
            and day not in self._decreed_days(day.year)
        )

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        candidate = day
        for _ in range(_MAX_DAYS_WITHOUT_BUSINESS_DAY):
            candidate += timedelta(days=1)
            if self.is_business_day(candidate):
                return candidate
        raise ImproperlyConfigured(
            f"no business day in the {_MAX_DAYS_WITHOUT_BUSINESS_DAY} days after {day}: "
            "check the days declared non-working"
        )

    def add_business_days(self, day: date, n: int) -> date:
        """The n-th business day after `day`; day 1 is the business day after it (art. 145)."""
        if n < 0:
            raise ValueError(f"cannot count a negative number of business days ({n})")
        result = day
        for _ in range(n):
            result = self.next_business_day(result)
        return result

    def within_business_hours(self, moment: datetime) -> bool:
        """True on a business day between opening (included) and closing (excluded), in Lima."""
        local = lima_time(moment)
        start, end = business_hours()
        return self.is_business_day(local.date()) and start <= local.time() < end

    def legal_date_of(self, moment: datetime) -> date:
        """The date on which an act done at `moment` counts as done (art. 18).

        On a business day, anything before closing time counts that day, including before
        opening (the act is already there when the office opens). After closing, or on a day
        that is not a business day, it counts on the next business day.
        """
        local = lima_time(moment)
        _, end = business_hours()
        day = local.date()
        if self.is_business_day(day) and local.time() < end:
            return day
        return self.next_business_day(day)


def is_business_day(day: date) -> bool:
    """Whether `day` is a business day in Peru (TUO de la Ley N.° 27444, art. 145)."""
    return BusinessCalendar().is_business_day(day)


def next_business_day(day: date) -> date:
    """The first business day strictly after `day` (TUO de la Ley N.° 27444, art. 145)."""
    return BusinessCalendar().next_business_day(day)


def add_business_days(day: date, n: int) -> date:
    """The n-th business day after `day` (TUO de la Ley N.° 27444, arts. 144-145).

    Counting starts on the business day after `day`, so `add_business_days(d, 1)` is
    `next_business_day(d)`. `n == 0` returns `day` unchanged; a negative `n` raises ValueError.
    """
    return BusinessCalendar().add_business_days(day, n)


def within_business_hours(moment: datetime) -> bool:
    """Whether `moment` falls on a business day within office hours (TUO 27444, art. 18)."""
    return BusinessCalendar().within_business_hours(moment)


def legal_date_of(moment: datetime) -> date:
    """The date (Lima) on which an act done at `moment` counts as done (TUO 27444, art. 18).

    That same date on a business day before closing time; otherwise the next business day.
    """
    return BusinessCalendar().legal_date_of(moment)
