"""When a notification deposited in a casilla takes effect: a per-agency policy.

The agency picks one in the setting BUZON_NOTIFICATION_POLICY:

- ``on_deposit``: a mandatory casilla; the notification takes effect on the day it is deposited
  (TUO de la Ley N.° 27444, art. 20.4), read on business days and hours (art. 18).
- ``next_business_day``: takes effect on the business day after the deposit (SUNAT, Código
  Tributario, art. 104, inciso b).
- ``on_opening_or_after_business_days:N``: takes effect when opened (acknowledged); unopened, on
  the first business day after N business days (Ley N.° 31736, SUNAFIL practice; N is 5 there).
- ``on_opening_or_after_calendar_days:N``: takes effect when opened; unopened after N calendar
  days it counts as rejected and the procedure goes on (Spain, Ley 39/2015, art. 43.2; N is 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from legaltime.calendar import BusinessCalendar, add_business_days, lima_date, lima_time


class PolicyKind(StrEnum):
    ON_DEPOSIT = "on_deposit"
    NEXT_BUSINESS_DAY = "next_business_day"
    ON_OPENING_OR_AFTER_BUSINESS_DAYS = "on_opening_or_after_business_days"
    ON_OPENING_OR_AFTER_CALENDAR_DAYS = "on_opening_or_after_calendar_days"


_KINDS = frozenset(kind.value for kind in PolicyKind)
_COUNTED = frozenset(
    {PolicyKind.ON_OPENING_OR_AFTER_BUSINESS_DAYS, PolicyKind.ON_OPENING_OR_AFTER_CALENDAR_DAYS}
)
_DIGITS = re.compile(r"[0-9]+")
_EXPECTED = (
    "expected one of: on_deposit, next_business_day, on_opening_or_after_business_days:N, "
    "on_opening_or_after_calendar_days:N (N a whole number of days, at least 1)"
)


def _format(day: date) -> str:
    return f"{day:%d/%m/%Y}"


@dataclass(frozen=True)
class Policy:
    """A notification policy; `days` is N for the opening-based kinds and None otherwise."""

    kind: str
    days: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown notification policy kind {self.kind!r}; {_EXPECTED}")
        if self.kind in _COUNTED:
            if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 1:
                raise ValueError(
                    f"policy {self.kind!r} needs a whole number of days of at least 1, "
                    f"got {self.days!r}"
                )
        elif self.days is not None:
            raise ValueError(f"policy {self.kind!r} takes no number of days, got {self.days!r}")

    @classmethod
    def parse(cls, text: str) -> Policy:
        """Read a policy as written in the setting, e.g. "on_opening_or_after_business_days:5"."""
        kind, colon, count = text.strip().partition(":")
        if kind not in _KINDS:
            raise ValueError(f"unknown notification policy {text!r}; {_EXPECTED}")
        if kind not in _COUNTED:
            if colon:
                raise ValueError(f"policy {kind!r} takes no number of days, got {text!r}")
            return cls(kind)
        if not _DIGITS.fullmatch(count) or int(count) < 1:
            raise ValueError(
                f"policy {kind!r} needs a whole number of days of at least 1 after the colon, "
                f"like '{kind}:5'; got {text!r}"
            )
        return cls(kind, int(count))

    def __str__(self) -> str:
        return str(self.kind) if self.days is None else f"{self.kind}:{self.days}"

    @property
    def label(self) -> str:
        """A short Spanish description of the rule, for documents (art. 24.1: effective date)."""
        if self.kind == PolicyKind.ON_DEPOSIT:
            return _(
                "Surte efecto el día en que se deposita en la casilla "
                "(TUO de la Ley N.° 27444, art. 20.4)"
            )
        if self.kind == PolicyKind.NEXT_BUSINESS_DAY:
            return _(
                "Surte efecto el día hábil siguiente al de su depósito en la casilla "
                "(Código Tributario, art. 104, inciso b)"
            )
        days = _days_of(self)
        if self.kind == PolicyKind.ON_OPENING_OR_AFTER_BUSINESS_DAYS:
            return ngettext(
                "Surte efecto el día en que se abre o, si no se abre, el primer día hábil "
                "siguiente a %(days)d día hábil desde su depósito (Ley N.° 31736)",
                "Surte efecto el día en que se abre o, si no se abre, el primer día hábil "
                "siguiente a %(days)d días hábiles desde su depósito (Ley N.° 31736)",
                days,
            ) % {"days": days}
        return ngettext(
            "Surte efecto el día en que se abre; si no se abre en %(days)d día natural, "
            "se entiende rechazada (Ley 39/2015 de España, art. 43.2)",
            "Surte efecto el día en que se abre; si no se abre en %(days)d días naturales, "
            "se entiende rechazada (Ley 39/2015 de España, art. 43.2)",
            days,
        ) % {"days": days}


def _days_of(policy: Policy) -> int:
    if policy.days is None:  # __post_init__ rules this out for the counted kinds
        raise ValueError(f"policy {policy.kind!r} has no number of days")
    return policy.days


def current_policy() -> Policy:
    """The agency's policy, from settings.BUZON_NOTIFICATION_POLICY (fails loudly if bad)."""
    try:
        return Policy.parse(settings.BUZON_NOTIFICATION_POLICY)
    except ValueError as error:
        raise ImproperlyConfigured(f"BUZON_NOTIFICATION_POLICY: {error}") from error


