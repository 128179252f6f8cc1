"""Let time pass for fines and plans: flag overdue installments, lapse plans, remind.

Safe to run every hour (buzon/clock.py does). Installments are flagged overdue on the first
run of the day after their due date. Lapses and reminders reach people (a new notification
with its alerts, an email or SMS), so they happen in the daytime only, like the deadline
reminders of settle_notifications; reminders cover the next days, so the first daytime run
still reaches people in time.

Idempotent: each installment is flagged overdue once, each plan lapses once, each reminder is
created once per installment and channel; running it twice, or late, does nothing more.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from payments.actions import flag_overdue, lapse_due_plans
from payments.reminders import queue_reminders, requeue_stale

DAYTIME = (8, 20)  # Lima time


class Command(BaseCommand):
    help = "Flag overdue installments, lapse plans with too many, send reminders before due dates."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        overdue = flag_overdue(now)
        lapsed = reminders = 0
        if DAYTIME[0] <= timezone.localtime(now).hour < DAYTIME[1]:
            lapsed = lapse_due_plans(now)
            reminders = queue_reminders(now)
        requeued = requeue_stale(now)
        self.stdout.write(
            f"flagged {overdue} overdue installments, lapsed {lapsed} plans, "
            f"queued {reminders} reminders, requeued {requeued} stale reminders"
        )
