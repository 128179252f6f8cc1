"""The verification page in a real browser, on a small phone and on a desktop."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests import factories
from tests.e2e.conftest import CHROMIUM, FLAGS
from verification.tests.helpers import CERTIFICATE_PDF, certificate_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.mark.parametrize("width", [320, 1280])
def test_checking_a_certificate_by_code_and_by_file(
    reference_data, browser, live_server, tmp_path, width
):
    certificate = certificate_for(factories.deposit())
    pdf = tmp_path / "constancia.pdf"
    pdf.write_bytes(CERTIFICATE_PDF)
    other = tmp_path / "otro.pdf"
    other.write_bytes(factories.pdf_bytes())

    context = browser.new_context(viewport={"width": width, "height": 800}, locale="es-PE")
    page = context.new_page()
    page.goto(f"{live_server.url}/verificar/")
    page.get_by_label("Código de verificación").fill(certificate.code.replace("-", "").lower())
    page.get_by_role("button", name="Verificar", exact=True).click()
    expect(page.get_by_text("Documento auténtico.")).to_be_visible()
    expect(page.get_by_text("Constancia de notificación electrónica")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_label("Archivo PDF").set_input_files(other)
    page.get_by_role("button", name="Comprobar el archivo").click()
    expect(page.get_by_text("este archivo no es el documento registrado")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_label("Archivo PDF").set_input_files(pdf)
    page.get_by_role("button", name="Comprobar el archivo").click()
    expect(page.get_by_text("este archivo es el documento registrado")).to_be_visible()

    page.goto(f"{live_server.url}/verificar/")
    page.get_by_label("Archivo PDF").set_input_files(other)
    page.get_by_role("button", name="Comprobar el archivo").click()
    # The notification's attachment is that other PDF.
    expect(page.get_by_text("con un documento de una notificación depositada el")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
