"""Export a person's evidence (or one procedure's) as a ZIP, for an officer or a court.

    manage.py export_evidence --document "CPP 001234567" [--procedure LM260000001] --out buzon.zip

The ZIP is the one a person downloads from the casilla (evidence/export.py): it issues a
certificate per notification, seals the log and can be checked offline with
`python -m evidence.offline`. The certificates name no requester: the command is not a login.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.export import write_export
from evidence.pki import PdfSignatureError
from evidence.proofs import ProofError
from evidence.tsa import TimestampError
from people.documents import NEEDS_ISSUING_COUNTRY, DocumentType, normalize_document
from people.models import Person
from procedures.models import Procedure

_TYPE_AND_NUMBER = re.compile(r"\s*([A-Za-z]+)[\s\-:]+(\S.*)")


def find_person(document: str) -> Person:
    """`document` is a type and a number ("CPP 001234567", "DNI-45678912"), normalised as the
    login does. A person is unique by type and number, so no issuing country is needed."""
    match = _TYPE_AND_NUMBER.fullmatch(document)
    if not match:
        raise CommandError(
            f'--document {document!r}: give a type and a number, e.g. "CPP 001234567" '
            f"(types: {', '.join(DocumentType.values)})"
        )
    doc_type = match.group(1).upper()
    # The country only matters when registering a document; the lookup ignores it.
    country = "ZZ" if doc_type in NEEDS_ISSUING_COUNTRY else ""
    try:
        normalised = normalize_document(doc_type, match.group(2), country)
    except ValidationError as exc:
        raise CommandError(f"--document {document!r}: {' '.join(exc.messages)}") from None
    try:
        return Person.objects.get(
            doc_type=normalised.type, doc_number=normalised.number, is_test=False
        )
    except Person.DoesNotExist:
        raise CommandError(
            f"no person with document {normalised.type} {normalised.number}"
        ) from None


class Command(BaseCommand):
    help = "Write a person's evidence export (ZIP), or one procedure's, to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--document", required=True, help='type and number, e.g. "CPP 001234567"'
        )
        parser.add_argument(
            "--procedure", help="only this procedure of the person, e.g. LM260000001"
        )
        parser.add_argument("--out", required=True, type=Path, help="the ZIP to write")

    def handle(self, *args: Any, **options: Any) -> None:
        person = find_person(options["document"])
        procedure = None
        if options["procedure"]:
            number = options["procedure"].strip().upper()
            try:
                procedure = Procedure.objects.select_related("person").get(number=number)
            except Procedure.DoesNotExist:
                raise CommandError(f"no procedure {number}") from None
            if procedure.person_id != person.pk:
                raise CommandError(f"procedure {number} is not of {person.document_label}")

        out: Path = options["out"]
        if out.is_dir():
            raise CommandError(f"--out {out} is a directory; give a file name")
        if not out.parent.is_dir():
            raise CommandError(f"--out {out}: the folder {out.parent} does not exist")
        # Written next to the target (owner-only, it holds personal data) and renamed at the
        # end, so a failed export leaves no half-written ZIP behind.
        fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                summary = write_export(
                    handle,
                    person=person,
                    procedure=procedure,
                    requested_by=None,
                    filename=out.name,
                )
            Path(partial).replace(out)
        except (TimestampError, PdfSignatureError, ProofError) as exc:
            Path(partial).unlink(missing_ok=True)
            raise CommandError(f"the export could not be completed: {exc}") from exc
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

        self.stdout.write(
            f"{out}: {person.document_label}"
            + (f", procedure {procedure.number}" if procedure else "")
            + f": {summary.notifications} notifications, {summary.entries} entries, "
            f"{summary.files} files, checkpoint "
            + (f"#{summary.checkpoint}" if summary.checkpoint is not None else "none")
        )
