"""Flows 3 and 5 in a real browser: an unread notification, opened, its PDF downloaded."""

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_opens_a_notification_and_downloads_its_pdf(
    reference_data, browser, live_server, tmp_path
):
    registration = factories.register(given_names="Ana Lucía")
    number, password = factories.credentials_of(registration)
    factories.deposit(
        registration, subject="Resolución que aprueba su CPP", body="Se **aprueba** su solicitud."
    )

    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="es-PE", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/buzon/ingresar/")
    page.get_by_label("Tipo de documento").select_option("CE")
    page.get_by_label("Número de documento").fill(number)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()

    expect(page.get_by_text("Tiene 1 notificación sin leer.")).to_be_visible()
    item = page.get_by_role("link", name="Resolución que aprueba su CPP")
    expect(item).to_contain_text("Nueva")
    item.click()
    expect(page.get_by_role("button", name="Abrir y leer")).to_be_visible()
    expect(page.get_by_text("Se aprueba su solicitud")).to_have_count(0)
    page.get_by_role("button", name="Abrir y leer").click()
    expect(page.locator("article strong")).to_have_text("aprueba")
    expect(page.get_by_text("Abierta por primera vez el")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="resolucion.pdf").click()
    saved = tmp_path / "resolucion.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == factories.pdf_bytes()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.goto(f"{live_server.url}/buzon/notificaciones/")
    expect(page.get_by_text("Tiene 1 notificación sin leer.")).to_have_count(0)
    context.close()
