from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from legaltime.calendar import BusinessCalendar

register = template.Library()


@dataclass(frozen=True)
class Countdown:
    text: str
    tone: str  # ok | soon | due | over: a colour class; the text always says it too


@register.filter
def isodate(value: str | None) -> str:
    """An ISO date kept in evidence data, shown as dd/mm/yyyy."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return value


@register.simple_tag(takes_context=True)
def countdown(context: template.Context, deadline: date | None, today: date) -> Countdown | None:
    """Business days left (the unit the deadline is counted in), in words and a colour."""
    if deadline is None:
        return None
    when = deadline.strftime("%d/%m/%Y")
    if deadline < today:
        return Countdown(_("Plazo vencido el %(date)s") % {"date": when}, "over")
    if deadline == today:
        return Countdown(_("Vence hoy, %(date)s") % {"date": when}, "due")
    # One calendar per page render, so the decreed days are read once, not once per row.
    cache: Any = context.render_context
    if "buzon_calendar" not in cache:
        cache["buzon_calendar"] = BusinessCalendar()
    calendar: BusinessCalendar = cache["buzon_calendar"]
    days = 0
    day = today
    while day < deadline:
        day = calendar.next_business_day(day)
        if day <= deadline:
            days += 1
    text = ngettext(
        "Vence el %(date)s (queda %(n)d día hábil)",
        "Vence el %(date)s (quedan %(n)d días hábiles)",
        days,
    ) % {"date": when, "n": days}
    return Countdown(text, "soon" if days <= 2 else "ok")
