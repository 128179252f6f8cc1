"""A person keeps their evidence: opens a notification, exports the mailbox from a phone, and
the ZIP checks out offline, as a lawyer or a court would check it."""

import pytest
from playwright.sync_api import expect

from evidence import keys, offline
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _signing(settings, tmp_path_factory):
    settings.BUZON_SIGNING_DIR = tmp_path_factory.mktemp("signing")
    settings.BUZON_TSA_URL = ""


def test_a_person_exports_the_mailbox_and_it_checks_out_offline(
    reference_data, browser, live_server, tmp_path, capsys
):
    registration = factories.register(given_names="Ana Lucía")
    number, password = factories.credentials_of(registration)
    factories.deposit(registration, subject="Resolución que aprueba su CPP")

    context = browser.new_context(
        viewport={"width": 320, "height": 640}, locale="es-PE", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/buzon/ingresar/")
    page.get_by_label("Tipo de documento").select_option("CE")
    page.get_by_label("Número de documento").fill(number)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Resolución que aprueba su CPP").click()
    page.get_by_role("button", name="Abrir y leer").click()
    expect(page.get_by_text("Abierta por primera vez el")).to_be_visible()

    page.get_by_role("link", name="Exportar evidencia").click()
    expect(page.get_by_role("heading", name="Exportar evidencia", exact=True)).to_be_visible()
    expect(page.get_by_text("puede comprobar sin internet")).to_be_visible()
    procedure = registration.procedure
    label = f"Trámite {procedure.number} \N{EN DASH} Regularización migratoria"
    expect(page.get_by_role("button", name=label)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    with page.expect_download() as download:
        page.get_by_role("button", name="Todo mi buzón").click()
    assert download.value.suggested_filename.startswith(f"buzon-CE{procedure.person.doc_number}-")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    context.close()

    capsys.readouterr()
    key = tmp_path / "agencia.pub"
    key.write_text(keys.public_key_pem(keys.current_key().key_id), encoding="ascii")
    assert offline.main([str(path), "--clave", str(key)]) == 0
    out = capsys.readouterr().out
    assert "1 notificaciones" in out
    assert "ÍNTEGRA" in out
