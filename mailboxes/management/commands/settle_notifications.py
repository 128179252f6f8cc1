"""Let legal time pass: deemed effects and rejections, expired deadlines, then reminders.

Run it every hour.

Idempotent: running it twice, or late, changes nothing more than running it once on time.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.actions import requeue_stale_alerts, send_reminders
from backoffice.notifications import purge_stale_drafts
from mailboxes.actions import record_expired_deadlines, settle

REMINDER_HOURS = (8, 20)  # Lima time


class Command(BaseCommand):
    help = "Apply deemed effects to unopened notifications and send deadline reminders."

    def handle(self, *args: Any, **options: Any) -> None:
        settled = settle()
        expired = record_expired_deadlines()
        local = timezone.localtime()
        # Reminders (SMS too) go out in the daytime only; they are a business day ahead, so the
        # first daytime run still reaches people in time.
        reminders = (
            send_reminders(local.date())
            if REMINDER_HOURS[0] <= local.hour < REMINDER_HOURS[1]
            else 0
        )
        requeued = requeue_stale_alerts(timezone.now())
        drafts = purge_stale_drafts(timezone.now())
        self.stdout.write(
            f"settled {settled} notifications, recorded {expired} expired deadlines, "
            f"queued {reminders} reminders, "
            f"requeued {requeued} stale alerts, purged {drafts} preview drafts"
        )
