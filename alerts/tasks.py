from django_tasks import task

from alerts.actions import deliver


@task()
def send_alert(alert_id: int) -> str:
    """Send one alert (by id); retries with backoff are scheduled by deliver()."""
    return deliver(alert_id)
