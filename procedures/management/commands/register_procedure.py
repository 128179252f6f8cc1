"""Register a procedure from the command line; prints the result (or the errors) as JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from procedures.actions import download_receipt, register_procedure
from procedures.inputs import PersonInput, ProcedureInput


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Register a procedure (and, the first time, the person and their credentials)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--doc-type", required=True, help="DNI, CE, CPP, PTP, PAS or OTRO")
        parser.add_argument("--doc-number", required=True)
        parser.add_argument("--doc-country", default="", help="ISO code; passport/other only")
        parser.add_argument("--given-names", required=True)
        parser.add_argument("--first-surname", required=True)
        parser.add_argument("--second-surname", default="")
        parser.add_argument("--birth-date", required=True, type=_date)
        parser.add_argument("--nationality", required=True, help="ISO 3166 code, e.g. VE")
        parser.add_argument("--email", default="")
        parser.add_argument("--mobile-phone", default="")
        parser.add_argument("--procedure-type", required=True, help="catalogue code, e.g. CPP")
        parser.add_argument("--office", required=True, help="office code, e.g. LM")
        parser.add_argument("--filing-date", required=True, type=_date)
        parser.add_argument("--number", default="", help="empty: next number of the office")
        parser.add_argument("--actor", default="", help="officer username recorded as actor")
        parser.add_argument(
            "--idempotency-key", default="", help="a rerun with the same key registers nothing"
        )
        parser.add_argument(
            "--receipt-out", default="", help="write the constancia PDF to this path"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = None
        if opts["actor"]:
            actor = User.objects.filter(
                username=opts["actor"], kind=User.Kind.OFFICER, is_active=True
            ).first()
            if actor is None:
                raise CommandError(f"no active officer named {opts['actor']!r}")
        person = PersonInput(
            doc_type=opts["doc_type"].upper(),
            doc_number=opts["doc_number"],
            doc_country=opts["doc_country"],
            given_names=opts["given_names"],
            first_surname=opts["first_surname"],
            second_surname=opts["second_surname"],
            birth_date=opts["birth_date"],
            nationality=opts["nationality"],
            email=opts["email"],
            mobile_phone=opts["mobile_phone"],
        )
        procedure = ProcedureInput(
            procedure_type=opts["procedure_type"].upper(),
            office=opts["office"],
            filing_date=opts["filing_date"],
            number=opts["number"],
        )
        try:
            result = register_procedure(
                person,
                procedure,
                actor=actor,
                idempotency_key=opts["idempotency_key"] or None,
                show_mismatches=True,  # an operator at the server, as trusted as the desk
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            self.stdout.write(json.dumps({"ok": False, "errors": errors}, ensure_ascii=False))
            raise CommandError("registration refused") from None
        payload: dict[str, Any] = {"ok": True, **result.as_dict()}
        if opts["receipt_out"]:
            # The same rule as the office page: recorded, and the password only for whoever
            # issued it within the pickup window.
            download = download_receipt(result.receipt, actor=actor)
            Path(opts["receipt_out"]).write_bytes(download.pdf)
            payload["receipt_file"] = opts["receipt_out"]
            payload["receipt_with_credentials"] = download.with_credentials
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
