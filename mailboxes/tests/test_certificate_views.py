import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from evidence import pki
from evidence.models import Certificate, Event, EventKind
from mailboxes.models import Opening
from tests import factories

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")
DOWNLOAD = "Descargar constancia de notificación (PDF)"


def logged_in(registration):
    number, password = factories.credentials_of(registration)
    client = Client()
    response = client.post(
        "/buzon/ingresar/", {"doc_type": "CE", "doc_number": number, "password": password}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def maria():
    return factories.register(procedure=factories.procedure_input(number="LM260000111"))


def test_after_opening_the_person_downloads_a_signed_certificate(maria):
    notification = factories.deposit(maria)
    client = logged_in(maria)
    detail = f"/buzon/notificaciones/{notification.public_id}/"
    client.post(f"{detail}abrir/")
    page = client.get(detail).content.decode()
    assert DOWNLOAD in page
    assert f'href="{detail}constancia.pdf"' in page

    response = client.get(f"{detail}constancia.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    certificate = Certificate.objects.get(notification=notification)
    assert response["Content-Disposition"] == (
        f'attachment; filename="constancia-LM260000111-{certificate.code}.pdf"'
    )
    pdf = response.content
    assert certificate.sha256 == hashlib.sha256(pdf).hexdigest()
    assert certificate.requested_by == maria.procedure.person.user
    issued = Event.objects.get(notification=notification, kind=EventKind.CERTIFICATE_ISSUED)
    assert issued.data["sha256"] == certificate.sha256
    assert issued.actor == maria.procedure.person.user
    summary = pki.validate_pdf(pdf)
    assert summary.intact
    assert summary.trusted
    text = factories.pdf_text(pdf)
    assert certificate.code in text
    assert "LM260000111" in text
    assert "desde la IP 127.0.0.1" in text  # the acuse, from the test client


def test_an_effective_notification_can_be_certified_without_opening_it(maria):
    # Deposited on a past business day under the default policy: in effect since that day.
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=LIMA), tick=False):
        notification = factories.deposit(maria)
    client = logged_in(maria)
    detail = f"/buzon/notificaciones/{notification.public_id}/"
    page = client.get(detail).content.decode()
    assert "Abrir y leer" in page
    assert DOWNLOAD in page
    assert "no abre la notificación" in page

    response = client.get(f"{detail}constancia.pdf")

    assert response.status_code == 200
    assert "Sin abrir a la fecha de emisión" in factories.pdf_text(response.content)
    notification.refresh_from_db()
    assert notification.opened_at is None
    assert not Opening.objects.filter(notification=notification).exists()
    assert not notification.events.filter(kind=EventKind.NOTIFICATION_OPENED).exists()
    # Still unopened: the detail page offers to open it, and does not show the content.
    assert "Abrir y leer" in client.get(detail).content.decode()


def test_a_notification_neither_opened_nor_in_effect_has_no_certificate_yet(settings, maria):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    notification = factories.deposit(maria)
    client = logged_in(maria)
    detail = f"/buzon/notificaciones/{notification.public_id}/"
    page = client.get(detail).content.decode()
    assert DOWNLOAD not in page
    assert "estará disponible cuando abra la notificación" in page

    response = client.get(f"{detail}constancia.pdf")

    assert response.status_code == 302
    assert response["Location"] == detail
    assert not Certificate.objects.exists()
    notification.refresh_from_db()
    assert notification.opened_at is None


def test_someone_elses_certificate_is_a_404(maria):
    notification = factories.deposit(maria)
    jose = factories.register(
        given_names="José", procedure=factories.procedure_input(number="LM260000222")
    )
    owner = logged_in(maria)
    owner.post(f"/buzon/notificaciones/{notification.public_id}/abrir/")

    response = logged_in(jose).get(f"/buzon/notificaciones/{notification.public_id}/constancia.pdf")

    assert response.status_code == 404
    assert not Certificate.objects.exists()


def test_each_download_is_a_new_certificate(maria):
    notification = factories.deposit(maria)
    client = logged_in(maria)
    url = f"/buzon/notificaciones/{notification.public_id}/"
    client.post(f"{url}abrir/")

    first = client.get(f"{url}constancia.pdf")
    second = client.get(f"{url}constancia.pdf")

    first_code, second_code = Certificate.objects.order_by("issued_at", "id").values_list(
        "code", flat=True
    )
    assert first_code != second_code
    assert first_code in first["Content-Disposition"]
    assert second_code in second["Content-Disposition"]


def test_certificates_on_request_are_limited_per_account(maria, settings):
    settings.BUZON_CERTIFICATES_PER_HOUR = 2
    notification = factories.deposit(maria)
    client = logged_in(maria)
    url = f"/buzon/notificaciones/{notification.public_id}/"
    client.post(f"{url}abrir/")

    assert client.get(f"{url}constancia.pdf")["Content-Type"] == "application/pdf"
    assert client.get(f"{url}constancia.pdf")["Content-Type"] == "application/pdf"
    third = client.get(f"{url}constancia.pdf", follow=True)

    assert "Ha pedido muchas constancias en poco tiempo" in third.content.decode()
    assert Certificate.objects.count() == 2  # nothing signed, nothing recorded past the limit
