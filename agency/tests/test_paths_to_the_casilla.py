"""A person with no credentials reaches their casilla by a credential request, by web and by
email; and whatever arrives by email, it is filed, never dropped."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agency.actions import ingest_email
from agency.models import CredentialRequest, InboundMessage
from backoffice.groups import SUPERVISORS
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "ya tengo mi buzón de migraciones"


def seed_message(person, sender: str) -> bytes:
    """The seed's message: the subject, and the personal data below it."""
    message = EmailMessage()
    message["From"] = f"Ana Pérez <{sender}>"
    message["To"] = "informes@migraciones.gob.pe"
    message["Subject"] = "Solicitud de credenciales para acceder a mi buzón electrónico"
    message["Message-ID"] = "<seed-1@example.org>"
    message.set_content(
        "Buenos días:\n\nSolicito mis credenciales para acceder a mi buzón electrónico.\n\n"
        f"Nombres: {person.given_names}\n"
        f"Apellidos: {person.first_surname} {person.second_surname}\n"
        f"DNI/CE/CPP: CE {person.doc_number}\n"
        f"Fecha de nacimiento: {person.birth_date:%d/%m/%Y}\n"
        "Nacionalidad: venezolana\n\nGracias.\n"
    )
    return message.as_bytes()


def approve_and_activate(case: CredentialRequest, person) -> None:
    officer = Client()
    officer.force_login(factories.officer("sup", SUPERVISORS))
    detail = officer.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert person.full_name in detail  # the matching record is offered beside the request
    officer.post(
        f"/oficina/solicitudes/{case.number}/decidir/",
        {"decision": "approve", "person": person.pk, "delivery": "link"},
    )
    assert mail.outbox[-1].to == [person.email]  # the address on file, whoever wrote
    link = re.search(r"https?://[^/\s]+(/buzon/recuperar/\d+/[\w-]+/)", str(mail.outbox[-1].body))
    assert link, mail.outbox[-1].body
    visitor = Client()
    visitor.get(link.group(1))
    visitor.post("/buzon/recuperar/nueva/", {"new_password1": PASSWORD, "new_password2": PASSWORD})


def logs_in_and_reads(person, subject: str) -> None:
    client = Client()
    response = client.post(
        "/buzon/ingresar/",
        {"doc_type": person.doc_type, "doc_number": person.doc_number, "password": PASSWORD},
    )
    assert response["Location"] == "/buzon/"
    assert subject in client.get("/buzon/notificaciones/").content.decode()


def test_by_email_the_seed_message_leads_to_the_casilla(django_capture_on_commit_callbacks):
    registration = factories.register(email="ana.perez@example.org")
    factories.deposit(registration, subject="Resolución que aprueba su CPP")
    person = registration.procedure.person
    with django_capture_on_commit_callbacks(execute=True):
        filed = ingest_email(seed_message(person, "ana.perez@example.org"))
    case = filed.case
    assert case.status == "received"
    assert case.doc_number == person.doc_number
    assert mail.outbox[-1].to == ["ana.perez@example.org"]
    assert case.number in mail.outbox[-1].body
    approve_and_activate(case, person)
    logs_in_and_reads(person, "Resolución que aprueba su CPP")


def test_by_web_form_the_request_leads_to_the_casilla():
    registration = factories.register(email="ana.p@example.org")
    factories.deposit(registration, subject="Subsanación de su solicitud")
    person = registration.procedure.person
    Client().post(
        "/agencia/solicitud/",
        {
            "doc_type": person.doc_type,
            "doc_number": person.doc_number,
            "given_names": person.given_names,
            "surnames": f"{person.first_surname} {person.second_surname}",
            "birth_date": person.birth_date.isoformat(),
            "nationality": str(person.nationality),
            "contact_email": "ana.perez@example.org",
        },
    )
    approve_and_activate(CredentialRequest.objects.get(), person)
    logs_in_and_reads(person, "Subsanación de su solicitud")


def test_a_copy_of_the_same_message_is_merged_not_filed_twice(django_capture_on_commit_callbacks):
    person = factories.register().procedure.person
    raw = seed_message(person, "ana.perez@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest_email(raw)
        again = ingest_email(raw.replace(b"Subject:", b"Received: by relay2\nSubject:", 1))
    assert again.merged
    assert again.case.pk == first.case.pk
    assert CredentialRequest.objects.get().inbound_messages.count() == 2
    assert InboundMessage.objects.filter(request=first.case).count() == 2
    assert len(mail.outbox) == 1  # one acknowledgement


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.binary(max_size=3000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8")))
def test_whatever_arrives_is_filed_exactly_once_and_kept_as_received(db, raw):
    before = InboundMessage.objects.count()
    filed = ingest_email(raw)
    assert InboundMessage.objects.count() == before + 1
    stored = InboundMessage.objects.latest("pk")
    assert stored.request_id == filed.case.pk
    with stored.raw.open("rb") as handle:
        assert handle.read() == raw
    assert filed.case.number.startswith("SC-")


def test_auto_replies_are_filed_but_never_answered(django_capture_on_commit_callbacks):
    person = factories.register().procedure.person
    raw = seed_message(person, "ana.perez@example.org")
    auto = raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1)
    with django_capture_on_commit_callbacks(execute=True):
        filed = ingest_email(auto)
    assert filed.case.number.startswith("SC-")
    assert not filed.case.ack_wanted
    assert not mail.outbox


def test_an_address_gets_at_most_three_acknowledgements_a_day(django_capture_on_commit_callbacks):
    person = factories.register().procedure.person
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            raw = (
                seed_message(person, "victima@example.org")
                .replace(b"seed-1@example.org", f"seed-{n}@example.org".encode())
                .replace(b"Gracias.", f"Gracias ({n}).".encode())
            )
            ingest_email(raw)
    assert CredentialRequest.objects.count() == 5  # all filed
    assert len(mail.outbox) == 3
