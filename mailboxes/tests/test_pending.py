"""Casilla electrónica → Pendientes: correction requests to answer and amounts to pay."""

import pytest

from corrections.tests.helpers import correction
from payments.models import Debt
from payments.tests.helpers import fine, open_it
from tests import factories

pytestmark = pytest.mark.django_db


def test_pendientes_lists_what_to_answer_and_what_to_pay(client):
    registration = factories.register()
    request = correction(registration)
    owed = fine(registration)
    client.force_login(registration.procedure.person.user)
    page = client.get("/buzon/pendientes/").content.decode()
    assert request.subject in page
    assert "quedan" in page or "Vence hoy" in page  # the countdown
    # An unopened fine: it is listed, but what it asks is read only by opening it (the acuse).
    assert owed.subject in page
    assert "Ábrala para ver el monto y el código de pago." in page
    open_it(owed)
    debt = Debt.objects.get(notification=owed)
    page = client.get("/buzon/pendientes/").content.decode()
    assert debt.payment_code in page
    assert "S/ 350.00" in page


def test_pendientes_shows_only_the_persons_own(client):
    mine = factories.register()
    other = factories.register(doc_number="000777111")
    theirs = correction(other)
    owed = fine(other)
    open_it(owed)
    client.force_login(mine.procedure.person.user)
    page = client.get("/buzon/pendientes/").content.decode()
    assert theirs.subject not in page
    assert Debt.objects.get(notification=owed).payment_code not in page
    assert "No tiene subsanaciones por responder." in page
    assert "No tiene montos por pagar." in page


def test_an_answered_request_leaves_pendientes_and_shows_the_stopped_deadline(client):
    registration = factories.register()
    request = correction(registration, items=None)
    client.force_login(registration.procedure.person.user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/buzon/notificaciones/{request.public_id}/subsanacion/",
        {"item-1": [SimpleUploadedFile("documento.pdf", factories.pdf_bytes())], "note": ""},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.deadline_stopped_at is not None
    assert request.subject not in client.get("/buzon/pendientes/").content.decode()
    inbox = client.get("/buzon/notificaciones/").content.decode()
    assert "Respondida: el plazo se detuvo" in inbox
