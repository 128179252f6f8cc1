"""Let time pass for fines and plans: flag overdue installments, lapse plans, remind.

Safe to run every hour (buzon/clock.py does). Installments are flagged overdue on the first
run of the day after their due date. Lapses and reminders reach people (a new notification
with its alerts, an email or SMS), so they happen in the daytime only, like the deadline
reminders of settle_notifications; reminders cover the next days, so the first daytime run
still reaches people in time.

Idempotent: each installment is flagged overdue once, each plan lapses once, each reminder is
created once per installment and channel; running it twice, or late, does nothing more.

One installment or plan that fails (logged with its traceback) does not stop the others, and
each step runs even if an earlier one failed: reminders go out whatever happens to lapses.
The summary line says how many failed, and the command then exits with status 1.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.actions import Tally, flag_overdue, lapse_due_plans
from payments.reminders import queue_reminders, requeue_stale

DAYTIME = (8, 20)  # Lima time

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Flag overdue installments, lapse plans with too many, send reminders before due dates."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        failures: list[str] = []

        def step(what: str, run: Callable[[], Tally | int]) -> int:
            """Run one step; a failure of the whole step is logged and counted, and the next
            step runs anyway."""
            try:
                result = run()
            except Exception:
                log.exception("payments_daily: the step for %s failed", what)
                failures.append(f"the whole step for {what}")
                return 0
            if isinstance(result, int):
                return result
            if result.failed:
                failures.append(f"{len(result.failed)} {what} ({_ids(result.failed)})")
            return result.done

        overdue = step("installments to flag overdue", lambda: flag_overdue(now))
        lapsed = reminders = 0
        if DAYTIME[0] <= timezone.localtime(now).hour < DAYTIME[1]:
            lapsed = step("plans to lapse", lambda: lapse_due_plans(now))
            reminders = step("reminders to queue", lambda: queue_reminders(now))
        requeued = step("stale reminders", lambda: requeue_stale(now))
        summary = (
            f"flagged {overdue} overdue installments, lapsed {lapsed} plans, "
            f"queued {reminders} reminders, requeued {requeued} stale reminders"
        )
        if failures:
            summary += "; FAILED: " + "; ".join(failures) + " (see the log; retried next run)"
        self.stdout.write(summary)
        if failures:
            raise CommandError("payments_daily: " + "; ".join(failures))


def _ids(ids: list[int], shown: int = 10) -> str:
    text = ", ".join(f"#{pk}" for pk in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
