"""The first flow of the brief, in a real browser: constancia → credentials → casilla."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_registered_person_logs_in_with_the_credentials_printed_on_the_constancia(
    reference_data, browser, live_server, tmp_path
):
    factories.officer("mesa1")

    # An officer registers a procedure in /oficina/ and downloads the constancia.
    office = browser.new_context(accept_downloads=True, locale="es-PE")
    page = office.new_page()
    page.goto(f"{live_server.url}/oficina/ingresar/")
    page.get_by_label("Nombre de usuario").fill("mesa1")
    page.get_by_label("Contraseña").fill("officer-password-123")
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Registrar trámite").first.click()
    page.get_by_label("Tipo de documento").select_option("CE")
    page.get_by_label("Número de documento").fill("456789")
    page.get_by_label("Nombres").fill("Ana Lucía")
    page.get_by_label("Primer apellido").fill("Pérez")
    page.get_by_label("Fecha de nacimiento").fill("1990-02-03")
    page.get_by_label("Nacionalidad").select_option("CO")
    page.get_by_label("Tipo de trámite").select_option("CPP")
    page.get_by_role("button", name="Registrar y generar constancia").click()
    expect(page.get_by_text("Trámite registrado.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar PDF").click()
    pdf_path = tmp_path / "constancia.pdf"
    download.value.save_as(pdf_path)
    office.close()

    # The credentials are read off the PDF, as a person would read them off paper.
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    assert "Credenciales de acceso a su Buzón Electrónico" in text
    number, password = factories.credentials_from_text(text)
    assert number == "000456789"

    # The person logs in from a small phone and reaches the casilla.
    phone = browser.new_context(viewport={"width": 320, "height": 640}, locale="es-PE")
    page = phone.new_page()
    page.goto(f"{live_server.url}/buzon/ingresar/")
    page.get_by_label("Tipo de documento").select_option("CE")
    page.get_by_label("Número de documento").fill(number)
    page.get_by_label("Contraseña").fill("wrong-" + password)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("alert")).to_contain_text("No pudimos iniciar sesión")
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", name="Hola, Ana Lucía")).to_be_visible()
    expect(page.get_by_role("heading", name="No tiene notificaciones")).to_be_visible()
    # Usable at 320 px: nothing overflows sideways, not even inside the table of procedures.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator(".table-wrap").evaluate("el => el.scrollWidth <= el.clientWidth")
    page.get_by_role("button", name="Salir").click()
    expect(page.get_by_role("heading", name="Ingresar a su Buzón Electrónico")).to_be_visible()
    phone.close()
