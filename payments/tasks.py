from django_tasks import task

from payments.reminders import deliver


@task()
def send_reminder(reminder_id: int) -> str:
    """Send one installment reminder (by id); retries with backoff are scheduled by deliver()."""
    return deliver(reminder_id)
