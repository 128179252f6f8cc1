"""When a deposited notification takes effect under each policy, on Peru's real 2026 calendar.

Every expected date below was counted by hand.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from legaltime.models import NonWorkingDay
from legaltime.policies import (
    Effect,
    Policy,
    current_policy,
    deadline_for,
    effect_of,
    pending_until,
)

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")
ON_DEPOSIT = Policy.parse("on_deposit")
NEXT_BUSINESS_DAY = Policy.parse("next_business_day")
FIVE_BUSINESS_DAYS = Policy.parse("on_opening_or_after_business_days:5")
TEN_CALENDAR_DAYS = Policy.parse("on_opening_or_after_calendar_days:10")


def lima(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LIMA)


# --- Policy.parse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "days"),
    [
        ("on_deposit", "on_deposit", None),
        ("next_business_day", "next_business_day", None),
        ("on_opening_or_after_business_days:5", "on_opening_or_after_business_days", 5),
        ("on_opening_or_after_calendar_days:10", "on_opening_or_after_calendar_days", 10),
        (" on_deposit ", "on_deposit", None),
    ],
)
def test_parse_accepts_the_four_policies(text, kind, days):
    policy = Policy.parse(text)
    assert policy == Policy(kind, days)
    assert str(policy) == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown notification policy"),
        ("on_receipt", "unknown notification policy"),
        ("ON_DEPOSIT", "unknown notification policy"),
        ("on_deposit:3", "takes no number of days"),
        ("next_business_day:1", "takes no number of days"),
        ("on_opening_or_after_business_days", "needs a whole number of days of at least 1"),
        ("on_opening_or_after_business_days:", "needs a whole number of days of at least 1"),
        ("on_opening_or_after_business_days:0", "needs a whole number of days of at least 1"),
        ("on_opening_or_after_business_days:-2", "needs a whole number of days of at least 1"),
        ("on_opening_or_after_calendar_days:ten", "needs a whole number of days of at least 1"),
        ("on_opening_or_after_calendar_days:1.5", "needs a whole number of days of at least 1"),
        ("on_opening_or_after_calendar_days:5:5", "needs a whole number of days of at least 1"),
    ],
)
def test_parse_refuses_anything_else_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        Policy.parse(text)


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        ("on_deposit", 5),
        ("on_opening_or_after_business_days", None),
        ("on_opening_or_after_business_days", 0),
        ("on_opening_or_after_calendar_days", True),
        ("whenever", None),
    ],
)
def test_an_inconsistent_policy_cannot_be_built(kind, days):
    with pytest.raises(ValueError, match="policy"):
        Policy(kind, days)


def test_current_policy_reads_the_setting(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    assert current_policy() == Policy("on_opening_or_after_business_days", 5)


def test_current_policy_defaults_to_on_deposit():
    assert current_policy() == Policy("on_deposit", None)


def test_a_bad_setting_fails_loudly(settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:0"
    with pytest.raises(ImproperlyConfigured, match="BUZON_NOTIFICATION_POLICY: policy"):
        current_policy()


@pytest.mark.parametrize(
    ("policy", "label"),
    [
        (
            ON_DEPOSIT,
            "Surte efecto el día en que se deposita en la casilla "
            "(TUO de la Ley N.° 27444, art. 20.4)",
        ),
        (
            NEXT_BUSINESS_DAY,
            "Surte efecto el día hábil siguiente al de su depósito en la casilla "
            "(Código Tributario, art. 104, inciso b)",
        ),
        (
            FIVE_BUSINESS_DAYS,
            "Surte efecto el día en que se abre o, si no se abre, el primer día hábil "
            "siguiente a 5 días hábiles desde su depósito (Ley N.° 31736)",
        ),
        (
            Policy("on_opening_or_after_business_days", 1),
            "Surte efecto el día en que se abre o, si no se abre, el primer día hábil "
            "siguiente a 1 día hábil desde su depósito (Ley N.° 31736)",
        ),
        (
            TEN_CALENDAR_DAYS,
            "Surte efecto el día en que se abre; si no se abre en 10 días naturales, "
            "se entiende rechazada (Ley 39/2015 de España, art. 43.2)",
        ),
    ],
)
def test_label_describes_the_rule_in_spanish(policy, label):
    with translation.override("es-pe"):
        assert policy.label == label


# --- effect_of --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "deposited_at", "expected"),
    [
        (ON_DEPOSIT, lima(2026, 3, 31, 10, 0), date(2026, 3, 31)),  # Tue within hours
        (ON_DEPOSIT, lima(2026, 3, 31, 7, 0), date(2026, 3, 31)),  # Tue before opening
        (ON_DEPOSIT, lima(2026, 4, 1, 17, 0), date(2026, 4, 6)),  # eve of Holy Week, late
        (ON_DEPOSIT, lima(2026, 8, 29, 9, 0), date(2026, 8, 31)),  # Saturday
        (ON_DEPOSIT, lima(2026, 7, 24, 19, 0), date(2026, 7, 27)),  # Friday evening
        (NEXT_BUSINESS_DAY, lima(2026, 3, 31, 10, 0), date(2026, 4, 1)),  # Tue -> Wed
        (NEXT_BUSINESS_DAY, lima(2026, 4, 1, 10, 0), date(2026, 4, 6)),  # Wed -> Mon
        (NEXT_BUSINESS_DAY, lima(2026, 4, 1, 17, 0), date(2026, 4, 7)),  # counts Mon -> Tue
        (NEXT_BUSINESS_DAY, lima(2026, 8, 29, 10, 0), date(2026, 9, 1)),  # Sat: Mon -> Tue
        (NEXT_BUSINESS_DAY, lima(2026, 7, 27, 12, 0), date(2026, 7, 30)),  # Mon -> Thu
        (NEXT_BUSINESS_DAY, lima(2026, 12, 24, 10, 0), date(2026, 12, 28)),  # Thu -> Mon
    ],
)
def test_deposit_based_policies_ignore_the_opening(policy, deposited_at, expected):
    # Opened later or never, and whatever `now` is: the deposit alone decides.
    for opened_at in (None, lima(2026, 12, 30, 10, 0)):
        effect = effect_of(policy, deposited_at, opened_at, now=lima(2026, 12, 31, 12, 0))
        assert effect.effective_date == expected
        assert not effect.deemed
        assert not effect.rejected


# Deposited Fri 27 Mar 2026 10:00. Five business days: Mar 30, 31, Apr 1, Apr 6, Apr 7 (Holy
# Thursday and Good Friday do not count); the first business day after them: Wed 8 Apr.
MARCH_DEPOSIT = lima(2026, 3, 27, 10, 0)


@pytest.mark.parametrize(
    ("opened_at", "now", "expected", "deemed"),
    [
        # opened on a business day: effective that day
        (lima(2026, 3, 30, 9, 0), lima(2026, 3, 30, 9, 0), date(2026, 3, 30), False),
        # opened on Holy Saturday: counts on Monday 6 April
        (lima(2026, 4, 4, 11, 0), lima(2026, 4, 4, 11, 0), date(2026, 4, 6), False),
        # opened after closing on day 5: counts on Wed 8 Apr, the deemed date, still an opening
        (lima(2026, 4, 7, 17, 0), lima(2026, 4, 7, 17, 0), date(2026, 4, 8), False),
        # opened on the deemed date itself
        (lima(2026, 4, 8, 10, 0), lima(2026, 4, 8, 10, 0), date(2026, 4, 8), False),
        # opened after the deemed date: the deemed date stands
        (lima(2026, 4, 9, 9, 0), lima(2026, 4, 9, 9, 0), date(2026, 4, 8), True),
        # never opened, the deemed date has arrived
        (None, lima(2026, 4, 8, 0, 1), date(2026, 4, 8), True),
        (None, lima(2026, 5, 4, 12, 0), date(2026, 4, 8), True),
        # never opened, the deemed date has not arrived yet: pending
        (None, lima(2026, 4, 7, 23, 59), None, False),
        (None, lima(2026, 3, 27, 10, 0), None, False),
    ],
)
def test_opening_or_after_business_days(opened_at, now, expected, deemed):
    effect = effect_of(FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, opened_at, now)
    assert effect.effective_date == expected
    assert effect.deemed is deemed
    assert effect.rejected is False
    assert effect.pending is (expected is None)


@pytest.mark.parametrize(
    ("deposited_at", "deemed_date"),
    [
        # Wed 22 Jul after closing counts Fri 24 (23 Jul is a holiday); Jul 27, 30, 31, Aug 3, 4
        # (28-29 July are holidays); then Wed 5 Aug.
        (lima(2026, 7, 22, 17, 0), date(2026, 8, 5)),
        # Fri 4 Dec: Dec 7, 10, 11, 14, 15 (8-9 December are holidays); then Wed 16 Dec.
        (lima(2026, 12, 4, 12, 0), date(2026, 12, 16)),
        # Sat 29 Aug counts Mon 31: Sep 1, 2, 3, 4, 7; then Tue 8 Sep.
        (lima(2026, 8, 29, 10, 0), date(2026, 9, 8)),
        # Thu 24 Dec: Dec 28, 29, 30, 31, Jan 4 (Christmas and New Year); then Tue 5 Jan 2027.
        (lima(2026, 12, 24, 10, 0), date(2027, 1, 5)),
    ],
)
def test_unopened_is_deemed_served_on_the_first_business_day_after_five(deposited_at, deemed_date):
    assert pending_until(FIVE_BUSINESS_DAYS, deposited_at) == deemed_date
    effect = effect_of(FIVE_BUSINESS_DAYS, deposited_at, None, now=lima(2027, 2, 1))
    assert effect == Effect(deemed_date, effect.rule, deemed=True, rejected=False)


def test_a_decree_pushes_the_deemed_date():
    NonWorkingDay.objects.create(
        date=date(2026, 12, 14),
        description="Día no laborable compensable",
        legal_basis="Decreto Supremo N.° 099-2026-PCM",
    )
    # Dec 7, 10, 11, 15, 16; then Thu 17 Dec.
    assert pending_until(FIVE_BUSINESS_DAYS, lima(2026, 12, 4, 12, 0)) == date(2026, 12, 17)


# Deposited Tue 31 Mar 2026 10:00 (Lima); ten calendar days run out on Fri 10 Apr at 10:00.
SPANISH_DEPOSIT = lima(2026, 3, 31, 10, 0)


@pytest.mark.parametrize(
    ("opened_at", "now", "expected", "rejected"),
    [
        # calendar days: opened on Good Friday counts on Good Friday
        (lima(2026, 4, 3, 12, 0), lima(2026, 4, 3, 12, 0), date(2026, 4, 3), False),
        # opened on a Sunday evening counts on that Sunday
        (lima(2026, 4, 5, 21, 0), lima(2026, 4, 5, 21, 0), date(2026, 4, 5), False),
        # opened at the last moment
        (lima(2026, 4, 10, 10, 0), lima(2026, 4, 10, 10, 0), date(2026, 4, 10), False),
        # opened a minute late: already rejected
        (lima(2026, 4, 10, 10, 1), lima(2026, 4, 10, 10, 1), date(2026, 4, 10), True),
        # never opened, time is up
        (None, lima(2026, 4, 10, 10, 0), date(2026, 4, 10), True),
        (None, lima(2026, 6, 1, 9, 0), date(2026, 4, 10), True),
        # never opened, still within the ten days
        (None, lima(2026, 4, 10, 9, 59), None, False),
    ],
)
def test_opening_or_after_calendar_days(opened_at, now, expected, rejected):
    effect = effect_of(TEN_CALENDAR_DAYS, SPANISH_DEPOSIT, opened_at, now)
    assert effect.effective_date == expected
    assert effect.rejected is rejected
    assert effect.deemed is rejected
    assert effect.pending is (expected is None)


def test_calendar_days_are_read_in_lima():
    # 04:00 UTC on 25 Dec is 23:00 on Thu 24 Dec in Lima; ten days later: Sun 3 Jan 2027.
    deposited_at = datetime(2026, 12, 25, 4, 0, tzinfo=UTC)
    assert pending_until(TEN_CALENDAR_DAYS, deposited_at) == date(2027, 1, 3)
    effect = effect_of(TEN_CALENDAR_DAYS, deposited_at, None, now=lima(2027, 1, 3, 23, 0))
    assert effect.effective_date == date(2027, 1, 3)
    assert effect.rejected


def test_rules_explain_the_date_in_spanish():
    with translation.override("es-pe"):
        assert (
            "27444, arts. 18 y 20.4"
            in effect_of(ON_DEPOSIT, MARCH_DEPOSIT, None, MARCH_DEPOSIT).rule
        )
        assert "art. 104" in effect_of(NEXT_BUSINESS_DAY, MARCH_DEPOSIT, None, MARCH_DEPOSIT).rule
        pending = effect_of(FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, None, MARCH_DEPOSIT)
        assert pending.rule == (
            "Pendiente: surte efecto el día en que se abra o, si no se abre, "
            "el 08/04/2026 (Ley N.° 31736)."
        )
        deemed = effect_of(FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, None, lima(2026, 4, 8, 9, 0))
        assert deemed.rule.startswith("Se tiene por notificada el primer día hábil siguiente a 5")
        opened = effect_of(
            FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, lima(2026, 3, 30, 9, 0), lima(2026, 3, 30, 9, 0)
        )
        assert opened.rule.startswith("Surte efecto el día hábil en que el destinatario la abrió")
        rejected = effect_of(TEN_CALENDAR_DAYS, SPANISH_DEPOSIT, None, lima(2026, 4, 11))
        assert rejected.rule.startswith("Se entiende rechazada: pasaron 10 días naturales")
        waiting = effect_of(TEN_CALENDAR_DAYS, SPANISH_DEPOSIT, None, SPANISH_DEPOSIT)
        assert "se entenderá rechazada el 10/04/2026" in waiting.rule


def test_an_opening_before_the_deposit_is_refused():
    with pytest.raises(ValueError, match="before it was deposited"):
        effect_of(FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, lima(2026, 3, 27, 9, 0), MARCH_DEPOSIT)


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 3, 27, 10, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        effect_of(ON_DEPOSIT, MARCH_DEPOSIT, None, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        effect_of(ON_DEPOSIT, naive, None, MARCH_DEPOSIT)


@pytest.mark.parametrize(
    ("policy", "deposited_at", "expected"),
    [
        (ON_DEPOSIT, MARCH_DEPOSIT, None),
        (NEXT_BUSINESS_DAY, MARCH_DEPOSIT, None),
        (FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, date(2026, 4, 8)),
        (TEN_CALENDAR_DAYS, SPANISH_DEPOSIT, date(2026, 4, 10)),
        (
            Policy("on_opening_or_after_calendar_days", 1),
            lima(2026, 12, 31, 23, 0),
            date(2027, 1, 1),
        ),
    ],
)
def test_pending_until(policy, deposited_at, expected):
    assert pending_until(policy, deposited_at) == expected


def test_one_effect_reads_the_decreed_days_once(django_assert_num_queries):
    with django_assert_num_queries(1):
        effect_of(FIVE_BUSINESS_DAYS, MARCH_DEPOSIT, lima(2026, 4, 9, 9, 0), lima(2026, 4, 9))


# --- deadline_for -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective_date", "business_days", "expected"),
    [
        # 15 business days from Wed 25 Mar 2026: Mar 26, 27, 30, 31, Apr 1, then (after Holy
        # Thursday and Good Friday) Apr 6, 7, 8, 9, 10, 13, 14, 15, 16, 17.
        (date(2026, 3, 25), 15, date(2026, 4, 17)),
        # 2 business days to fix defects (art. 136) from Fri 4 Dec: Dec 7, then Dec 10.
        (date(2026, 12, 4), 2, date(2026, 12, 10)),
        # 10 business days from Mon 20 Jul: Jul 21, 22, 24, 27, 30, 31, Aug 3, 4, 5, 7.
        (date(2026, 7, 20), 10, date(2026, 8, 7)),
        # 3 business days from Tue 6 Oct: Oct 7, 9, 12.
        (date(2026, 10, 6), 3, date(2026, 10, 12)),
    ],
)
def test_deadline_for(effective_date, business_days, expected):
    assert deadline_for(effective_date, business_days) == expected
