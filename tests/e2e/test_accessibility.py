"""Accessibility: the pages people, officers and the public reach pass axe-core's checks.

axe-core (through axe-playwright-python, which ships it) runs in the real browser on each page,
with the WCAG 2.0, 2.1 and 2.2 A and AA rules and Deque's best practices. A person with a screen
reader, a keyboard or a small phone would notice each failure: a field without a label, a touch
target too small, text too faint, a table that scrolls but cannot be reached from the keyboard.
Each test visits its pages, also in the states people meet under stress (a form sent with
errors, an opened notification, a debt to pay), and lists every failure of every page at once.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from backoffice.groups import NOTIFIERS, SUPERVISORS
from mailboxes.models import IssuingUnit
from payments.tests.helpers import fine
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

_axe = Axe()


class Audit:
    """Runs axe on each page it is shown, and keeps what failed, by page."""

    def __init__(self) -> None:
        self.visited: list[str] = []
        self.failures: dict[str, list[str]] = {}

    def check(self, page: Page, state: str = "") -> None:
        where = page.url.split("/", 3)[-1] + (f" ({state})" if state else "")
        self.visited.append(where)
        response: dict[str, Any] = _axe.run(
            page, options={"runOnly": {"type": "tag", "values": RULES}}
        ).response
        problems = [
            f"{v['id']} [{v['impact']}] {v['help']}: "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
            for v in response["violations"]
        ]
        if problems:
            self.failures[where] = problems


def _person_logs_in(context: BrowserContext, url: str, number: str, password: str) -> Page:
    page = context.new_page()
    page.goto(f"{url}/buzon/ingresar/")
    page.get_by_label("Tipo de documento").select_option("CE")
    page.get_by_label("Número de documento").fill(number)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", name=re.compile("^Hola"), level=1)).to_be_visible()
    return page


def _open(page: Page, subject: str) -> None:
    page.get_by_role("link", name=subject).click()
    page.get_by_role("button", name="Abrir y leer").click()
    expect(page.get_by_text("Abierta por primera vez el")).to_be_visible()


def test_the_pages_of_a_persons_casilla_on_a_phone(reference_data, browser, live_server):
    registration = factories.register(given_names="Ana Lucía")
    factories.verified(registration, email="ana@example.org")
    number, password = factories.credentials_of(registration)
    factories.deposit(registration, subject="Resolución que aprueba su CPP")
    factories.deposit(
        registration,
        kind="correction",
        subject="Subsanación de su solicitud de CPP",
        details={"items": [{"description": "La foto no se lee.", "document_kind": "Pasaporte"}]},
    )
    fine(registration)
    audit = Audit()
    context = browser.new_context(viewport=PHONE, locale="es-PE")
    page = context.new_page()

    page.goto(f"{live_server.url}/buzon/ingresar/")
    audit.check(page)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.locator(".field--error").first).to_be_visible()
    audit.check(page, "sent empty")

    page = _person_logs_in(context, live_server.url, number, password)
    audit.check(page, "three unread")
    page.get_by_role("link", name="Resolución que aprueba su CPP").click()
    audit.check(page, "not opened yet")
    page.get_by_role("button", name="Abrir y leer").click()
    expect(page.get_by_text("Abierta por primera vez el")).to_be_visible()
    audit.check(page, "opened")

    page.goto(f"{live_server.url}/buzon/notificaciones/")
    _open(page, "Subsanación de su solicitud de CPP")
    expect(page.get_by_role("button", name="Presentar respuesta")).to_be_visible()
    audit.check(page, "correction form")
    page.get_by_role("button", name="Presentar respuesta").click()
    expect(page.locator(".field--error, .errorlist, [role=alert]").first).to_be_visible()
    audit.check(page, "correction sent empty")

    page.goto(f"{live_server.url}/buzon/notificaciones/")
    _open(page, "Multa por exceso de permanencia")
    audit.check(page, "fine")
    page.goto(f"{live_server.url}/buzon/pendientes/")
    audit.check(page, "a fine to pay")
    page.locator("a[href*='/buzon/pagos/']").first.click()
    expect(page.get_by_text("350.00").first).to_be_visible()
    audit.check(page, "debt")

    for path in ("perfil/", "exportar/", "contrasena/", "notificaciones/?q=zzz"):
        page.goto(f"{live_server.url}/buzon/{path}")
        audit.check(page)
    page.goto(f"{live_server.url}/buzon/contrasena/")
    page.locator("main form button[type=submit]").last.click()
    audit.check(page, "sent empty")
    page.goto(f"{live_server.url}/buzon/no-existe/")
    audit.check(page, "not found")
    context.close()

    assert len(audit.visited) == 16
    assert audit.failures == {}


def test_the_public_pages_on_a_phone(reference_data, browser, live_server):
    audit = Audit()
    context = browser.new_context(viewport=PHONE, locale="es-PE")
    page = context.new_page()
    for path in ("/verificar/", "/verificar/ABCD-EFGH-JKLM", "/agencia/", "/buzon/recuperar/"):
        page.goto(f"{live_server.url}{path}")
        audit.check(page)
    page.goto(f"{live_server.url}/verificar/")
    page.locator("main form button[type=submit]").first.click()
    audit.check(page, "sent empty")
    page.goto(f"{live_server.url}/agencia/")
    identity_forms = sorted(
        {href for href in re.findall(r'href="(/agencia/[a-z]+/)"', page.content())}
        - {"/agencia/inicio/", "/agencia/buzon/", "/agencia/contrasena/"}
    )
    assert identity_forms  # the two ways in: Peruvian and foreign resident
    for path in identity_forms:
        page.goto(f"{live_server.url}{path}")
        audit.check(page)
        page.locator("main form button[type=submit]").first.click()
        audit.check(page, "sent empty")
    context.close()

    assert len(audit.visited) == 5 + 2 * len(identity_forms)
    assert audit.failures == {}


def test_the_officers_pages_on_a_desktop_and_a_phone(reference_data, browser, live_server):
    officer = factories.officer("rquispe", SUPERVISORS, NOTIFIERS)
    for unit in IssuingUnit.objects.filter(code__in=["SIN", "SFM"]):
        unit.members.add(officer)
    registration = factories.register(given_names="Ana Lucía")
    factories.verified(registration, email="ana@example.org")
    factories.deposit(registration, subject="Resolución que aprueba su CPP")
    fine(registration)
    audit = Audit()

    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport, locale="es-PE")
        page = context.new_page()
        page.goto(f"{live_server.url}/oficina/ingresar/")
        page.get_by_label("Nombre de usuario").fill("rquispe")
        page.get_by_label("Contraseña").fill("officer-password-123")
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", name="Trámites", level=1)).to_be_visible()
        audit.check(page)
        for path in (
            "notificaciones/",
            "subsanaciones/",
            "pagos/",
            "solicitudes/",
            "integraciones/",
            "tramites/nuevo/",
        ):
            page.goto(f"{live_server.url}/oficina/{path}")
            audit.check(page)
        page.goto(f"{live_server.url}/oficina/notificaciones/")
        page.get_by_role("link", name="Resolución que aprueba su CPP").click()
        expect(page.get_by_role("heading", name="Alertas")).to_be_visible()
        audit.check(page, "timeline with its alerts")
        page.goto(f"{live_server.url}/oficina/pagos/")
        page.locator("a[href^='/oficina/pagos/']").filter(has_text=re.compile(r"\w")).last.click()
        audit.check(page, "debt")
        page.goto(f"{live_server.url}/oficina/notificaciones/nueva/")
        audit.check(page)
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator(".field--error").first).to_be_visible()
        audit.check(page, "sent empty")
        context.close()

    assert len(audit.visited) == 2 * 11
    assert audit.failures == {}
