import hashlib

import pytest
from django.contrib.auth.models import Group

from backoffice.groups import NOTIFIERS
from evidence import pki
from evidence.models import Certificate, Event, EventKind
from tests import factories

pytestmark = pytest.mark.django_db

DOWNLOAD = "Descargar constancia de notificación (PDF)"


def notifier(username, unit):
    user = factories.unit_officer(username, unit=unit)
    user.groups.add(Group.objects.get(name=NOTIFIERS))
    return user


def test_an_officer_downloads_the_certificate_from_the_timeline(client):
    registration = factories.register(procedure=factories.procedure_input(number="LM260000333"))
    notification = factories.deposit(registration, unit="SIN")
    officer = notifier("sin1", "SIN")
    client.force_login(officer)
    timeline = f"/oficina/notificaciones/{notification.public_id}/"
    page = client.get(timeline).content.decode()
    assert DOWNLOAD in page
    assert f'href="{timeline}constancia.pdf"' in page

    response = client.get(f"{timeline}constancia.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    certificate = Certificate.objects.get(notification=notification)
    assert response["Content-Disposition"] == (
        f'attachment; filename="constancia-LM260000333-{certificate.code}.pdf"'
    )
    assert certificate.sha256 == hashlib.sha256(response.content).hexdigest()
    assert certificate.requested_by == officer
    event = Event.objects.get(notification=notification, kind=EventKind.CERTIFICATE_ISSUED)
    assert event.actor == officer
    assert event.data["code"] == certificate.code
    assert pki.validate_pdf(response.content).trusted
    assert certificate.code in factories.pdf_text(response.content)
    # Issuing it opened nothing, and the timeline now shows the issue.
    notification.refresh_from_db()
    assert notification.opened_at is None
    assert "Constancia de notificación emitida" in client.get(timeline).content.decode()


def test_an_officer_of_another_unit_gets_a_404(client):
    notification = factories.deposit(factories.register(), unit="SIN")
    client.force_login(notifier("sdv1", "SDV"))

    response = client.get(f"/oficina/notificaciones/{notification.public_id}/constancia.pdf")

    assert response.status_code == 404
    assert not Certificate.objects.exists()


def test_an_officer_without_the_permission_is_refused(client, officer):
    notification = factories.deposit(factories.register(), unit="SIN")
    client.force_login(officer)  # Mesa de partes: registers procedures, sees no notification

    response = client.get(f"/oficina/notificaciones/{notification.public_id}/constancia.pdf")

    assert response.status_code == 403
    assert not Certificate.objects.exists()
