"""The data migration that gives correction notifications deposited before this app their
request."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from corrections.models import CorrectionItem, CorrectionRequest, RequestStatus
from corrections.queries import open_for
from mailboxes.actions import record_expired_deadlines
from mailboxes.models import Notification
from procedures.models import ProcedureStatus

from .helpers import correction, reviewer

pytestmark = pytest.mark.django_db

backfill = importlib.import_module(
    "corrections.migrations.0002_requests_for_earlier_deposits"
).backfill


def as_before_this_app(notification):
    """No request rows, as for a correction deposited before the app existed."""
    CorrectionItem.objects.filter(request__notification=notification).delete()
    CorrectionRequest.objects.filter(notification=notification).delete()


def test_an_earlier_request_whose_deadline_already_ran_out_is_backfilled_as_expired():
    ran_out = correction()
    pending = correction()
    for notification in (ran_out, pending):
        as_before_this_app(notification)
    expired_at = timezone.now() - timedelta(days=3)
    Notification.objects.filter(pk=ran_out.pk).update(deadline_expired_at=expired_at)
    procedure_status = ran_out.procedure.status

    backfill(apps, None)

    request = CorrectionRequest.objects.get(notification=ran_out)
    assert request.status == RequestStatus.EXPIRED
    assert request.expired_at == expired_at
    assert request.items.count() == 2
    assert CorrectionRequest.objects.get(notification=pending).status == RequestStatus.OPEN
    assert [r.notification for r in open_for(pending.person)] == [pending]
    ran_out.procedure.refresh_from_db()
    assert ran_out.procedure.status == procedure_status  # history: the procedure is left alone

    # The officers see it among the expired ones, not as waiting for an answer.
    client = Client()
    client.force_login(reviewer())
    page = client.get("/oficina/subsanaciones/").content.decode()
    expired_section = page[page.index("Vencidas sin respuesta") :]
    assert str(ran_out.public_id) in expired_section
    waiting = page[page.index("Esperando respuesta") : page.index("Vencidas sin respuesta")]
    assert str(ran_out.public_id) not in waiting
    assert str(pending.public_id) in waiting

    # The expiry job does not come back to it (its expiry was recorded long ago).
    assert record_expired_deadlines(timezone.now() + timedelta(days=60)) == 1  # the pending one
    pending.procedure.refresh_from_db()
    assert pending.procedure.status == ProcedureStatus.NOT_FILED
