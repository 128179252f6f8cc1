"""The Agencia Digital: personal data and procedure data, "Verificar", then a one-time code to
a contact the agency holds, a new password, and the casilla. Never anyone else's."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import PasswordReset
from agency.models import IdentityCheck
from evidence.models import Event, EventKind
from tests import factories

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "mi casilla en migraciones 2026"


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The answer's minimum duration, recorded instead of slept (tests never wait on time)."""
    calls: list[float] = []
    monkeypatch.setattr("agency.views.time.sleep", calls.append)
    return calls


@pytest.fixture
def maria():
    """Registered with an email on file; it is verified unless a test says otherwise."""
    registration = factories.register()
    factories.verified(registration, email="maria@example.org")
    return registration


def data_of(registration: Any, **overrides: Any) -> dict[str, str]:
    person = registration.procedure.person
    values = {
        "doc_type": person.doc_type,
        "doc_number": person.doc_number,
        "given_names": "maria alejandra",  # as people type: no accents, lower case
        "first_surname": "GONZALEZ",
        "second_surname": "Rivas",
        "birth_date": person.birth_date.isoformat(),
        "nationality": str(person.nationality),
        "procedure_number": registration.procedure.number,
        "filing_date": registration.procedure.filing_date.isoformat(),
    }
    values.update(overrides)
    return values


def verify(client: Client, registration: Any, kind: str = "extranjero", **overrides: Any):
    return client.post(f"/agencia/{kind}/", data_of(registration, **overrides))


