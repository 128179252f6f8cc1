"""Let legal time pass: deemed effects and rejections, then reminders. Run it every hour.

Idempotent: running it twice, or late, changes nothing more than running it once on time.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.actions import requeue_stale_alerts, send_reminders
from backoffice.notifications import purge_stale_drafts
from mailboxes.actions import settle


class Command(BaseCommand):
    help = "Apply deemed effects to unopened notifications and send deadline reminders."

    def handle(self, *args: Any, **options: Any) -> None:
        settled = settle()
        reminders = send_reminders(timezone.localdate())
        requeued = requeue_stale_alerts(timezone.now())
        drafts = purge_stale_drafts(timezone.now())
        self.stdout.write(
            f"settled {settled} notifications, queued {reminders} reminders, "
            f"requeued {requeued} stale alerts, purged {drafts} preview drafts"
        )
