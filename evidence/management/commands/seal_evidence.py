"""Seal the evidence log now: a signed checkpoint over the entries since the last one.

The clock process (`make run`) runs this every BUZON_CHECKPOINT_MINUTES; run it by hand
before exporting evidence or at the end of a campaign.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidence.actions import seal


class Command(BaseCommand):
    help = "Seal the evidence log with a signed checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Seal even if nothing was appended since."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = seal(force=options["force"])
        if checkpoint is None:
            self.stdout.write("nothing new to seal")
            return
        self.stdout.write(
            f"checkpoint #{checkpoint.number}: {checkpoint.entries} entries, "
            f"root {checkpoint.merkle_root}, key {checkpoint.key_id}"
            + (", with an RFC 3161 timestamp" if checkpoint.timestamp_token else "")
        )
