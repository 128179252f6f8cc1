"""The person answers a correction request from the notification page."""

import hashlib
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from corrections.models import Answer, CorrectionRequest, RequestStatus
from corrections.queries import open_for
from corrections.uploads import scan
from evidence import chain
from evidence.models import EventKind
from mailboxes.actions import record_expired_deadlines
from procedures.models import ProcedureStatus
from tests import factories

from .helpers import correction, jpeg_bytes, person_client, png_bytes

pytestmark = pytest.mark.django_db


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def detail(client, notification):
    return client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()


def post_answer(client, notification, data):
    return client.post(f"/buzon/notificaciones/{notification.public_id}/subsanacion/", data)


def stored_files():
    try:
        _dirs, files = default_storage.listdir("answers")
    except FileNotFoundError:
        return []
    return files


def test_the_page_lists_the_observations_and_offers_one_upload_per_item():
    notification = correction()
    page = detail(person_client(notification), notification)
    assert "El pasaporte adjunto está vencido." in page
    assert "Pasaporte vigente" in page
    assert "Comprobante de pago" in page
    assert 'name="item-1"' in page
    assert 'name="item-2"' in page
    assert "Presentar respuesta" in page
    assert notification.procedure.status == ProcedureStatus.OBSERVED


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("carta.pdf", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("foto.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
        ("pasaporte.png", b"%PDF-1.7\nnot really a pdf at all"),
        ("pasaporte.jpg", b"\xff\xd8\xff\xe0 truncated and broken"),
    ],
)
def test_an_upload_disguised_by_its_extension_is_refused_and_nothing_is_written(name, content):
    notification = correction()
    client = person_client(notification)
    response = post_answer(
        client,
        notification,
        {"item-1": upload(name, content), "item-2": upload("ok.pdf", factories.pdf_bytes())},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#subsanacion")
    page = detail(client, notification)
    assert "No se presentó su respuesta" in page
    assert name in page  # the message names the refused file
    assert not Answer.objects.exists()
    assert stored_files() == []
    notification.refresh_from_db()
    assert notification.deadline_stopped_at is None
    assert not notification.events.filter(kind=EventKind.NOTIFICATION_ANSWERED).exists()


def test_a_real_image_is_accepted_whatever_its_name_and_shown_with_its_real_extension():
    notification = correction()
    client = person_client(notification)
    post_answer(
        client,
        notification,
        {
            "item-1": [upload("pasaporte.pdf", jpeg_bytes()), upload("../../x.png", png_bytes())],
            "item-2": upload("pago.PDF", factories.pdf_bytes()),
        },
    )
    answer = Answer.objects.get()
    names = sorted(answer.files.values_list("original_name", "content_type"))
    assert names == [
        ("pago.pdf", "application/pdf"),
        ("pasaporte.jpg", "image/jpeg"),
        ("x.png", "image/png"),
    ]
    for row in answer.files.all():
        assert str(row.file.name).startswith("answers/")
        assert "pasaporte" not in str(row.file.name)


def test_every_item_needs_a_file_and_the_size_limit_holds(settings):
    settings.BUZON_ANSWER_FILE_MAX_BYTES = 2048
    notification = correction()
    client = person_client(notification)
    big = factories.pdf_bytes(pad_kb=4)
    post_answer(client, notification, {"item-1": upload("grande.pdf", big), "note": "Adjunto."})
    page = detail(client, notification)
    assert "el máximo es" in page
    assert "Adjunte al menos un archivo para esta observación." in page
    assert "Adjunto." in page  # the note typed is kept
    assert not Answer.objects.exists()


def test_filing_stops_the_deadline_with_its_evidence():
    notification = correction()
    client = person_client(notification)
    pdf = factories.pdf_bytes()
    image = png_bytes()
    response = post_answer(
        client,
        notification,
        {"item-1": upload("pasaporte.pdf", pdf), "item-2": upload("pago.png", image), "note": "Ok"},
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.deadline_stopped_at is not None
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.status == RequestStatus.ANSWERED
    assert list(open_for(notification.person)) == []

    event = notification.events.get(kind=EventKind.NOTIFICATION_ANSWERED)
    data = event.data
    assert [f["sha256"] for f in data["files"]] == [
        hashlib.sha256(pdf).hexdigest(),
        hashlib.sha256(image).hexdigest(),
    ]
    answer = Answer.objects.get()
    assert data["receipt_sha256"] == answer.receipt_sha256
    with answer.receipt.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == answer.receipt_sha256

    # Long after the deadline day, nothing expires: the deadline stopped (art. 136.3).
    later = timezone.now() + timedelta(days=60)
    assert record_expired_deadlines(later) == 0
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.OBSERVED

    page = detail(client, notification)
    assert "Descargar cargo de presentación (PDF)" in page
    assert "Qué sigue" in page
    assert "Presentar respuesta" not in page
    # A second answer is refused.
    post_answer(
        client, notification, {"item-1": upload("a.pdf", pdf), "item-2": upload("b.pdf", pdf)}
    )
    assert "Ya presentó su respuesta" in detail(client, notification)
    assert Answer.objects.count() == 1


def test_with_no_answer_the_request_expires_and_the_procedure_counts_as_not_filed():
    notification = correction()
    assert list(open_for(notification.person)) == [
        CorrectionRequest.objects.get(notification=notification)
    ]
    later = timezone.now() + timedelta(days=60)
    assert record_expired_deadlines(later) == 1
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.status == RequestStatus.EXPIRED
    notification.procedure.refresh_from_db()
    assert notification.procedure.status == ProcedureStatus.NOT_FILED
    event = notification.events.get(kind=EventKind.CORRECTION_EXPIRED)
    assert event.data["procedure_status"] == "not_filed"
    assert record_expired_deadlines(later) == 0  # once

    client = person_client(notification)
    page = detail(client, notification)
    assert "Su trámite se considera no presentado" in page
    post_answer(client, notification, {"item-1": upload("a.pdf", factories.pdf_bytes())})
    assert not Answer.objects.exists()


def test_after_the_deadline_day_no_answer_is_taken_even_before_the_expiry_is_recorded():
    notification = correction()
    pdf = factories.pdf_bytes()
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        client = person_client(notification)
        assert list(open_for(notification.person)) == []
        post_answer(
            client, notification, {"item-1": upload("a.pdf", pdf), "item-2": upload("b.pdf", pdf)}
        )
        assert "El plazo para subsanar venció" in detail(client, notification)
    assert not Answer.objects.exists()


def test_someone_elses_notification_cannot_be_answered():
    notification = correction()
    intruder = person_client(correction())
    pdf = factories.pdf_bytes()
    base = f"/buzon/notificaciones/{notification.public_id}/subsanacion/"
    assert intruder.post(base, {"item-1": upload("a.pdf", pdf)}).status_code == 404
    assert intruder.get(base + "cargo.pdf").status_code == 404
    assert not Answer.objects.exists()


def test_an_unopened_request_is_not_answered():
    notification = correction(opened=False)
    client = person_client(notification)
    pdf = factories.pdf_bytes()
    post_answer(
        client, notification, {"item-1": upload("a.pdf", pdf), "item-2": upload("b.pdf", pdf)}
    )
    assert not Answer.objects.exists()


def test_a_request_without_listed_items_takes_one_general_upload():
    notification = correction(items=None)
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.general
    assert list(request.items.values_list("description", flat=True)) == [notification.subject]
    client = person_client(notification)
    page = detail(client, notification)
    assert "Documentos que subsanan lo observado" in page
    post_answer(client, notification, {"item-1": upload("todo.pdf", factories.pdf_bytes())})
    assert Answer.objects.get().files.get().original_name == "todo.pdf"


def test_the_filing_receipt_shows_the_time_and_each_files_sha256():
    notification = correction()
    client = person_client(notification)
    pdf = factories.pdf_bytes(pages=2)
    image = jpeg_bytes()
    post_answer(
        client,
        notification,
        {"item-1": upload("pasaporte.pdf", pdf), "item-2": upload("pago.jpg", image)},
    )
    response = client.get(f"/buzon/notificaciones/{notification.public_id}/subsanacion/cargo.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = factories.pdf_text(response.getvalue())
    answer = Answer.objects.get()
    filed = timezone.localtime(answer.filed_at).strftime("%d/%m/%Y %H:%M:%S")
    assert f"Presentada el {filed} (hora de Lima)" in " ".join(text.split())
    for content in (pdf, image):
        assert hashlib.sha256(content).hexdigest() in text
    assert "pasaporte.pdf" in text
    assert "136.3" in text
    assert notification.procedure.number in text


def test_an_answer_sent_just_before_midnight_on_the_deadline_day_is_filed_on_that_day(
    monkeypatch,
):
    notification = correction()
    assert notification.deadline_date is not None
    sent = timezone.make_aware(datetime.combine(notification.deadline_date, time(23, 59, 50)))
    pdf = factories.pdf_bytes()
    with time_machine.travel(sent, tick=False) as clock:

        def slow_scan(uploads):  # reading, parsing and scanning the files takes a minute
            clock.shift(timedelta(minutes=1))
            return scan(uploads)

        monkeypatch.setattr("corrections.actions.scan", slow_scan)
        client = person_client(notification)
        post_answer(
            client, notification, {"item-1": upload("a.pdf", pdf), "item-2": upload("b.pdf", pdf)}
        )
        assert timezone.localdate() > notification.deadline_date  # past midnight by now
        page = detail(client, notification)
    assert "Su respuesta fue presentada." in page
    answer = Answer.objects.get()
    assert answer.filed_at == sent
    notification.refresh_from_db()
    assert notification.deadline_stopped_at == sent
    event = notification.events.get(kind=EventKind.NOTIFICATION_ANSWERED)
    assert event.data["filed_at"] == chain.timestamp(sent)
    with answer.receipt.open("rb") as handle:
        text = " ".join(factories.pdf_text(handle.read()).split())
    assert f"Presentada el {sent:%d/%m/%Y} 23:59:50 (hora de Lima)" in text


@pytest.mark.parametrize("field", ["item-²", "item-٣"])
def test_a_crafted_field_name_is_refused_instead_of_failing(field):
    notification = correction(items=None)
    client = person_client(notification)
    response = post_answer(client, notification, {field: upload("a.pdf", factories.pdf_bytes())})
    assert response.status_code == 302
    page = detail(client, notification)
    assert "El formulario no corresponde a esta subsanación." in page
    assert "Adjunte al menos un archivo." in page
    assert not Answer.objects.exists()
