"""Delete the credentials copies of constancias whose pickup window has passed.

Run it daily (cron or a scheduler). Downloads also purge an expired copy on the spot, so a
late run never lets a password out; it only keeps ciphertext from lingering.
"""

from typing import Any

from django.core.management.base import BaseCommand

from procedures.actions import purge_expired_credentials


class Command(BaseCommand):
    help = "Purge constancia credentials copies past their pickup window."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_expired_credentials()
        self.stdout.write(f"purged {purged} credentials copies")
