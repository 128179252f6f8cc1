"""The officer reviews an answer observation by observation."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from backoffice.groups import SUPERVISORS
from corrections.actions import Decision, review_answer
from corrections.models import CorrectionRequest, Outcome, RequestStatus
from evidence.models import EventKind
from mailboxes.actions import record_expired_deadlines
from mailboxes.models import Kind, Notification
from procedures.models import ProcedureStatus
from tests import factories

from .helpers import all_stored_files, answer_every_item, correction, person_client, reviewer

pytestmark = pytest.mark.django_db


def answered(registration=None, **kwargs):
    notification = correction(registration, **kwargs)
    answer_every_item(notification)
    return notification


def officer_client(user):
    client = Client()
    client.force_login(user)
    return client


def review_url(notification):
    return f"/oficina/subsanaciones/{notification.public_id}/"


def test_the_queue_shows_answers_awaiting_review_first_then_open_ones():
    waiting = answered()
    pending = correction()
    page = officer_client(reviewer()).get("/oficina/subsanaciones/").content.decode()
    assert page.index("Respuestas por revisar") < page.index(str(waiting.public_id))
    assert page.index(str(waiting.public_id)) < page.index("Esperando respuesta")
    assert page.index("Esperando respuesta") < page.index(str(pending.public_id))
    assert "hace " in page


def test_accepting_every_observation_moves_the_procedure_on():
    notification = answered()
    client = officer_client(reviewer())
    page = client.get(review_url(notification)).content.decode()
    assert "doc1.pdf" in page
    assert "Registrar revisión" in page
    file_link = CorrectionRequest.objects.get(notification=notification).answer.files.first()
    download = client.get(f"{review_url(notification)}archivos/{file_link.public_id}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"

    response = client.post(
        review_url(notification), {"item-1-outcome": "met", "item-2-outcome": "met"}
    )
    assert response.status_code == 302
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.status == RequestStatus.ACCEPTED
    assert request.follow_up is None
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.IN_PROGRESS
    event = notification.events.get(kind=EventKind.ANSWER_REVIEWED)
    assert event.data["outcome"] == "accepted"
    assert (
        "todo quedó subsanado"
        in person_client(notification)
        .get(f"/buzon/notificaciones/{notification.public_id}/")
        .content.decode()
    )


def test_an_observation_not_met_yields_a_new_correction_request():
    notification = answered()
    officer = reviewer()
    client = officer_client(officer)
    # Not met needs a reason: nothing is recorded without it.
    response = client.post(
        review_url(notification), {"item-1-outcome": "met", "item-2-outcome": "not_met"}
    )
    assert response.status_code == 400
    assert "Explique por qué no quedó subsanada" in response.content.decode()
    assert CorrectionRequest.objects.get(notification=notification).status == "answered"

    response = client.post(
        review_url(notification),
        {
            "item-1-outcome": "met",
            "item-2-outcome": "not_met",
            "item-2-comment": "El comprobante no corresponde a la tasa del CPP.",
        },
    )
    assert response.status_code == 302
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.status == RequestStatus.PARTIALLY_MET
    items = {i.position: i for i in request.items.all()}
    assert items[1].outcome == Outcome.MET
    assert items[2].outcome == Outcome.NOT_MET

    follow_up = request.follow_up
    assert follow_up is not None
    assert follow_up.kind == Kind.CORRECTION
    assert follow_up.person == notification.person
    assert follow_up.deposited_by == officer
    assert follow_up.details == {
        "items": [
            {
                "description": "Falta el comprobante de pago de la tasa.",
                "document_kind": "Comprobante de pago",
            }
        ]
    }
    assert "El comprobante no corresponde a la tasa del CPP." in follow_up.body_markdown
    letter = follow_up.attachments.get()
    with letter.file.open("rb") as handle:
        text = factories.pdf_text(handle.read())
    assert "Falta el comprobante de pago de la tasa." in text
    assert "El comprobante no corresponde a la tasa del CPP." in " ".join(text.split())
    assert follow_up.events.filter(kind=EventKind.NOTIFICATION_DEPOSITED).exists()
    new_request = CorrectionRequest.objects.get(notification=follow_up)
    assert new_request.status == RequestStatus.OPEN
    assert list(new_request.items.values_list("description", flat=True)) == [
        "Falta el comprobante de pago de la tasa."
    ]
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.OBSERVED
    event = notification.events.get(kind=EventKind.ANSWER_REVIEWED)
    assert event.data["follow_up"] == str(follow_up.public_id)

    # The person sees the outcome and the way to the new request.
    page = (
        person_client(notification)
        .get(f"/buzon/notificaciones/{notification.public_id}/")
        .content.decode()
    )
    assert "No subsanada" in page
    assert f"/buzon/notificaciones/{follow_up.public_id}/" in page
    # A second review changes nothing.
    client.post(review_url(notification), {"item-1-outcome": "met", "item-2-outcome": "met"})
    assert Notification.objects.filter(kind=Kind.CORRECTION).count() == 2


def test_a_general_request_not_met_is_asked_again():
    notification = answered(items=None)
    officer_client(reviewer()).post(
        review_url(notification),
        {"item-1-outcome": "not_met", "item-1-comment": "El documento es ilegible."},
    )
    follow_up = CorrectionRequest.objects.get(notification=notification).follow_up
    assert follow_up.details["items"][0]["description"] == notification.subject


def test_officers_see_only_their_units_and_need_the_permission():
    notification = answered()
    other_unit = officer_client(reviewer(unit="SDV"))
    assert other_unit.get(review_url(notification)).status_code == 404
    assert other_unit.post(review_url(notification), {"item-1-outcome": "met"}).status_code == 404
    assert (
        str(notification.public_id)
        not in other_unit.get("/oficina/subsanaciones/").content.decode()
    )
    supervisor = factories.officer("", SUPERVISORS)
    assert officer_client(supervisor).get("/oficina/subsanaciones/").status_code == 403
    person = person_client(notification)
    assert person.get("/oficina/subsanaciones/").status_code == 403
    assert CorrectionRequest.objects.get(notification=notification).status == "answered"


def test_the_officer_downloads_the_filing_receipt():
    notification = answered()
    response = officer_client(reviewer()).get(f"{review_url(notification)}cargo.pdf")
    assert response.status_code == 200
    assert response.getvalue().startswith(b"%PDF-")


def test_an_answer_file_is_served_as_a_download_of_its_detected_type():
    notification = correction(items=None)
    person_client(notification).post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {"item-1": SimpleUploadedFile("scan.png", factories.pdf_bytes(), "image/png")},
    )
    row = CorrectionRequest.objects.get(notification=notification).answer.files.get()
    response = officer_client(reviewer()).get(
        f"{review_url(notification)}archivos/{row.public_id}/"
    )
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="scan.pdf"' in response["Content-Disposition"]


def person_page(notification):
    return (
        person_client(notification)
        .get(f"/buzon/notificaciones/{notification.public_id}/")
        .content.decode()
    )


def test_an_accepted_answer_leaves_the_procedure_observed_while_another_request_is_pending():
    registration = factories.register()
    first = answered(registration)
    second = correction(registration)  # same procedure, still open
    procedure = registration.procedure
    client = officer_client(reviewer())

    response = client.post(
        review_url(first), {"item-1-outcome": "met", "item-2-outcome": "met"}, follow=True
    )
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.OBSERVED
    event = first.events.get(kind=EventKind.ANSWER_REVIEWED)
    assert event.data["procedure_status"] == "observed"
    assert "El trámite sigue observado: tiene otra subsanación pendiente." in (
        response.content.decode()
    )
    assert "Su trámite continuará cuando se resuelvan las demás subsanaciones pendientes." in (
        person_page(first)
    )

    # The other request answered: still observed while it awaits review.
    answer_every_item(second)
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.OBSERVED
    # Accepted too: nothing is pending any more, the procedure goes on.
    response = client.post(
        review_url(second), {"item-1-outcome": "met", "item-2-outcome": "met"}, follow=True
    )
    assert "Revisión registrada: todo subsanado. El trámite continúa." in response.content.decode()
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.IN_PROGRESS
    assert second.events.get(kind=EventKind.ANSWER_REVIEWED).data["procedure_status"] == (
        "in_progress"
    )


def test_a_procedure_not_filed_after_an_expiry_stays_not_filed():
    registration = factories.register()
    expiring = correction(registration)
    other = answered(registration)  # answered in time: its deadline stopped
    assert record_expired_deadlines(timezone.now() + timedelta(days=60)) == 1
    procedure = registration.procedure
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.NOT_FILED
    assert expiring.events.get(kind=EventKind.CORRECTION_EXPIRED).data["procedure_status"] == (
        "not_filed"
    )

    # Accepting the other answer does not bring the procedure back.
    client = officer_client(reviewer())
    response = client.post(
        review_url(other), {"item-1-outcome": "met", "item-2-outcome": "met"}, follow=True
    )
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.NOT_FILED
    event = other.events.get(kind=EventKind.ANSWER_REVIEWED)
    assert event.data["procedure_status"] == "not_filed"
    assert "El trámite sigue como no presentado: venció el plazo de otra subsanación." in (
        response.content.decode()
    )
    assert "Aun así, su trámite se considera no presentado" in person_page(other)


def test_a_review_that_fails_after_the_follow_up_was_deposited_leaves_no_files(monkeypatch):
    notification = answered()
    request = CorrectionRequest.objects.get(notification=notification)
    officer = reviewer()
    decisions = {1: Decision(True), 2: Decision(False, "El comprobante no corresponde.")}
    before = all_stored_files()

    def failing_write(*args, **kwargs):  # writing the review's evidence fails
        raise RuntimeError("could not write the evidence")

    monkeypatch.setattr("corrections.actions.record_about", failing_write)
    with pytest.raises(RuntimeError):
        review_answer(request, officer=officer, decisions=decisions)
    # The follow-up's letter was written and then rolled back with it: no file is left behind.
    assert all_stored_files() == before
    assert Notification.objects.filter(kind=Kind.CORRECTION).count() == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED  # still awaiting review

    monkeypatch.undo()
    review = review_answer(request, officer=officer, decisions=decisions)
    assert review.follow_up is not None
    letter = review.follow_up.attachments.get()
    assert all_stored_files() == before | {str(letter.file.name)}
