"""A person downloads their evidence from the casilla, as a ZIP anyone can check offline."""

import json
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from evidence import keys, offline
from evidence.models import Certificate, Event, EventKind
from evidence.testing_tsa import LocalTsa
from mailboxes.actions import RequestMeta, open_notification
from tests import factories

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")
PAGE = "/buzon/exportar/"
DASH = "\N{EN DASH}"  # between a procedure's number and its type


def logged_in(registration):
    number, password = factories.credentials_of(registration)
    client = Client()
    response = client.post(
        "/buzon/ingresar/", {"doc_type": "CE", "doc_number": number, "password": password}
    )
    assert response.status_code == 302
    return client


def opened(notification):
    user = notification.person.user
    open_notification(notification, reader=user, meta=RequestMeta("203.0.113.7", "Firefox"))
    return notification


@pytest.fixture
def maria():
    """Two procedures with a notification each, both opened, and one without notifications."""
    first = factories.register(
        doc_number="001234567", procedure=factories.procedure_input(number="LM260000111")
    )
    second = factories.register(
        doc_number="001234567",
        procedure=factories.procedure_input(number="LM260000222", procedure_type="PRR"),
    )
    factories.register(
        doc_number="001234567", procedure=factories.procedure_input(number="LM260000333")
    )
    opened(factories.deposit(first, subject="Aprobación de su CPP"))
    opened(factories.deposit(second, subject="Prórroga aprobada"))
    return first


def saved(response, tmp_path: Path) -> Path:
    path = tmp_path / "export.zip"
    path.write_bytes(b"".join(response.streaming_content))
    return path


def trusted_key(tmp_path: Path) -> Path:
    path = tmp_path / "agencia.pub"
    path.write_text(keys.public_key_pem(keys.current_key().key_id), encoding="ascii")
    return path


def test_the_page_explains_the_export_and_offers_each_procedure_with_notifications(maria):
    page = logged_in(maria).get(PAGE).content.decode()
    assert "Qué contiene el archivo" in page
    assert "puede comprobar sin internet" in page
    assert "Todo mi buzón" in page
    assert "2 notificaciones, de todos sus trámites." in page
    assert f"Trámite LM260000111 {DASH} Regularización migratoria" in page
    assert f"Trámite LM260000222 {DASH} Prórroga de residencia" in page
    assert "LM260000333" not in page  # no notifications: nothing to export
    assert 'action="/buzon/exportar/LM260000222/"' in page
    assert page.count("csrfmiddlewaretoken") >= 3


def test_the_casilla_and_an_opened_notification_link_to_the_page(maria):
    client = logged_in(maria)
    assert 'href="/buzon/exportar/"' in client.get("/buzon/").content.decode()
    notification = maria.procedure.notifications.get()
    detail = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert 'href="/buzon/exportar/">Exportar evidencia</a>' in detail


@time_machine.travel(datetime(2026, 3, 20, 23, 30, tzinfo=LIMA), tick=False)
def test_the_whole_mailbox_downloads_as_a_zip_that_checks_out_offline(maria, tmp_path):
    client = logged_in(maria)
    response = client.post(PAGE)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        'attachment; filename="buzon-CE001234567-20260320.zip"'  # Lima's date, not UTC's
    )
    assert "no-store" in response["Cache-Control"]
    path = saved(response, tmp_path)
    checker = offline.check(path, keys=[trusted_key(tmp_path)])
    assert checker.problems == []
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        readme = archive.read("LEEME.txt").decode()
    subjects = {n["subject"] for n in manifest["notifications"]}
    assert subjects == {"Aprobación de su CPP", "Prórroga aprobada"}
    assert "python -m evidence.offline buzon-CE001234567-20260320.zip" in readme


def test_each_notification_gets_a_certificate_requested_by_the_person(maria, tmp_path):
    user = maria.procedure.person.user
    saved(logged_in(maria).post(PAGE), tmp_path)
    certificates = Certificate.objects.all()
    assert certificates.count() == 2
    assert {c.notification.subject for c in certificates} == {
        "Aprobación de su CPP",
        "Prórroga aprobada",
    }
    assert all(c.requested_by == user for c in certificates)
    issued = Event.objects.filter(kind=EventKind.CERTIFICATE_ISSUED)
    assert issued.count() == 2
    assert all(e.actor == user for e in issued)


@time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=LIMA), tick=False)
def test_one_procedure_exports_only_its_notifications(maria, tmp_path):
    response = logged_in(maria).post("/buzon/exportar/LM260000222/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="tramite-LM260000222-20260320.zip"'
    )
    path = saved(response, tmp_path)
    assert offline.check(path).problems == []
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert [n["subject"] for n in manifest["notifications"]] == ["Prórroga aprobada"]
    assert Certificate.objects.get().notification.subject == "Prórroga aprobada"


def test_someone_elses_procedure_is_not_found(maria):
    jose = factories.register(procedure=factories.procedure_input(number="LM260000999"))
    opened(factories.deposit(jose, subject="De otra persona"))
    client = logged_in(maria)
    assert client.post("/buzon/exportar/LM260000999/").status_code == 404
    assert client.post("/buzon/exportar/LM269999999/").status_code == 404
    assert not Certificate.objects.exists()


def test_a_visitor_who_is_not_logged_in_goes_to_the_login(maria):
    client = Client()
    for response in (client.get(PAGE), client.post(PAGE)):
        assert response.status_code == 302
        assert response["Location"].startswith("/buzon/ingresar/")
    assert client.post("/buzon/exportar/LM260000111/").status_code == 302
    assert not Certificate.objects.exists()


def test_an_export_is_a_post(maria):
    client = logged_in(maria)
    assert client.get("/buzon/exportar/LM260000111/").status_code == 405
    assert not Certificate.objects.exists()


def test_unread_notifications_must_be_opened_before_exporting_their_content(maria):
    unread = factories.deposit(maria, subject="Requerimiento de subsanación")
    client = logged_in(maria)
    page = client.get(PAGE).content.decode()
    assert "Primero abra su notificación sin leer" in page
    assert 'action="/buzon/exportar/LM260000111/"' not in page
    assert 'action="/buzon/exportar/LM260000222/"' in page  # that one is all read

    response = client.post("/buzon/exportar/LM260000111/")
    assert response.status_code == 409
    assert "Antes de exportar, abra sus notificaciones sin leer." in response.content.decode()
    assert client.post(PAGE).status_code == 409
    assert not Certificate.objects.exists()
    unread.refresh_from_db()
    assert unread.opened_at is None  # the export never opens anything


def test_a_refusing_tsa_shows_the_page_again_with_a_message(maria, settings):
    with LocalTsa() as tsa:
        tsa.refusing = True
        settings.BUZON_TSA_URL = tsa.url
        settings.BUZON_TSA_TRUST_ROOTS = str(tsa.root_pem_path)
        response = logged_in(maria).post(PAGE)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "No pudimos preparar su archivo en este momento." in page
    assert "Todo mi buzón" in page


def test_a_log_that_does_not_add_up_shows_the_page_again(maria, monkeypatch):
    from evidence import export
    from evidence.proofs import ProofError

    def broken(events):
        raise ProofError("checkpoint #1 does not recompute")

    monkeypatch.setattr(export, "inclusion_proofs", broken)
    response = logged_in(maria).post(PAGE)
    assert response.status_code == 503
    assert "No pudimos preparar su archivo en este momento." in response.content.decode()


def test_a_person_without_notifications_is_told_so(db):
    page = logged_in(factories.register()).get(PAGE).content.decode()
    assert "Aún no tiene notificaciones." in page
    assert 'action="/buzon/exportar/"' not in page
