"""Running queued tasks in tests, whichever backend is configured."""

from __future__ import annotations

from django.conf import settings


def run_queued_tasks() -> None:
    """Inline backend: tasks already ran. RQ: drain the queue in this process (burst)."""
    if not settings.REDIS_URL:
        return
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue("default", job_class=Job)
    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
