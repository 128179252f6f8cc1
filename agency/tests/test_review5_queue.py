"""Review 5: the officers' queue of credential requests and what the parser hands it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from agency.actions import answer_due, ingest_email, submit_request
from agency.forms import RequestForm
from agency.models import CredentialRequest
from agency.tests.test_credential_requests import form_data
from backoffice.groups import SUPERVISORS
from requests_mail.parser import parse
from tests import factories

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")


def test_the_answer_clock_is_not_late_on_the_evening_of_its_due_day():
    """The queue marks a case "Vencida:" when its Lima due date has passed, but compares it
    with the UTC date of now (`timezone.now().date()` in backoffice/requests.py `_clock`), so
    from 19:00 in Lima on the due day every open case already reads as overdue."""
    received = datetime(2026, 3, 2, 10, 0, tzinfo=LIMA)  # a Monday, no holidays that week
    with time_machine.travel(received, tick=False):
        form = RequestForm(data=form_data())
        assert form.is_valid(), form.errors
        case = submit_request(form.request_input(), None, ip_address="10.1.1.1")
    due = answer_due(case)
    officer = factories.officer("sup", SUPERVISORS)
    client = Client()
    with time_machine.travel(datetime.combine(due, time(20, 0), tzinfo=LIMA), tick=False):
        client.force_login(officer)
        page = client.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert "Responder hasta" in page
    assert "Vencida:" not in page
    # Just after midnight in Lima (05:00 UTC) the day is over and the case is late.
    next_day = due + timedelta(days=1)
    with time_machine.travel(datetime.combine(next_day, time(0, 5), tzinfo=LIMA), tick=False):
        client.force_login(officer)
        page = client.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert "Vencida:" in page


def test_a_mail_naming_two_documents_is_sent_to_manual_review():
    """Someone writes for a relative too, or corrects a typo in a second line: the parser keeps
    the first document and the first birth date without a word, the case is "received"
    rather than "review", and the officer sees green matches for whoever came first."""
    raw = (
        b"From: ana@example.org\r\n"
        b"To: informes@migraciones.gob.pe\r\n"
        b"Subject: Solicitud de credenciales para acceder a mi buzon electronico\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Nombres: Ana Lucia\r\nApellidos: Ruiz Soto\r\nCE: 001234567\r\n"
        b"Fecha de nacimiento: 12/04/1991\r\n\r\n"
        b"Nombres: Pedro\r\nApellidos: Ruiz Soto\r\nCE: 007654321\r\n"
        b"Fecha de nacimiento: 03/09/1988\r\n"
    )
    parsed = parse(raw)
    assert parsed.document_number == "001234567"  # what the case will carry
    assert parsed.needs_review, "two documents and two birth dates, and nobody is asked"

    case = ingest_email(raw, mail_from="ana@example.org").case
    assert case.status == CredentialRequest.Status.REVIEW
    client = Client()
    client.force_login(factories.officer("sup", SUPERVISORS))
    page = client.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert "Revisar a mano" in page
    assert "El correo da dos números de documento distintos" in page
    assert "El correo da dos fechas de nacimiento distintas" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/oficina/"})
    page = client.get(f"/oficina/solicitudes/{case.number}/").content.decode()
    assert "The email gives two different document numbers" in page


def test_one_document_written_twice_is_not_two_documents():
    """The same CE with and without its leading zeros, and the same birth date in two
    spellings, are one document and one date: the case is filed as usual."""
    raw = (
        b"From: ana@example.org\r\n"
        b"To: informes@migraciones.gob.pe\r\n"
        b"Subject: Solicitud de credenciales para acceder a mi buzon electronico\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Nombres: Ana Lucia\r\nApellidos: Ruiz Soto\r\nCE: 001234567\r\n"
        b"Fecha de nacimiento: 12/04/1991\r\n\r\n"
        b"Repito mis datos:\r\nCE: 1234567\r\nFecha de nacimiento: 12 de abril de 1991\r\n"
    )
    parsed = parse(raw)
    assert (parsed.document_number, parsed.reasons) == ("001234567", ())
