"""Declaring, or withdrawing, a day non-working by decree: the calendar changes, and so do the
legal dates of the notifications it reaches (mailboxes.actions.recalculate_legal_dates)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction

from legaltime.models import NonWorkingDay

if TYPE_CHECKING:
    from accounts.models import User


def declare_non_working_day(
    day: date, *, description: str, legal_basis: str, actor: User | None
) -> tuple[NonWorkingDay, int]:
    from mailboxes.actions import recalculate_legal_dates

    with transaction.atomic():
        declared, _created = NonWorkingDay.objects.update_or_create(
            date=day, defaults={"description": description, "legal_basis": legal_basis}
        )
    moved = recalculate_legal_dates(
        day, actor=actor, reason=f"{day.isoformat()} no laborable: {legal_basis}"
    )
    return declared, moved


def withdraw_non_working_day(declared: NonWorkingDay, *, actor: User | None) -> int:
    from mailboxes.actions import recalculate_legal_dates

    day, basis = declared.date, declared.legal_basis
    with transaction.atomic():
        declared.delete()
    return recalculate_legal_dates(
        day, actor=actor, reason=f"{day.isoformat()} deja de ser no laborable ({basis})"
    )
