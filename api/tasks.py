from django_tasks import task

from api.webhooks import deliver


@task()
def deliver_webhook(delivery_id: int) -> str:
    """POST one webhook delivery (by id); retries with backoff are scheduled by deliver()."""
    return deliver(delivery_id)
