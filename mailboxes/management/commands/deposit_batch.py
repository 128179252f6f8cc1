"""Deposit a batch of notifications from a CSV file and a folder of PDFs.

The rows go through mailboxes.actions.deposit_many, so the rules are the officers' form's.
Every row carries its own idempotency key: a rerun of the same file deposits nothing twice,
and a rejected row rejects nothing else.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from accounts.models import User
from mailboxes.actions import deposit_many
from mailboxes.inputs import Appeal, AttachmentInput, NotificationInput, check_notification
from mailboxes.models import Notification

REQUIRED_COLUMNS = ("key", "procedure_number", "unit", "kind", "subject", "body", "attachments")
OPTIONAL_COLUMNS = ("ends_administrative_route", "appeals", "response_business_days")
KEY_MAX_LENGTH = 100  # Notification.idempotency_key
_BOOLEANS = {"si": True, "sí": True, "true": True, "no": False, "false": False}


@dataclass
class Row:
    """One data row of the CSV: what was read from it, and what is wrong with it so far."""

    number: int  # 1-based, header excluded
    key: str
    data: NotificationInput | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def merge(self, errors: dict[str, list[str]]) -> None:
        """Validation errors, keyed by CSV column; a column already faulted keeps its own."""
        for name, messages in errors.items():
            column = "key" if name == "idempotency_key" else name
            if column not in self.errors:
                self.errors[column] = list(messages)


@dataclass
class Outcome:
    deposited: int = 0
    already_there: int = 0
    rejected: list[Row] = field(default_factory=list)


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            try:
                header = [name.strip().lower() for name in next(reader, [])]
                records = list(enumerate(reader, start=1))
            except csv.Error as exc:
                raise CommandError(f"{path}, line {reader.line_num}: {exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if missing or unknown or repeated:
        problems = [
            f"{label}: {', '.join(names)}"
            for label, names in (("missing", missing), ("unknown", unknown), ("repeated", repeated))
            if names
        ]
        raise CommandError(f"{path}: bad header row ({'; '.join(problems)})")
    return header, records


def _boolean(raw: str, row: Row) -> bool | None:
    value = raw.strip().lower()
    if not value:
        return None
    if value not in _BOOLEANS:
        row.add("ends_administrative_route", _("Escriba «si» o «no», o deje la celda vacía."))
        return None
    return _BOOLEANS[value]


def _whole_number(raw: str) -> int | None:
    value = raw.strip()
    return int(value) if value else None


def _appeals(raw: str, row: Row) -> list[Appeal]:
    appeals = []
    items = [item for item in raw.split(";") if item.strip()]
    for number, item in enumerate(items, start=1):
        parts = item.split("|")
        if len(parts) != 3:
            row.add(
                "appeals",
                _("El recurso %(n)d debe tener la forma Nombre|Dónde|días.") % {"n": number},
            )
            continue
        name, where, days = parts
        try:
            appeals.append(Appeal(name.strip(), where.strip(), _whole_number(days)))
        except ValueError:
            row.add(
                "appeals",
                _("El plazo del recurso %(n)d debe ser un número entero de días hábiles.")
                % {"n": number},
            )
    return appeals


class PdfFolder:
    """Reads PDFs from inside one folder only; each file is read once, however many rows use it."""

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder")
        self.root = path.resolve()

    def attachments(self, raw: str, row: Row) -> list[AttachmentInput]:
        attachments = []
        for name in (part.strip() for part in raw.split(";")):
            if not name:
                continue
            path = self._path(name, row)
            if path is not None:
                # By path: deposit_many reads it to check it and again to write it, so a large
                # campaign never holds every PDF in memory.
                attachments.append(AttachmentInput(name, path=path))
        return attachments

    def _path(self, name: str, row: Row) -> Path | None:
        # resolve() follows symlinks, so a link pointing out of the folder is refused too.
        try:
            path = (self.root / name).resolve()
        except (OSError, ValueError):  # a NUL byte, a symlink loop
            path = None
        if path is None or Path(name).is_absolute() or not path.is_relative_to(self.root):
            row.add(
                "attachments", _("«%(name)s» está fuera de la carpeta de PDF.") % {"name": name}
            )
            return None
        if not path.is_file():
            row.add(
                "attachments",
                _("No se encuentra «%(name)s» en la carpeta de PDF.") % {"name": name},
            )
            return None
        if not os.access(path, os.R_OK):
            row.add("attachments", _("No se puede leer «%(name)s».") % {"name": name})
            return None
        return path


def _row(number: int, values: dict[str, str], pdfs: PdfFolder) -> Row:
    row = Row(number, values["key"].strip(), None)
    if not row.key:
        row.add("key", _("Falta la clave de idempotencia."))
    elif len(row.key) > KEY_MAX_LENGTH:
        row.add(
            "key",
            _("La clave puede tener como máximo %(n)d caracteres.") % {"n": KEY_MAX_LENGTH},
        )
    try:
        response_days = _whole_number(values.get("response_business_days", ""))
    except ValueError:
        response_days = None
        row.add("response_business_days", _("Escriba un número entero de días hábiles."))
    row.data = NotificationInput(
        procedure_number=values["procedure_number"],
        unit=values["unit"].strip().upper(),
        kind=values["kind"].strip().lower(),
        subject=values["subject"],
        # Spreadsheets save line breaks inside a cell as CRLF.
        body=values["body"].replace("\r\n", "\n").replace("\r", "\n"),
        attachments=pdfs.attachments(values["attachments"], row),
        ends_administrative_route=_boolean(values.get("ends_administrative_route", ""), row),
        appeals=_appeals(values.get("appeals", ""), row),
        response_business_days=response_days,
        idempotency_key=row.key,
    )
    return row


def read_rows(csv_path: Path, pdfs: PdfFolder) -> list[Row]:
    """Every data row, with the faults found while reading it (not yet the validation's)."""
    header, records = _read_csv(csv_path)
    rows: list[Row] = []
    first_use: dict[str, int] = {}
    for number, record in records:
        if not record:
            continue  # a blank line still counts as a row, as in a spreadsheet
        if len(record) != len(header):
            key = record[header.index("key")].strip() if len(record) > header.index("key") else ""
            row = Row(number, key, None)
            row.add(
                "csv",
                _("La fila tiene %(got)d columnas y la cabecera %(want)d.")
                % {"got": len(record), "want": len(header)},
            )
        else:
            row = _row(number, dict(zip(header, record, strict=True)), pdfs)
        if row.key in first_use:
            row.add(
                "key", _("Clave repetida: ya la usa la fila %(n)d.") % {"n": first_use[row.key]}
            )
        elif row.key:
            first_use[row.key] = number
        rows.append(row)
    return rows


def _complete(row: Row, actor: User | None) -> None:
    """Add what validation finds in a row already faulted, so the operator sees it all at once."""
    if row.data is None:
        return
    try:
        check_notification(row.data, actor=actor)
    except ValidationError as exc:
        row.merge(exc.message_dict)


def deposit(rows: list[Row], *, actor: User | None, batch_size: int) -> Outcome:
    outcome = Outcome()
    ready = [row for row in rows if not row.errors and row.data is not None]
    for row in rows:
        if row.errors:
            _complete(row, actor)
            outcome.rejected.append(row)
    items = [row.data for row in ready if row.data is not None]
    with tqdm(total=len(items), desc="deposit", unit="row", file=sys.stderr, disable=False) as bar:
        results = deposit_many(items, actor=actor, batch_size=batch_size, progress=bar.update)
        bar.update(bar.total - bar.n)  # rows refused by validation never report progress
    for result in results:
        row = ready[result.index]
        if result.errors:
            row.merge(result.errors)
            outcome.rejected.append(row)
        elif result.created:
            outcome.deposited += 1
        else:
            outcome.already_there += 1
    return outcome


def dry_run(rows: list[Row], *, actor: User | None, batch_size: int) -> Outcome:
    outcome = Outcome()
    keys = [row.key for row in rows if row.key]
    existing: set[str | None] = set()
    for start in range(0, len(keys), batch_size):
        chunk = keys[start : start + batch_size]
        existing.update(
            Notification.objects.filter(idempotency_key__in=chunk).values_list(
                "idempotency_key", flat=True
            )
        )
    for row in tqdm(rows, desc="check", unit="row", file=sys.stderr, disable=False):
        _complete(row, actor)
        if row.errors:
            outcome.rejected.append(row)
        elif row.key in existing:
            outcome.already_there += 1
        else:
            outcome.deposited += 1
    return outcome


class Command(BaseCommand):
    help = (
        "Deposit the notifications listed in a CSV file, with their PDFs taken from a folder. "
        "Columns: key, procedure_number, unit, kind, subject, body, attachments (file names "
        "separated by ';') and, optionally, ends_administrative_route (si/no), appeals "
        "(Nombre|Dónde|días separated by ';') and response_business_days. Rerunning the same "
        "file deposits nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "csv_file", type=Path, metavar="CSV_FILE", help="UTF-8 CSV with a header row"
        )
        parser.add_argument(
            "pdf_folder",
            type=Path,
            metavar="PDF_FOLDER",
            help="folder the attachment names refer to",
        )
        parser.add_argument(
            "--actor",
            default=None,
            metavar="USERNAME",
            help="officer username recorded as depositor (else: system)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=200, metavar="N", help="rows written per transaction"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate every row and write nothing"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = None
        if opts["actor"] is not None:
            actor = User.objects.filter(
                username=opts["actor"], kind=User.Kind.OFFICER, is_active=True
            ).first()
            if actor is None:
                raise CommandError(f"no active officer named {opts['actor']!r}")
        if opts["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        rows = read_rows(opts["csv_file"], PdfFolder(opts["pdf_folder"]))
        if opts["dry_run"]:
            outcome = dry_run(rows, actor=actor, batch_size=opts["batch_size"])
            prefix, others = "dry run, nothing written: would deposit", "nothing was written"
        else:
            outcome = deposit(rows, actor=actor, batch_size=opts["batch_size"])
            prefix, others = "deposited", "the other rows are deposited"
        rejected = sorted(outcome.rejected, key=lambda row: row.number)
        self.stdout.write(
            f"{prefix} {outcome.deposited}, already there {outcome.already_there}, "
            f"rejected {len(rejected)}"
        )
        for row in rejected:
            for column, messages in row.errors.items():
                for message in messages:
                    self.stdout.write(
                        f"row {row.number} (key {row.key or '-'}): {column}: {message}"
                    )
        if rejected:
            raise CommandError(f"{len(rejected)} row(s) rejected; {others}")
