"""A day decreed non-working after a correction request expired, that moves its deadline back
to today or later: the request is open again (arts. 136 and 145)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from corrections.models import Answer, CorrectionRequest, RequestStatus
from evidence.certificates import describe
from evidence.models import EventKind
from evidence.verify import verify
from legaltime.actions import declare_non_working_day
from mailboxes.actions import record_expired_deadlines
from procedures.models import ProcedureStatus
from tests import factories

from .helpers import ITEMS, correction, person_client

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=LIMA)


def decree_monday_7(officer=None):
    return declare_non_working_day(
        date(2026, 12, 7),
        description="Día no laborable para el sector público",
        legal_basis="Decreto Supremo N.° 099-2026-PCM",
        actor=officer,
    )


@pytest.fixture
def expired_on_friday_11():
    """Deposited and opened Fri 4 Dec, due Thu 10 Dec; its expiry recorded at 00:30 on the 11th."""
    with time_machine.travel(at(4, 10), tick=False):
        notification = correction()
    assert notification.deadline_date == date(2026, 12, 10)
    assert record_expired_deadlines(at(11, 0, 30)) == 1
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.NOT_FILED
    return notification


def answer_page(client, notification):
    return client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()


def post_answer(client, notification):
    pdf = factories.pdf_bytes()
    files = {
        f"item-{i}": SimpleUploadedFile(f"doc{i}.pdf", pdf, "application/pdf")
        for i in range(1, len(ITEMS) + 1)
    }
    client.post(f"/buzon/notificaciones/{notification.public_id}/subsanacion/", files)


def test_the_person_may_answer_again_until_the_new_deadline(expired_on_friday_11):
    notification = expired_on_friday_11
    officer = factories.officer("root")
    with time_machine.travel(at(11, 8), tick=False):
        _day, moved = decree_monday_7(officer)
    assert moved == 1
    notification.refresh_from_db()
    assert notification.deadline_date == date(2026, 12, 11)
    request = CorrectionRequest.objects.get(notification=notification)
    assert (request.status, request.expired_at) == (RequestStatus.OPEN, None)
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.OBSERVED
    event = notification.events.get(kind=EventKind.CORRECTION_REOPENED)
    assert event.data == {
        "deadline_date": "2026-12-11",
        "procedure_status": "observed",
        "rule": "TUO Ley 27444, arts. 136 y 145",
    }
    # The constancia de notificación's timeline says so.
    assert "amplió el plazo hasta el 11/12/2026" in describe(event)
    assert notification.events.filter(kind=EventKind.DATES_RECALCULATED).count() == 1

    with time_machine.travel(at(11, 15), tick=False):
        client = person_client(notification)
        page = answer_page(client, notification)
        assert "no presentado" not in page
        assert "11/12/2026" in page
        post_answer(client, notification)
    assert Answer.objects.filter(request=request).count() == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED


def test_left_unanswered_again_it_expires_again(expired_on_friday_11):
    notification = expired_on_friday_11
    with time_machine.travel(at(11, 8), tick=False):
        decree_monday_7()
    assert record_expired_deadlines(at(11, 23, 59)) == 0  # the 11th counts whole
    assert record_expired_deadlines(at(12, 0, 30)) == 1
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.status == RequestStatus.EXPIRED
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.NOT_FILED
    kinds = list(notification.events.order_by("seq").values_list("kind", flat=True))
    assert kinds.count(EventKind.CORRECTION_EXPIRED) == 2
    assert kinds.count(EventKind.CORRECTION_REOPENED) == 1
    report = verify(files=False)  # expired, reopened, expired again: as the log says
    assert report.ok, report.problems


def test_a_deadline_that_stays_in_the_past_reopens_nothing(expired_on_friday_11):
    notification = expired_on_friday_11
    # Decreed on Monday the 14th: the deadline moves to Friday the 11th, which has passed.
    with time_machine.travel(at(14, 9), tick=False):
        decree_monday_7()
    notification.refresh_from_db()
    assert notification.deadline_date == date(2026, 12, 11)
    assert CorrectionRequest.objects.get(notification=notification).status == (
        RequestStatus.EXPIRED
    )
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.NOT_FILED
    assert not notification.events.filter(kind=EventKind.CORRECTION_REOPENED).exists()
    report = verify(files=False)  # moved, and still expired: as the log says
    assert report.ok, report.problems


def test_another_expired_request_keeps_the_procedure_not_filed():
    registration = factories.register()
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=LIMA), tick=False):
        earlier = correction(registration)  # due Thu 26 Nov, untouched by the decree
    with time_machine.travel(at(4, 10), tick=False):
        later = correction(registration)  # due Thu 10 Dec
    assert record_expired_deadlines(at(11, 0, 30)) == 2
    with time_machine.travel(at(11, 8), tick=False):
        decree_monday_7()
    statuses = dict(CorrectionRequest.objects.values_list("notification_id", "status"))
    assert statuses == {earlier.pk: RequestStatus.EXPIRED, later.pk: RequestStatus.OPEN}
    later.procedure.refresh_from_db()
    assert later.procedure.status == ProcedureStatus.NOT_FILED
    event = later.events.get(kind=EventKind.CORRECTION_REOPENED)
    assert event.data["procedure_status"] == "not_filed"