def page(response) -> str:
    """The page without its per-session CSRF token and the values typed back into it."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r'value="[^"]*"', 'value=""', html).replace(" selected>", ">")


def code_in(message_body: Any) -> str:
    match = re.search(r"\b(\d{6})\b", message_body)
    assert match, message_body
    return match.group(1)


def test_the_seed_steps_lead_to_the_casilla(client, maria):
    landing = client.get("/agencia/").content.decode()
    assert "Extranjero" in landing
    assert "Peruano" in landing
    form = client.get("/agencia/extranjero/").content.decode()
    assert "Regularización CPP / Calidad Humanitaria" in form
    assert "Verificar" in form

    response = verify(client, maria)
    assert response.status_code == 302
    assert response["Location"] == "/agencia/inicio/"
    platform = client.get("/agencia/inicio/").content.decode()
    assert 'id="buzon-shortcut"' in platform
    assert "Buzón Electrónico" in platform

    shortcut = client.get("/agencia/buzon/")
    assert "m•••@example.org" in shortcut.content.decode()
    assert [m.to for m in mail.outbox] == [["maria@example.org"]]
    assert client.post("/agencia/buzon/", {"code": "000000"}).status_code == 200
    code = code_in(mail.outbox[0].body)
    assert client.post("/agencia/buzon/", {"code": code})["Location"] == "/agencia/contrasena/"
    done = client.post(
        "/agencia/contrasena/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == "/buzon/"
    casilla = client.get("/buzon/notificaciones/")
    assert casilla.status_code == 200

    person = maria.procedure.person
    person.user.refresh_from_db()
    assert person.user.check_password(NEW_PASSWORD)
    kinds = list(Event.objects.filter(person=person).values_list("kind", flat=True))
    assert EventKind.IDENTITY_VERIFIED in kinds
    assert EventKind.PASSWORD_RESET in kinds
    reset_event = Event.objects.filter(person=person, kind=EventKind.PASSWORD_RESET).last()
    assert reset_event.data["purpose"] == "agency"
    assert IdentityCheck.objects.get().outcome == IdentityCheck.Outcome.MATCHED
    # The code works once.
    other = Client()
    verify(other, maria)
    other.get("/agencia/buzon/")
    assert other.post("/agencia/buzon/", {"code": code}).status_code == 200


def test_a_peruvian_uses_the_dni_and_needs_no_nationality(client):
    registration = factories.register(
        doc_type="DNI", doc_number="46027897", nationality="PE", given_names="José"
    )
    factories.verified(registration, email="jose@example.org")
    fields = data_of(registration, given_names="Jose")
    del fields["nationality"]
    response = client.post("/agencia/peruano/", fields)
    assert response["Location"] == "/agencia/inicio/"


@pytest.mark.parametrize(
    "wrong",
    [
        {"birth_date": "1991-04-13"},
        {"given_names": "Mariana"},
        {"first_surname": "Gonzales"},
        {"second_surname": "Ramos"},
        {"nationality": "CO"},
        {"filing_date": "2026-03-03"},
        {"procedure_number": "LM269999999"},
        {"doc_number": "009999999"},  # nobody has this document
    ],
)
def test_one_wrong_answer_gets_the_same_generic_answer(client, maria, waits, wrong):
    reference = page(verify(Client(), maria, doc_number="008888888"))
    response = verify(client, maria, **wrong)
    assert response.status_code == 200
    assert "No encontramos un trámite con esos datos" in response.content.decode()
    assert page(response) == reference  # same body shape, whatever did not match
    assert all(w > 0 for w in waits)  # every answer is padded to the same minimum time
    assert client.get("/agencia/inicio/")["Location"] == "/agencia/"
    assert not mail.outbox
    assert IdentityCheck.objects.filter(outcome=IdentityCheck.Outcome.MISMATCH).count() == 2


def test_someone_elses_procedure_never_opens_my_door(client, maria):
    other = factories.register(doc_number="000222333")
    factories.verified(other, email="otra@example.org")
    # My data with her procedure, and her data with my procedure: both refused.
    assert (
        "No encontramos"
        in verify(
            client,
            maria,
            procedure_number=other.procedure.number,
            filing_date=other.procedure.filing_date.isoformat(),
        ).content.decode()
    )
    assert (
        "No encontramos"
        in verify(client, other, procedure_number=maria.procedure.number).content.decode()
    )
    # Matched as María, the code goes to María's contact only and opens María's account.
    verify(client, maria)
    client.get("/agencia/buzon/")
    assert [m.to for m in mail.outbox] == [["maria@example.org"]]


def test_attempts_are_throttled_per_identity_even_with_the_right_data(client, maria, settings):
    settings.BUZON_AGENCY_PER_IDENTITY_PER_HOUR = 3
    for _ in range(3):
        verify(Client(REMOTE_ADDR="10.0.0.9"), maria, birth_date="1990-01-01")
    blocked = verify(client, maria)
    assert blocked.status_code == 200
    assert "demasiados intentos" in blocked.content.decode()
    outcomes = list(IdentityCheck.objects.values_list("outcome", flat=True))
    assert outcomes.count(IdentityCheck.Outcome.THROTTLED) == 1
    assert IdentityCheck.objects.filter(person=maria.procedure.person).count() == 4


def test_attempts_are_throttled_per_address(maria, settings):
    settings.BUZON_AGENCY_PER_IP_PER_HOUR = 2
    client = Client(REMOTE_ADDR="10.0.0.7")
    for number in ("000111001", "000111002"):
        verify(client, maria, doc_number=number)
    assert "demasiados intentos" in verify(client, maria).content.decode()


def test_without_a_verified_contact_the_code_goes_to_the_contact_on_file(client):
    registration = factories.register(email="en.el.expediente@example.org")
    person = registration.procedure.person
    assert not person.email_verified
    verify(client, registration)
    client.get("/agencia/buzon/")
    assert mail.outbox[0].to == ["en.el.expediente@example.org"]
    client.post("/agencia/buzon/", {"code": code_in(mail.outbox[0].body)})
    client.post(
        "/agencia/contrasena/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    person.refresh_from_db()
    assert person.email_verified  # the code proved that address
    assert Event.objects.filter(person=person, kind=EventKind.CONTACT_VERIFIED).exists()


def test_the_code_can_go_by_sms(client):
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    verify(client, registration)
    with mock.patch("accounts.actions.get_sms_backend") as backend:
        assert "••• ••• 321" in client.get("/agencia/buzon/").content.decode()
    (to, text), _kwargs = backend.return_value.send.call_args
    assert to == "+51987654321"
    assert client.post("/agencia/buzon/", {"code": code_in(text)}).status_code == 302


def test_without_any_contact_the_person_is_sent_to_a_credential_request(client):
    registration = factories.register()
    verify(client, registration)
    response = client.get("/agencia/buzon/")
    assert "No tenemos un correo ni un celular suyo" in response.content.decode()
    assert "/agencia/solicitud/" in response.content.decode()
    assert not mail.outbox
    assert not PasswordReset.objects.exists()


def test_the_verified_step_expires(client, maria):
    verify(client, maria)
    with time_machine.travel(timezone.now() + timedelta(minutes=21)):
        assert client.get("/agencia/buzon/")["Location"] == "/agencia/"
    assert not mail.outbox


def test_password_step_needs_a_right_code(client, maria):
    verify(client, maria)
    client.get("/agencia/buzon/")
    response = client.post(
        "/agencia/contrasena/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == "/agencia/"
    maria.procedure.person.user.refresh_from_db()
    assert not maria.procedure.person.user.check_password(NEW_PASSWORD)


def test_a_weak_password_is_refused_in_spanish(client, maria):
    verify(client, maria)
    client.get("/agencia/buzon/")
    client.post("/agencia/buzon/", {"code": code_in(mail.outbox[0].body)})
    response = client.post(
        "/agencia/contrasena/", {"new_password1": "corta", "new_password2": "corta"}
    )
    assert response.status_code == 200
    assert "12" in response.content.decode()


def test_a_contact_added_by_a_later_registration_gets_no_code(client):
    """A contact another officer typed on a later procedure is not the person's own."""
    registration = factories.register()
    person = registration.procedure.person
    later = factories.register(
        doc_number=person.doc_number,
        email="puesto.despues@example.org",
        procedure=factories.procedure_input(filing_date=date(2026, 5, 4)),
    )
    person.refresh_from_db()
    assert person.email == "puesto.despues@example.org"
    verify(client, later)
    response = client.get("/agencia/buzon/")
    assert "No tenemos un correo ni un celular suyo" in response.content.decode()
    assert not mail.outbox


