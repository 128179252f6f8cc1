"""Check the whole evidence log, every checkpoint, and every stored attachment.

Exits 0 when all is intact; otherwise prints the first problem (and up to 49 more) and exits 1.
Safe to run on a live system: it only reads.
"""

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evidence.verify import summary, verify

PUBLISHED = re.compile(r"(?P<number>[0-9]+):(?P<hash>[0-9a-fA-F]{64})")


class Command(BaseCommand):
    help = "Verify the evidence chain, checkpoint signatures and attachment files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip-files",
            action="store_true",
            help="Check the log and checkpoints only, not the attachment files.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="N:SHA256",
            help="A checkpoint known from outside the database (published, or printed on a "
            "certificate): its number and statement hash. Repeatable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with tqdm(unit=" entries", disable=options["no_progress"], file=self.stderr._out) as bar:
            report = verify(
                files=not options["skip_files"],
                progress=bar.update,
                published=self._published(options["checkpoint"]),
            )
        self.stdout.write(summary(report))
        if not report.ok:
            raise CommandError(f"evidence check failed at {report.problems[0].where}")

    def _published(self, values: list[str]) -> dict[int, str]:
        published = {}
        for value in values:
            # ASCII only: str.isdigit() takes "²", which int() then refuses with a traceback.
            match = PUBLISHED.fullmatch(value.strip())
            if match is None:
                raise CommandError(f"--checkpoint {value!r}: expected N:<64 hex digits>")
            published[int(match["number"])] = match["hash"].lower()
        return published
