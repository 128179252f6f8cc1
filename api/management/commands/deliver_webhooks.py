from typing import Any

from django.core.management.base import BaseCommand

from api.webhooks import assign_cursors, requeue_stalled


class Command(BaseCommand):
    help = (
        "Give cursors to committed webhook events and queue again the deliveries whose task "
        "was lost. Idempotent; the clock runs it every 10 minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        numbered = assign_cursors()
        requeued = requeue_stalled()
        self.stdout.write(f"{numbered} events numbered, {requeued} deliveries queued again")
