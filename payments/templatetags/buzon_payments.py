from __future__ import annotations

from decimal import Decimal

from django import template

from payments.schedule import soles as format_soles

register = template.Library()

# Debt and plan statuses, as the badge colour that goes with them (the text always says it).
TONES = {
    "paid": "ok",
    "overpaid": "ok",
    "completed": "ok",
    "partial": "warn",
    "cancelled": "muted",
    "lapsed": "bad",
}


@register.filter
def soles(value: Decimal | str | None) -> str:
    """S/ 1,234.50"""
    if value is None or value == "":
        return ""
    return format_soles(Decimal(value))


@register.filter
def tone(status: str) -> str:
    return TONES.get(status, "")
