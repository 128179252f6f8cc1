from django_tasks import task

from api.webhooks import deliver, queue_each


@task()
def deliver_webhook(delivery_id: int) -> str:
    """POST one webhook delivery (by id); retries with backoff are scheduled by deliver()."""
    return deliver(delivery_id)


@task()
def queue_deliveries(delivery_ids: list[int]) -> int:
    """Queue a batch's deliveries, one task each, in a worker rather than in the request that
    deposited the batch (api.webhooks.QUEUE_INLINE_UP_TO)."""
    queue_each(delivery_ids)
    return len(delivery_ids)
