"""Flow 2b in a real browser: the Agencia Digital, with no credentials, to the casilla."""

import os
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("BUZON_SCREENSHOTS", "")  # a folder, to look at the pages by hand


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/agencia-{name}.png", full_page=True)


def test_a_person_without_credentials_reaches_the_casilla_through_the_agencia_digital(
    reference_data, browser, live_server
):
    registration = factories.register(given_names="Ana Lucía", first_surname="Pérez")
    factories.verified(registration, email="ana.perez@example.org")
    factories.deposit(registration, subject="Subsanación: falta su foto tamaño carné")
    person = registration.procedure.person

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="es-PE")
    page = context.new_page()
    page.goto(f"{live_server.url}/agencia/")
    shot(page, "1-inicio")
    page.get_by_role("link", name="Extranjero").click()

    page.get_by_label("Tipo de documento").select_option(person.doc_type)
    page.get_by_label("Número de documento").fill(person.doc_number)
    page.get_by_label("Nombres").fill("Ana Lucia")  # typed without the accent
    page.get_by_label("Primer apellido").fill("PEREZ")
    page.get_by_label("Fecha de nacimiento").fill(person.birth_date.isoformat())
    page.get_by_label("Nacionalidad").select_option(str(person.nationality))
    section = page.get_by_text("Regularización CPP / Calidad Humanitaria")
    section.click()
    page.get_by_label("Número de trámite").fill(registration.procedure.number)
    page.get_by_label("Fecha de presentación del trámite").fill(
        registration.procedure.filing_date.isoformat()
    )
    shot(page, "2-datos")

    # A wrong filing date first: a generic answer, nothing revealed.
    page.get_by_label("Fecha de presentación del trámite").fill("2026-01-05")
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_role("alert")).to_contain_text("No encontramos un trámite con esos datos")
    shot(page, "3-no-coincide")
    page.get_by_label("Fecha de presentación del trámite").fill(
        registration.procedure.filing_date.isoformat()
    )
    page.get_by_role("button", name="Verificar").click()

    # The shortcut to the buzón is at the top of the page.
    shortcut = page.get_by_role("link", name="Buzón Electrónico").last
    expect(page.get_by_role("heading", name="Hola, Ana Lucía")).to_be_visible()
    assert page.locator("#buzon-shortcut").bounding_box()["y"] < 300
    shot(page, "4-plataforma")
    page.locator("#buzon-shortcut").click()
    expect(page.get_by_text("Lo enviamos a a•••@example.org")).to_be_visible()
    shot(page, "5-codigo")
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body)).group(1)
    page.get_by_label("Código de 6 dígitos").fill(code)
    page.get_by_role("button", name="Continuar").click()

    page.get_by_label("Contraseña nueva", exact=True).fill("mi casilla electrónica 2026")
    page.get_by_label("Repita la contraseña nueva").fill("mi casilla electrónica 2026")
    shot(page, "6-contrasena")
    page.get_by_role("button", name="Guardar y entrar al buzón").click()

    expect(page.get_by_role("heading", name="Hola, Ana Lucía")).to_be_visible()
    page.get_by_role("link", name="Notificaciones").first.click()
    page.get_by_role("link", name="Subsanación: falta su foto tamaño carné").click()
    page.get_by_role("button", name="Abrir y leer").click()
    expect(page.get_by_text("Abierta por primera vez el")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert shortcut is not None
    context.close()

    # The new password is now the person's credentials at the ordinary login.
    login = browser.new_context(locale="es-PE").new_page()
    login.goto(f"{live_server.url}/buzon/ingresar/")
    login.get_by_label("Tipo de documento").select_option(person.doc_type)
    login.get_by_label("Número de documento").fill(person.doc_number)
    login.get_by_label("Contraseña").fill("mi casilla electrónica 2026")
    login.get_by_role("button", name="Ingresar").click()
    expect(login.get_by_role("heading", name="Hola, Ana Lucía")).to_be_visible()
