"""Check the whole evidence log, every checkpoint, and every stored attachment.

Exits 0 when all is intact; otherwise prints the first problem (and up to 49 more) and exits 1.
Safe to run on a live system: it only reads.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evidence.verify import summary, verify


class Command(BaseCommand):
    help = "Verify the evidence chain, checkpoint signatures and attachment files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip-files",
            action="store_true",
            help="Check the log and checkpoints only, not the attachment files.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        with tqdm(unit=" entries", disable=options["no_progress"], file=self.stderr._out) as bar:
            report = verify(files=not options["skip_files"], progress=bar.update)
        self.stdout.write(summary(report))
        if not report.ok:
            raise CommandError(f"evidence check failed at {report.problems[0].where}")
