"""Solicitud de credenciales by web, and the officers' queue that answers it."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import PasswordReset
from agency.actions import ingest_email
from agency.models import CredentialRequest
from backoffice.groups import REGISTRY, SUPERVISORS
from evidence.models import Event, EventKind
from tests import factories

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "mi contraseña nueva del buzón"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 180, 160)).save(out, "JPEG")
    return out.getvalue()


def form_data(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "doc_type": "CE",
        "doc_number": "001234567",
        "given_names": "María Alejandra",
        "surnames": "González Rivas",
        "birth_date": "1991-04-12",
        "nationality": "VE",
        "contact_email": "Maria.Gonzalez@Example.org",
        "procedure_number": "",
        "phone": "",
        "message": "No recibí mis credenciales en la constancia.",
    }
    values.update(overrides)
    return values


def submit(client: Client, **overrides: Any):
    return client.post("/agencia/solicitud/", form_data(**overrides))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the code defers to after commit (acknowledgements, answers)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_web_request_gets_a_case_number_at_once_and_an_acknowledgement(client, committed):
    document = SimpleUploadedFile("carne.jpg", jpeg(), content_type="image/jpeg")
    with committed():
        response = client.post("/agencia/solicitud/", form_data(document=document), follow=True)
    case = CredentialRequest.objects.get()
    assert re.fullmatch(r"SC-\d{4}-\d{6}", case.number)
    assert case.number in response.content.decode()
    assert case.channel == "web"
    assert case.status == "received"
    assert case.contact_email == "maria.gonzalez@example.org"
    assert case.document_type == "image/jpeg"
    assert case.document_file.read() == jpeg()
    assert [m.to for m in mail.outbox] == [["maria.gonzalez@example.org"]]
    assert case.number in mail.outbox[0].subject
    case.refresh_from_db()
    assert case.ack_sent_at is not None
    event = Event.objects.get(kind=EventKind.CREDENTIAL_REQUEST_RECEIVED)
    assert event.data["case"] == case.number
    assert event.data["document_sha256"]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("carne.jpg", b"MZ\x90\x00 not an image at all", "Adjunte una foto (JPG o PNG) o un PDF"),
        ("carne.pdf", b"%PDF-1.7\n garbage", "dañado"),
        (
            "carne.gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
            "Adjunte una foto (JPG o PNG) o un PDF",
        ),
    ],
)
def test_the_document_is_checked_by_its_content(client, name, content, error):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = client.post("/agencia/solicitud/", form_data(document=upload))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CredentialRequest.objects.exists()
    assert not mail.outbox


def test_a_document_too_large_is_refused_with_the_limit(client, settings):
    settings.BUZON_REQUEST_DOCUMENT_MAX_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("carne.pdf", factories.pdf_bytes(pad_kb=1600))
    response = client.post("/agencia/solicitud/", form_data(document=upload))
    assert "El archivo pesa 1.6 MB; el máximo es 1 MB." in response.content.decode()
    assert not CredentialRequest.objects.exists()


def test_a_pdf_document_is_accepted(client):
    upload = SimpleUploadedFile("carne.pdf", factories.pdf_bytes())
    submit_response = client.post("/agencia/solicitud/", form_data(document=upload))
    assert submit_response.status_code == 302
    assert CredentialRequest.objects.get().document_type == "application/pdf"


def test_missing_data_is_named_in_spanish(client):
    response = submit(client, contact_email="no-es-un-correo", birth_date="")
    html = response.content.decode()
    assert "Revise los datos marcados" in html
    assert re.search(r'id="id_contact_email_error">[^<]*válid', html)
    assert re.search(r'id="id_birth_date_error">[^<]*obligatorio', html)
    assert not CredentialRequest.objects.exists()


def test_web_requests_are_throttled_per_address(settings):
    settings.BUZON_REQUESTS_PER_IP_PER_HOUR = 2
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(2):
        assert submit(client).status_code == 302
    response = submit(client)
    assert "muchas solicitudes" in response.content.decode()
    assert CredentialRequest.objects.count() == 2


# --- The officers' queue ----------------------------------------------------------------------


@pytest.fixture
def supervisor_client():
    client = Client()
    client.force_login(factories.officer("sup", SUPERVISORS))
    return client


@pytest.fixture
def maria():
    registration = factories.register(doc_number="001234567", email="maria@example.org")
    return registration


def filed(**overrides: Any) -> CredentialRequest:
    submit(Client(REMOTE_ADDR="10.9.9.9"), **overrides)
    mail.outbox.clear()
    return CredentialRequest.objects.latest("pk")


def test_the_queue_shows_the_request_beside_the_matching_records(supervisor_client, maria):
    case = filed()
    listing = supervisor_client.get("/oficina/solicitudes/").content.decode()
    assert case.number in listing
    assert "Espera 0 d 0 h" in listing
    detail = supervisor_client.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert maria.procedure.number in detail  # the person's records, beside the request
    assert 'class="ok">Fecha de nacimiento' in detail
    assert 'class="bad">Correo en el expediente' in detail  # a different address than on file


def test_only_officers_who_handle_requests_see_the_queue(maria):
    case = filed()
    registry = Client()
    registry.force_login(factories.officer("mesa", REGISTRY))
    assert registry.get("/oficina/solicitudes/").status_code == 403
    assert registry.get(f"/oficina/solicitudes/{case.number}/").status_code == 403
    person_client = Client()
    person_client.force_login(maria.procedure.person.user)
    assert person_client.get("/oficina/solicitudes/").status_code in (302, 403)


def approve(client: Client, case: CredentialRequest, person: Any, delivery: str = "link"):
    return client.post(
        f"/oficina/solicitudes/{case.number}/decidir/",
        {"decision": "approve", "person": person.pk, "delivery": delivery},
        follow=True,
    )


def test_approving_sends_a_one_time_activation_link_to_the_email_on_file(
    supervisor_client, maria, committed
):
    case = filed()  # written from maria.gonzalez@example.org; her file says maria@example.org
    person = maria.procedure.person
    with committed():
        approve(supervisor_client, case, person)
    case.refresh_from_db()
    assert case.status == "approved"
    assert case.person == person
    # Never to the address the requester typed: anyone can type any address.
    assert [m.to for m in mail.outbox] == [["maria@example.org"]]
    assert case.delivered_to == "maria@example.org"
    link = re.search(r"https?://[^/\s]+(/buzon/recuperar/\d+/[\w-]+/)", str(mail.outbox[0].body))
    assert link
    visitor = Client()
    assert visitor.get(link.group(1))["Location"] == "/buzon/recuperar/nueva/"
    with committed():
        visitor.post(
            "/buzon/recuperar/nueva/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    person.refresh_from_db()
    person.user.refresh_from_db()
    assert person.user.check_password(NEW_PASSWORD)
    assert person.email_verified  # the link proved the address on file
    assert mail.outbox[-1].subject == "Su contraseña cambió"
    # Single use.
    assert Client().get(link.group(1), follow=True).status_code == 400
    kinds = set(Event.objects.filter(person=person).values_list("kind", flat=True))
    assert {EventKind.CREDENTIAL_REQUEST_APPROVED, EventKind.PASSWORD_RESET} <= kinds
    assert PasswordReset.objects.get().purpose == "activation"


@pytest.mark.parametrize(
    "request_data",
    [{"birth_date": "1991-04-13"}, {"doc_type": "CPP"}],
    ids=["another birth date", "another document type"],
)
def test_no_link_unless_the_request_names_the_persons_document_and_birth_date(
    supervisor_client, maria, request_data
):
    case = filed(**request_data)
    detail = supervisor_client.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert "Solo puede aprobarse con una constancia nueva en una sede" in detail
    refused = approve(supervisor_client, case, maria.procedure.person)
    assert "El enlace solo puede ir al correo del expediente" in refused.content.decode()
    assert CredentialRequest.objects.get().status == "received"
    assert not mail.outbox


def test_no_link_without_an_email_on_file(supervisor_client):
    registration = factories.register(doc_number="001234567")
    case = filed()
    refused = approve(supervisor_client, case, registration.procedure.person)
    assert "El enlace solo puede ir al correo del expediente" in refused.content.decode()
    assert not PasswordReset.objects.exists()


def test_approving_for_the_counter_tells_the_requester_to_come(supervisor_client, maria, committed):
    case = filed()
    with committed():
        supervisor_client.post(
            f"/oficina/solicitudes/{case.number}/decidir/",
            {"decision": "approve", "person": maria.procedure.person.pk, "delivery": "counter"},
        )
    case.refresh_from_db()
    assert case.status == "approved"
    assert case.delivery == "counter"
    assert "acuda a una sede" in mail.outbox[0].subject.lower()
    assert not PasswordReset.objects.exists()


def test_rejecting_sends_the_reason(supervisor_client, maria, committed):
    case = filed()
    short = supervisor_client.post(
        f"/oficina/solicitudes/{case.number}/decidir/",
        {"decision": "reject", "reason": "no"},
        follow=True,
    )
    assert "al menos 10 caracteres" in short.content.decode()
    with committed():
        supervisor_client.post(
            f"/oficina/solicitudes/{case.number}/decidir/",
            {"decision": "reject", "reason": "La fecha de nacimiento no coincide con el registro."},
        )
    case.refresh_from_db()
    assert case.status == "rejected"
    assert "La fecha de nacimiento no coincide" in mail.outbox[0].body
    event = Event.objects.get(kind=EventKind.CREDENTIAL_REQUEST_REJECTED)
    assert event.data["case"] == case.number
    # A decided case cannot be decided again.
    again = supervisor_client.post(
        f"/oficina/solicitudes/{case.number}/decidir/",
        {"decision": "approve", "person": maria.procedure.person.pk, "delivery": "counter"},
        follow=True,
    )
    assert "ya fue resuelta" in again.content.decode()
    assert CredentialRequest.objects.get().status == "rejected"


def test_an_officer_cannot_approve_for_someone_the_request_does_not_match(supervisor_client, maria):
    stranger = factories.register(doc_number="000777888", given_names="Pedro", email="p@x.org")
    case = filed()
    approve(supervisor_client, case, stranger.procedure.person)
    approve(supervisor_client, case, stranger.procedure.person, delivery="counter")
    case.refresh_from_db()
    assert case.status == "received"
    assert not mail.outbox


def test_a_mail_failure_on_approval_leaves_the_case_open(supervisor_client, maria, monkeypatch):
    case = filed()

    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("accounts.actions.send_mail", refuse)
    response = approve(supervisor_client, case, maria.procedure.person)
    assert "no se guardó nada" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "received"
    assert not Event.objects.filter(kind=EventKind.CREDENTIAL_REQUEST_APPROVED).exists()


def test_an_email_request_that_could_not_be_read_is_queued_for_review(supervisor_client):
    ingested = ingest_email(b"\x00\xff garbage that is not an email")
    assert ingested.case.status == "review"
    listed = supervisor_client.get("/oficina/solicitudes/")
    listing = listed.content.decode()
    assert ingested.case.number in listing
    assert "requiere revisión manual" in listing
    detail = supervisor_client.get(f"/oficina/solicitudes/{ingested.case.number}/")
    assert "Revisar a mano" in detail.content.decode()
    message = ingested.case.inbound_messages.get()
    raw = supervisor_client.get(
        f"/oficina/solicitudes/{ingested.case.number}/archivo/{message.pk}/"
    )
    assert b"".join(raw.streaming_content) == b"\x00\xff garbage that is not an email"
    # A requester's personal data: no browser or proxy cache keeps a copy.
    for response in (listed, detail, raw):
        assert "no-store" in response["Cache-Control"]


def test_an_acknowledgement_that_failed_is_sent_by_the_next_retry(monkeypatch, committed):
    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("agency.mail.send_mail", refuse)
    with committed():
        submit(Client())
    case = CredentialRequest.objects.get()
    assert case.ack_sent_at is None  # the case is kept all the same
    assert not mail.outbox
    monkeypatch.undo()
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later), committed():
        call_command("retry_request_acks", stdout=io.StringIO())
    case.refresh_from_db()
    assert case.ack_sent_at is not None
    assert [m.to for m in mail.outbox] == [["maria.gonzalez@example.org"]]
    with time_machine.travel(later), committed():
        call_command("retry_request_acks", stdout=io.StringIO())
    assert len(mail.outbox) == 1  # once only


def test_letters_that_grow_in_upper_case_are_an_error_not_a_crash(client):
    response = submit(client, doc_number="ß" * 30, procedure_number="ﬃ" * 15)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Revise el número de documento." in html
    assert "Revise el número de trámite." in html
    assert not CredentialRequest.objects.exists()
