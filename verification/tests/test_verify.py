"""Checking a document by its code: what the page says, and what it never says."""

import re
from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.actions import issue_certificate
from mailboxes.actions import RequestMeta, open_notification
from tests import factories
from verification.tests.helpers import LIMA, certificate_for, text_of

pytestmark = pytest.mark.django_db


def test_a_real_code_is_authentic_and_shows_little_personal_data(client):
    result = factories.register()
    code = result.receipt.verification_code
    response = client.get(f"/verificar/{code}")
    page = text_of(response)
    assert response.status_code == 200
    assert "Documento auténtico." in page
    assert "Constancia de registro de trámite" in page
    assert result.procedure.number in page
    assert result.receipt.sha256 in page
    assert "M. A. G. R." in page
    assert "María" not in page
    assert result.procedure.person.doc_number not in page


def test_a_notification_certificate_shows_what_was_notified_by_whom_and_when(client):
    registration = factories.register()
    factories.verified(registration, email="maria@example.org")
    with time_machine.travel(datetime(2026, 3, 5, 10, 20, tzinfo=LIMA), tick=False):
        notification = factories.deposit(registration, subject="Asunto reservado de la persona")
        person = registration.procedure.person
        assert person.user is not None
        open_notification(
            notification, reader=person.user, meta=RequestMeta("203.0.113.77", "Firefox")
        )
        certificate = certificate_for(notification)

    response = client.get(f"/verificar/{certificate.code}")
    page = text_of(response)
    assert response.status_code == 200
    assert "Documento auténtico." in page
    assert "Constancia de notificación electrónica" in page
    assert "Aprobación" in page  # the kind of notification
    assert notification.unit.name in page
    assert "05/03/2026 10:20 (hora de Lima)" in page  # deposited
    assert "Surte efecto el 05/03/2026" in page
    assert certificate.sha256 in page
    assert "M. A. G. R." in page
    for private in (
        person.doc_number,
        "María",
        "Asunto reservado",
        "Se aprueba",
        "203.0.113.77",
        "maria@example.org",
        registration.procedure.number,
    ):
        assert private not in page, private


def test_a_certificate_of_a_notification_not_yet_in_effect_says_pending(client, settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    certificate = certificate_for(factories.deposit())
    page = text_of(client.get(f"/verificar/{certificate.code}"))
    assert "Surte efecto el Aún no surtía efecto al emitirse" in page
    assert "Después de emitida" not in page


def test_a_date_set_after_the_certificate_does_not_make_it_look_altered(client, settings):
    """Issued while pending, the PDF says it is not yet in effect; then the person opens it.
    The page shows what the PDF shows, and the date set since, apart."""
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    registration = factories.register()
    notification = factories.deposit(registration)
    certificate, pdf = issue_certificate(notification, requested_by=None)
    assert "Aún no surte efecto." in factories.pdf_text(pdf)
    reader = registration.procedure.person.user
    assert reader is not None
    open_notification(
        notification,
        reader=reader,
        meta=RequestMeta("203.0.113.7", "Firefox"),
    )
    notification.refresh_from_db()
    assert notification.effective_date is not None
    page = text_of(client.get(f"/verificar/{certificate.code}"))
    day = f"{notification.effective_date:%d/%m/%Y}"
    assert "Surte efecto el Aún no surtía efecto al emitirse" in page
    assert f"Después de emitida esta constancia: surte efecto el {day}." in page
    # Issued now, the next constancia shows the date itself, with nothing added.
    later = text_of(
        client.get(f"/verificar/{issue_certificate(notification, requested_by=None)[0].code}")
    )
    assert f"Surte efecto el {day}" in later
    assert "Después de emitida" not in later


def test_a_typed_code_is_normalised(client):
    code = factories.register().receipt.verification_code
    response = client.get("/verificar/", {"codigo": code.replace("-", " ").lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/verificar/{code}"


def test_unknown_and_malformed_codes(client):
    unknown = client.get("/verificar/ABCD-EFGH-JKMN-PQRS")
    assert unknown.status_code == 404
    assert "No encontramos ningún documento con el código ABCD-EFGH-JKMN-PQRS" in text_of(unknown)
    malformed = client.get("/verificar/", {"codigo": "abc"})
    assert malformed.status_code == 400
    assert "16 letras y números" in malformed.content.decode()


def test_no_kind_of_code_is_told_apart_from_an_unknown_one(client):
    """A code of no document, a malformed one and other identifiers get one answer."""
    registration = factories.register()
    notification = factories.deposit(registration)
    certificate_for(notification)

    def shape(path, shown=""):
        response = client.get(path)
        assert response.status_code == 404, path
        # The language form's "next" field holds the path; the code may be echoed.
        page = response.content.decode().replace(path, "").replace(shown or path, "")
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page)

    unknown = shape("/verificar/ABCD-EFGH-JKMN-PQRS", "ABCD-EFGH-JKMN-PQRS")
    assert shape("/verificar/ZZZZ-YYYY-XXXX-WWWW", "ZZZZ-YYYY-XXXX-WWWW") == unknown
    malformed = shape("/verificar/no-es-un-codigo")
    for other in (
        registration.procedure.number,  # a procedure number
        str(notification.public_id),  # a notification's id
        "A" * 300,
    ):
        assert shape(f"/verificar/{other}") == malformed
    assert "No encontramos ningún documento" in malformed


def test_the_bare_page_offers_both_ways_to_verify(client):
    response = client.get("/verificar/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="codigo"' in page
    assert 'type="file"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "csrfmiddlewaretoken" in page


@pytest.mark.parametrize("kind", ["receipt", "certificate", "unknown"])
def test_every_code_costs_one_query_in_each_table(client, kind):
    registration = factories.register()
    code = {
        "receipt": registration.receipt.verification_code,
        "certificate": certificate_for(factories.deposit(registration)).code,
        "unknown": "ABCD-EFGH-JKMN-PQRS",
    }[kind]
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/verificar/{code}")
    tables = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "procedures_receipt"' in sql for sql in tables) == 1
    assert sum('FROM "evidence_certificate"' in sql for sql in tables) == 1


def test_a_certificate_whose_log_was_altered_is_still_answered(client):
    """Someone edited an entry (verify_evidence reports it): the public page still answers."""
    from django.db import connection

    from evidence import triggers
    from evidence.models import Event, EventKind

    notification = factories.deposit()
    certificate, _pdf = issue_certificate(notification, requested_by=None)
    effect = Event.objects.get(notification=notification, kind=EventKind.NOTIFICATION_EFFECTIVE)
    day = f'"effective_date":"{notification.effective_date.isoformat()}"'
    assert day in effect.canonical
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE evidence_event SET canonical = %s WHERE id = %s",
            [effect.canonical.replace(day, '"effective_date":"no es una fecha"'), effect.pk],
        )
    response = client.get(f"/verificar/{certificate.code}")
    assert response.status_code == 200
    assert f"Surte efecto el {notification.effective_date:%d/%m/%Y}" in text_of(response)
