"""Issue 6: a person answers a correction request from the casilla and keeps the cargo."""

import hashlib

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_answers_a_correction_request_and_downloads_the_filing_receipt(
    reference_data, browser, live_server, tmp_path
):
    registration = factories.register(given_names="Ana Lucía")
    number, password = factories.credentials_of(registration)
    factories.deposit(
        registration,
        kind="correction",
        subject="Subsanación de su solicitud de CPP",
        body="Su solicitud tiene **una observación**.",
        details={
            "items": [
                {
                    "description": "La foto del pasaporte no se lee.",
                    "document_kind": "Copia legible del pasaporte",
                }
            ]
        },
    )
    scan = factories.pdf_bytes(pages=2)

    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="es-PE", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/buzon/ingresar/")
    page.get_by_label("Tipo de documento").select_option("CE")
    page.get_by_label("Número de documento").fill(number)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Subsanación de su solicitud de CPP").click()
    page.get_by_role("button", name="Abrir y leer").click()
    expect(page.get_by_text("La foto del pasaporte no se lee.")).to_be_visible()
    expect(page.get_by_text("Copia legible del pasaporte")).to_be_visible()

    page.get_by_label("Archivos para la observación 1").set_input_files(
        {"name": "pasaporte.pdf", "mimeType": "application/pdf", "buffer": scan}
    )
    page.get_by_label("Nota").fill("Adjunto una copia nueva.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Presentar respuesta").click()

    expect(page.get_by_text("Su respuesta fue presentada.")).to_be_visible()
    expect(page.get_by_text("El plazo para subsanar quedó detenido.")).to_be_visible()
    expect(page.get_by_role("button", name="Presentar respuesta")).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar cargo de presentación (PDF)").click()
    saved = tmp_path / "cargo.pdf"
    download.value.save_as(saved)
    text = factories.pdf_text(saved.read_bytes())
    assert "CARGO DE PRESENTACIÓN" in text
    assert hashlib.sha256(scan).hexdigest() in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
