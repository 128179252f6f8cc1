"""Review 6: an answer sent on the deadline day while the hourly expiry job runs."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from corrections.models import Answer, CorrectionRequest, RequestStatus
from corrections.uploads import scan
from evidence.certificates import describe
from evidence.models import EventKind
from evidence.verify import verify
from mailboxes.actions import record_expired_deadlines
from procedures.models import ProcedureStatus
from tests import factories

from .helpers import correction, person_client

pytestmark = pytest.mark.django_db


def test_an_answer_sent_at_2359_is_filed_even_if_the_expiry_job_runs_during_its_scan(
    monkeypatch,
):
    """docs/corrections.md: "a slow check or scan past midnight does not refuse an answer sent
    on the deadline day". The hourly settle_notifications runs at any minute, so it may record
    the expiry while the files of an answer sent at 23:59:50 are still being scanned."""
    notification = correction()
    assert notification.deadline_date is not None
    sent = timezone.make_aware(datetime.combine(notification.deadline_date, time(23, 59, 50)))
    pdf = factories.pdf_bytes()
    with time_machine.travel(sent, tick=False) as clock:

        def slow_scan(uploads):  # the scan ends past midnight; the clock's job runs meanwhile
            clock.shift(timedelta(seconds=20))
            assert record_expired_deadlines() == 1
            return scan(uploads)

        monkeypatch.setattr("corrections.actions.scan", slow_scan)
        client = person_client(notification)
        client.post(
            f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
            {
                "item-1": SimpleUploadedFile("a.pdf", pdf),
                "item-2": SimpleUploadedFile("b.pdf", pdf),
            },
        )
        page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "Su respuesta fue presentada." in page, "the answer sent on the deadline day was refused"
    assert Answer.objects.filter(request__notification=notification).exists()
    assert CorrectionRequest.objects.get(notification=notification).status == (
        RequestStatus.ANSWERED
    )
    notification.refresh_from_db()
    assert notification.deadline_expired_at is None
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.OBSERVED  # not "not filed"
    # The log says it all, in order: the expiry, then the answer that undid it; and the rows
    # agree with its replay.
    kinds = list(
        notification.events.exclude(kind=EventKind.NOTIFICATION_VIEWED)
        .order_by("occurred_at")
        .values_list("kind", flat=True)
    )
    assert kinds[-3:] == [
        EventKind.DEADLINE_EXPIRED,
        EventKind.CORRECTION_EXPIRED,
        EventKind.NOTIFICATION_ANSWERED,
    ]
    answered = notification.events.get(kind=EventKind.NOTIFICATION_ANSWERED)
    assert answered.data["deadline_expired"] == [True, False]
    assert "queda sin efecto el vencimiento" in describe(answered)
    report = verify(files=False)
    assert report.ok, report.problems
    # Nothing else runs the expiry again: the deadline is stopped.
    assert record_expired_deadlines() == 0


def test_an_answer_sent_after_the_deadline_day_does_not_undo_the_expiry():
    notification = correction()
    assert notification.deadline_date is not None
    late = timezone.make_aware(
        datetime.combine(notification.deadline_date + timedelta(days=1), time(0, 0, 5))
    )
    pdf = factories.pdf_bytes()
    with time_machine.travel(late, tick=False):
        assert record_expired_deadlines() == 1
        client = person_client(notification)
        client.post(
            f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
            {
                "item-1": SimpleUploadedFile("a.pdf", pdf),
                "item-2": SimpleUploadedFile("b.pdf", pdf),
            },
        )
        page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "el trámite se considera no presentado" in page
    assert not Answer.objects.exists()
    assert CorrectionRequest.objects.get(notification=notification).status == (
        RequestStatus.EXPIRED
    )
