import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from evidence.models import Event, EventKind
from mailboxes.tests.test_inbox import login
from tests import factories

pytestmark = pytest.mark.django_db


def test_alerts_are_off_until_a_contact_is_confirmed(client):
    registration = factories.register(email="typed@example.org")
    client = login(registration)
    page = client.get("/buzon/perfil/").content.decode()
    assert "Las alertas están desactivadas." in page
    assert "sin confirmar: no recibe alertas" in page


def test_an_email_is_confirmed_by_its_link():
    registration = factories.register()
    client = login(registration)
    client.post("/buzon/perfil/", {"e-email": "Nueva@Example.org"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nueva@example.org"]
    link = re.search(r"http\S+/buzon/perfil/verificar/\S+/", str(mail.outbox[0].body)).group(0)
    path = urlparse(link).path
    # Someone else, logged in, cannot use the link.
    other = login(factories.register(given_names="José"))
    other.get(path)
    person = registration.procedure.person
    person.refresh_from_db()
    assert not person.email_verified
    page = client.get(path, follow=True).content.decode()
    assert "Su correo quedó confirmado" in page
    assert "Las alertas están activadas." in page
    person.refresh_from_db()
    assert (person.email, person.email_verified) == ("nueva@example.org", True)
    assert Event.objects.filter(kind=EventKind.CONTACT_VERIFIED, person=person).count() == 1
    assert "ya venció" in client.get(path, follow=True).content.decode()  # single use


def test_a_phone_is_confirmed_by_code_with_limited_attempts(caplog):
    caplog.set_level("INFO", logger="buzon.sms")
    registration = factories.register()
    client = login(registration)
    client.post("/buzon/perfil/", {"p-mobile_phone": "987 654 321"})
    code = re.search(r"es (\d{6})", caplog.text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        page = client.post("/buzon/perfil/codigo/", {"c-code": wrong}, follow=True)
        assert "no es válido" in page.content.decode()
    blocked = client.post("/buzon/perfil/codigo/", {"c-code": code}, follow=True)
    assert "Demasiados intentos" in blocked.content.decode()
    person = registration.procedure.person
    person.refresh_from_db()
    assert not person.mobile_phone_verified
    # A new code starts over, and the right one works.
    caplog.clear()
    client.post("/buzon/perfil/", {"p-mobile_phone": "987 654 321"})
    code = re.search(r"es (\d{6})", caplog.text).group(1)
    ok = client.post("/buzon/perfil/codigo/", {"c-code": code}, follow=True).content.decode()
    assert "Su celular quedó confirmado" in ok
    person.refresh_from_db()
    assert (person.mobile_phone, person.mobile_phone_verified) == ("+51987654321", True)


def test_an_expired_code_is_refused(caplog):
    caplog.set_level("INFO", logger="buzon.sms")
    registration = factories.register()
    client = login(registration)
    client.post("/buzon/perfil/", {"p-mobile_phone": "987654321"})
    code = re.search(r"es (\d{6})", caplog.text).group(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        client.get("/buzon/")  # keep the session alive
        page = client.post("/buzon/perfil/codigo/", {"c-code": code}, follow=True)
    assert "ya venció" in page.content.decode()


def test_bad_contacts_get_specific_errors():
    client = login(factories.register())
    page = client.post("/buzon/perfil/", {"p-mobile_phone": "01 4171000"}).content.decode()
    assert "no un teléfono fijo" in page
    page = client.post("/buzon/perfil/", {"e-email": "no-es-correo"}).content.decode()
    assert "no es válido" in page


def test_registration_asks_the_person_to_confirm_the_email_typed_at_the_desk(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = factories.register(email="ana@example.org")
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert "/buzon/perfil/verificar/" in mail.outbox[0].body
    client = login(registration)
    page = client.get("/buzon/").content.decode()
    assert "Las alertas están desactivadas" in page
    link = re.search(r"http\S+/buzon/perfil/verificar/\S+/", str(mail.outbox[0].body)).group(0)
    client.get(urlparse(link).path)
    assert "Las alertas están desactivadas" not in client.get("/buzon/").content.decode()


def test_a_mail_outage_at_registration_does_not_undo_it(django_capture_on_commit_callbacks):
    from unittest import mock

    with (
        mock.patch("people.actions.send_mail", side_effect=ConnectionRefusedError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        registration = factories.register(email="ana@example.org")
    assert registration.created


def test_sends_are_limited_per_hour_and_failures_are_explained(caplog):
    from unittest import mock

    caplog.set_level("INFO", logger="buzon.sms")
    client = login(factories.register())
    for _ in range(5):
        client.post("/buzon/perfil/", {"p-mobile_phone": "987654321"})
    page = client.post("/buzon/perfil/", {"p-mobile_phone": "987654321"}).content.decode()
    assert "Pidió demasiados códigos o enlaces" in page
    assert caplog.text.count("SMS to +51987654321") == 5
    other = login(factories.register(given_names="José"))
    with mock.patch("alerts.sms.LoggingSmsBackend.send", side_effect=ConnectionError("down")):
        page = other.post("/buzon/perfil/", {"p-mobile_phone": "987654321"}).content.decode()
    assert "No pudimos enviar el mensaje" in page