@dataclass(frozen=True)
class Effect:
    """When a notification takes effect, and why.

    `effective_date` is None while an opening-based policy is still waiting. `deemed` is True
    when the date comes from time passing without the notification being opened; `rejected`
    is True when, moreover, the law counts it as rejected (Ley 39/2015, art. 43.2).
    """

    effective_date: date | None
    rule: str
    deemed: bool = False
    rejected: bool = False

    @property
    def pending(self) -> bool:
        return self.effective_date is None


def effect_of(
    policy: Policy, deposited_at: datetime, opened_at: datetime | None, now: datetime
) -> Effect:
    """Apply `policy` to a notification deposited at `deposited_at` and opened at `opened_at`.

    `now` only matters for the opening-based policies: an unopened notification is deemed
    served (or rejected) once `now` reaches the date the policy sets.
    """
    lima_time(now)  # refuse naive datetimes up front, whatever the policy
    if opened_at is not None and lima_time(opened_at) < lima_time(deposited_at):
        raise ValueError(f"opened at {opened_at} before it was deposited at {deposited_at}")
    calendar = BusinessCalendar()

    if policy.kind == PolicyKind.ON_DEPOSIT:
        return Effect(
            calendar.legal_date_of(deposited_at),
            _(
                "Surte efecto el día en que se depositó en la casilla electrónica o, si se "
                "depositó en día inhábil o después del horario de atención, el primer día hábil "
                "siguiente (TUO de la Ley N.° 27444, arts. 18 y 20.4)."
            ),
        )

    if policy.kind == PolicyKind.NEXT_BUSINESS_DAY:
        return Effect(
            calendar.next_business_day(calendar.legal_date_of(deposited_at)),
            _(
                "Surte efecto el día hábil siguiente al de su depósito en la casilla "
                "electrónica (Código Tributario, art. 104, inciso b)."
            ),
        )

    days = _days_of(policy)
    if policy.kind == PolicyKind.ON_OPENING_OR_AFTER_BUSINESS_DAYS:
        deemed_date = _deemed_business_date(calendar, deposited_at, days)
        if opened_at is not None:
            opened_on = calendar.legal_date_of(opened_at)
            if opened_on <= deemed_date:
                return Effect(
                    opened_on,
                    ngettext(
                        "Surte efecto el día hábil en que el destinatario la abrió, antes de "
                        "cumplirse el plazo de %(days)d día hábil sin acuse de recibo "
                        "(Ley N.° 31736).",
                        "Surte efecto el día hábil en que el destinatario la abrió, antes de "
                        "cumplirse el plazo de %(days)d días hábiles sin acuse de recibo "
                        "(Ley N.° 31736).",
                        days,
                    )
                    % {"days": days},
                )
        if lima_date(now) >= deemed_date:
            return Effect(
                deemed_date,
                ngettext(
                    "Se tiene por notificada el primer día hábil siguiente a %(days)d día hábil "
                    "desde su depósito sin acuse de recibo (Ley N.° 31736).",
                    "Se tiene por notificada el primer día hábil siguiente a %(days)d días "
                    "hábiles desde su depósito sin acuse de recibo (Ley N.° 31736).",
                    days,
                )
                % {"days": days},
                deemed=True,
            )
        return Effect(
            None,
            _(
                "Pendiente: surte efecto el día en que se abra o, si no se abre, "
                "el %(date)s (Ley N.° 31736)."
            )
            % {"date": _format(deemed_date)},
        )

    limit = _calendar_limit(deposited_at, days)
    if opened_at is not None and opened_at <= limit:
        return Effect(
            lima_date(opened_at),
            ngettext(
                "Surte efecto el día en que el destinatario accedió a su contenido, dentro de "
                "%(days)d día natural desde su puesta a disposición "
                "(Ley 39/2015 de España, art. 43.2).",
                "Surte efecto el día en que el destinatario accedió a su contenido, dentro de "
                "los %(days)d días naturales desde su puesta a disposición "
                "(Ley 39/2015 de España, art. 43.2).",
                days,
            )
            % {"days": days},
        )
    if now >= limit:
        return Effect(
            limit.date(),
            ngettext(
                "Se entiende rechazada: pasó %(days)d día natural desde su puesta a disposición "
                "sin que se accediera a su contenido, y el procedimiento continúa "
                "(Ley 39/2015 de España, art. 43.2).",
                "Se entiende rechazada: pasaron %(days)d días naturales desde su puesta a "
                "disposición sin que se accediera a su contenido, y el procedimiento continúa "
                "(Ley 39/2015 de España, art. 43.2).",
                days,
            )
            % {"days": days},
            deemed=True,
            rejected=True,
        )
    return Effect(
        None,
        _(
            "Pendiente: surte efecto el día en que se acceda a su contenido o, si no se accede, "
            "se entenderá rechazada el %(date)s (Ley 39/2015 de España, art. 43.2)."
        )
        % {"date": _format(limit.date())},
    )


