"""Record a payment confirmation by hand, until the agency API exists (issue 7).

Prints the result as JSON. A confirmation is identified by its channel (--source, a short id
such as "bn" or "pagalo") and that channel's transaction id: the same pair again is answered
with the first payment ("created": false); with other data it is refused. Exit status 1 when
refused (the JSON says why, in Spanish), never a traceback for bad input.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from payments.actions import PaymentRefused, apply_payment


def _when(value: str) -> datetime:
    """ISO 8601; without a zone it is Lima time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date and time (ISO 8601): {value!r}") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = "Apply a payment confirmation (channel, transaction id, payment code, amount, when)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--transaction-id", required=True, help="the payment system's operation number"
        )
        parser.add_argument("--code", required=True, help="the payment code (12 digits)")
        parser.add_argument("--amount", required=True, help="in soles, e.g. 350.00")
        parser.add_argument(
            "--paid-at", required=True, type=_when, help="e.g. 2026-12-01T10:30 (Lima)"
        )
        parser.add_argument(
            "--source",
            required=True,
            help="the channel's id: 1-30 lowercase letters, digits or dashes, e.g. bn, pagalo",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            result = apply_payment(
                opts["transaction_id"],
                opts["code"],
                opts["amount"],
                opts["paid_at"],
                opts["source"],
            )
        except PaymentRefused as exc:
            self.stdout.write(
                json.dumps(
                    {"ok": False, "error": exc.code, "errors": exc.errors}, ensure_ascii=False
                )
            )
            raise CommandError(f"payment refused: {exc.code}") from None
        self.stdout.write(json.dumps({"ok": True, **result.as_dict()}, ensure_ascii=False))
