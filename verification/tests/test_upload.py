"""Checking a PDF against the registry: on a code's page, or among every registered hash."""

import hashlib
from datetime import datetime

import pytest
import time_machine
from django.test import Client

from tests import factories
from verification.tests.helpers import CERTIFICATE_PDF, LIMA, certificate_for, pdf_file, text_of

pytestmark = pytest.mark.django_db

NOT_THE_DOCUMENT = "No coincide: este archivo no es el documento registrado con este código."


def upload(client, path, content, name="documento.pdf"):
    return client.post(path, {"archivo": pdf_file(content, name)})


def test_the_delivered_constancia_matches_its_code_and_another_pdf_does_not(client):
    registration = factories.register()
    path = f"/verificar/{registration.receipt.verification_code}"

    same = upload(client, path, factories.delivered_pdf(registration))
    assert same.status_code == 200
    assert "Coincide: este archivo es el documento registrado con este código." in text_of(same)
    assert "Constancia de registro de trámite" in text_of(same)

    other = upload(client, path, factories.pdf_bytes())
    assert other.status_code == 200
    assert NOT_THE_DOCUMENT in text_of(other)
    assert hashlib.sha256(factories.pdf_bytes()).hexdigest() in text_of(other)


def test_a_certificate_matches_its_own_pdf_only(client):
    certificate = certificate_for(factories.deposit())
    path = f"/verificar/{certificate.code}"
    matching = upload(client, path, CERTIFICATE_PDF)
    assert "Coincide: este archivo es el documento" in text_of(matching)
    altered = CERTIFICATE_PDF.replace(b"prueba", b"prueva")
    assert NOT_THE_DOCUMENT in text_of(upload(client, path, altered))


def test_an_upload_to_an_unknown_code_gets_the_unknown_code_page(client):
    response = upload(client, "/verificar/ABCD-EFGH-JKMN-PQRS", factories.pdf_bytes())
    assert response.status_code == 404
    assert "No encontramos ningún documento" in text_of(response)
    assert "Coincide" not in text_of(response)


def test_without_a_code_a_constancia_is_found_by_its_pdf(client):
    registration = factories.register()
    response = upload(client, "/verificar/", factories.delivered_pdf(registration))
    page = text_of(response)
    assert response.status_code == 200
    assert "Coincide con una constancia de registro de trámite registrada." in page
    assert registration.receipt.verification_code in page
    assert "M. A. G. R." in page
    assert registration.procedure.person.doc_number not in page


def test_without_a_code_a_certificate_is_found_by_its_pdf(client):
    certificate = certificate_for(factories.deposit())
    page = text_of(upload(client, "/verificar/", CERTIFICATE_PDF))
    assert "Coincide con una constancia de notificación electrónica registrada." in page
    assert certificate.code in page


def test_an_attachment_is_found_by_its_pdf_and_says_only_when_and_by_whom(client):
    registration = factories.register()
    with time_machine.travel(datetime(2026, 3, 5, 10, 20, tzinfo=LIMA), tick=False):
        notification = factories.deposit(registration, subject="Asunto reservado de la persona")
    response = upload(client, "/verificar/", factories.pdf_bytes(), name="copia.pdf")
    page = text_of(response)
    assert response.status_code == 200
    assert (
        "Coincide con un documento de una notificación depositada el 05/03/2026 a las 10:20 "
        f"(hora de Lima) por {notification.unit.name}."
    ) in page
    for private in (
        "Asunto reservado",
        "resolucion.pdf",  # the attachment's name
        "M. A.",
        registration.procedure.number,
        registration.procedure.person.doc_number,
    ):
        assert private not in page, private


def test_a_pdf_nobody_registered_matches_nothing(client):
    factories.register()
    page = text_of(upload(client, "/verificar/", b"%PDF-1.4\nnada registrado\n"))
    assert "No coincide con ningún documento registrado en el buzón." in page


@pytest.mark.parametrize("path", ["/verificar/", "code"])
def test_upload_errors_are_explained_in_spanish(client, settings, path):
    settings.BUZON_VERIFY_UPLOAD_MAX_BYTES = 2048
    if path == "code":
        path = f"/verificar/{factories.register().receipt.verification_code}"

    missing = client.post(path, {})
    assert missing.status_code == 400
    assert "Elija el archivo PDF que quiere comprobar." in text_of(missing)

    too_big = upload(client, path, b"%PDF-1.7\n" + b"x" * 4096)
    assert too_big.status_code == 400
    assert "El archivo pesa más de 2 KB, el máximo que se puede comprobar." in text_of(too_big)

    not_pdf = upload(client, path, b"GIF89a not a pdf at all", name="foto.pdf")
    assert not_pdf.status_code == 400
    assert "El archivo no es un PDF." in text_of(not_pdf)

    empty = upload(client, path, b"")
    assert empty.status_code == 400
    assert "El archivo no es un PDF." in text_of(empty)


def test_a_file_exactly_at_the_limit_is_checked(client, settings):
    content = b"%PDF-1.7\n" + b"x" * 2039
    settings.BUZON_VERIFY_UPLOAD_MAX_BYTES = len(content)
    response = upload(client, "/verificar/", content)
    assert response.status_code == 200
    assert hashlib.sha256(content).hexdigest() in text_of(response)


def test_the_upload_form_needs_its_csrf_token(db):
    browser = Client(enforce_csrf_checks=True)
    refused = upload(browser, "/verificar/", factories.pdf_bytes())
    assert refused.status_code == 403

    form = browser.get("/verificar/")
    token = form.cookies["csrftoken"].value
    accepted = browser.post(
        "/verificar/",
        {"csrfmiddlewaretoken": token, "archivo": pdf_file(factories.pdf_bytes())},
    )
    assert accepted.status_code == 200
    assert "No coincide con ningún documento registrado" in text_of(accepted)


def test_a_broken_upload_is_a_bad_request_not_an_error(client):
    no_boundary = client.post("/verificar/", b"--x\r\n", content_type="multipart/form-data")
    assert no_boundary.status_code == 400
    garbage = client.post(
        "/verificar/", b"garbage", content_type="multipart/form-data; boundary=zz"
    )
    assert garbage.status_code == 400
    assert "Elija el archivo PDF" in text_of(garbage)