def _deemed_business_date(calendar: BusinessCalendar, deposited_at: datetime, days: int) -> date:
    """The first business day after `days` business days counted from the deposit."""
    deposited_on = calendar.legal_date_of(deposited_at)
    return calendar.next_business_day(calendar.add_business_days(deposited_on, days))


def _calendar_limit(deposited_at: datetime, days: int) -> datetime:
    """The moment (Lima) at which `days` calendar days have passed since the deposit."""
    return lima_time(deposited_at) + timedelta(days=days)


def pending_until(policy: Policy, deposited_at: datetime) -> date | None:
    """The date an unopened notification is deemed served or rejected, for reminders.

    None for the policies that do not wait for the opening.
    """
    if policy.kind == PolicyKind.ON_OPENING_OR_AFTER_BUSINESS_DAYS:
        return _deemed_business_date(BusinessCalendar(), deposited_at, _days_of(policy))
    if policy.kind == PolicyKind.ON_OPENING_OR_AFTER_CALENDAR_DAYS:
        return _calendar_limit(deposited_at, _days_of(policy)).date()
    return None


def deadline_for(effective_date: date, business_days: int) -> date:
    """The last day of a deadline of `business_days` business days from `effective_date`.

    Counting starts on the business day after the notification takes effect (TUO de la Ley
    N.° 27444, arts. 144-145), e.g. 15 business days to appeal (art. 218.2).
    """
    return add_business_days(effective_date, business_days)
