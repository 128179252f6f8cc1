from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


@register.simple_tag
def countdown(deadline: date | None, today: date) -> Countdown | None:
    if deadline is None:
        return None
    days = (deadline - today).days
    when = deadline.strftime("%d/%m/%Y")
    if days < 0:
        return Countdown(_("Plazo vencido el %(date)s") % {"date": when}, "over")
    if days == 0:
        return Countdown(_("Vence hoy, %(date)s") % {"date": when}, "due")
    text = ngettext(
        "Vence el %(date)s (queda %(n)d día)", "Vence el %(date)s (quedan %(n)d días)", days
    ) % {"date": when, "n": days}
    return Countdown(text, "soon" if days <= 3 else "ok")
