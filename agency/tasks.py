from django_tasks import task

from agency.mail import send_request_mail as send


@task()
def send_request_mail(case_id: int, kind: str) -> str:
    """Acknowledge a credential request, or tell the requester the decision (by id)."""
    return send(case_id, kind)