def test_a_deactivated_account_cannot_be_set_online(client, maria):
    user = maria.procedure.person.user
    user.is_active = False
    user.save()
    verify(client, maria)
    response = client.get("/agencia/buzon/")
    assert "no se puede activar en línea" in response.content.decode()
    assert not mail.outbox


def test_every_spelling_of_a_document_shares_one_counter(maria, settings):
    settings.BUZON_AGENCY_PER_IDENTITY_PER_HOUR = 2
    number = maria.procedure.person.doc_number  # e.g. 000100001
    for spelling in (number.lstrip("0"), f"{number[:3]}.{number[3:]}"):
        verify(Client(REMOTE_ADDR="10.0.0.1"), maria, doc_number=spelling, birth_date="1990-01-01")
    blocked = verify(Client(REMOTE_ADDR="10.0.0.2"), maria, doc_number=f" {number} ")
    assert "demasiados intentos" in blocked.content.decode()


def test_a_recovery_does_not_cancel_an_approved_activation_link(maria):
    from accounts.actions import send_activation_link, start_password_reset

    activation = send_activation_link(maria.procedure.person)
    start_password_reset(maria.procedure.person.username, ip_address=None)
    activation.refresh_from_db()
    assert activation.expires_at > timezone.now()


def test_a_live_code_dies_once_the_password_was_set_another_way(client, maria):
    """A code sent to the contact on file was meant to replace the password of that moment:
    once the person sets one by recovery, the code no longer leads to the password page."""
    from accounts.actions import change_password

    verify(client, maria)
    client.get("/agencia/buzon/")
    code = code_in(mail.outbox[0].body)

    person = maria.procedure.person
    change_password(person.user, "la frase que eligió la propia persona", actor=person.user)

    refused = client.post("/agencia/buzon/", {"code": code})
    assert refused.status_code == 200
    assert "El código no es válido o ya venció." in refused.content.decode()
    assert client.get("/agencia/contrasena/")["Location"] == "/agencia/"
