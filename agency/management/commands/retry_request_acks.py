from typing import Any

from django.core.management.base import BaseCommand

from agency.actions import retry_acknowledgements


class Command(BaseCommand):
    help = "Queue again the credential-request acknowledgements that did not go out."

    def handle(self, *args: Any, **options: Any) -> None:
        count = retry_acknowledgements()
        self.stdout.write(f"{count} acknowledgement(s) queued again")
