import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone, translation

from evidence.models import Event, EventKind
from procedures.actions import download_receipt, purge_expired_credentials
from procedures.models import Procedure, Receipt
from tests import factories

pytestmark = pytest.mark.django_db


def test_only_the_issuing_officer_gets_the_password_copy(officer):
    result = factories.register(actor=officer)
    colleague = factories.officer("mesa2")

    mine = download_receipt(result.receipt, actor=officer)
    theirs = download_receipt(result.receipt, actor=colleague)

    assert mine.with_credentials
    assert "Contraseña:" in factories.pdf_text(mine.pdf)
    assert not theirs.with_credentials
    text = factories.pdf_text(theirs.pdf)
    assert "Contraseña:" not in text
    assert "esta copia de archivo no las muestra" in text
    assert result.receipt.verification_code in text
    downloads = Event.objects.filter(kind=EventKind.RECEIPT_DOWNLOADED).order_by("id")
    assert [(e.actor, e.data["with_credentials"]) for e in downloads] == [
        (officer, True),
        (colleague, False),
    ]


def test_after_the_pickup_window_the_password_copy_is_purged(officer):
    result = factories.register(actor=officer)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        late = download_receipt(result.receipt, actor=officer)
    assert not late.with_credentials
    assert "Contraseña:" not in factories.pdf_text(late.pdf)
    receipt = Receipt.objects.get(pk=result.receipt.pk)
    assert receipt.credentials_pdf is None
    assert Event.objects.filter(kind=EventKind.RECEIPT_CREDENTIALS_PURGED).count() == 1


def test_purge_command_removes_only_expired_copies(officer, capsys):
    old = factories.register(actor=officer)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        fresh = factories.register(actor=officer)
        call_command("purge_receipt_credentials")
        assert purge_expired_credentials() == 0  # nothing left to do: safe to rerun
    assert capsys.readouterr().out.strip() == "purged 1 credentials copies"
    assert Receipt.objects.get(pk=old.receipt.pk).credentials_pdf is None
    assert Receipt.objects.get(pk=fresh.receipt.pk).credentials_pdf is not None


def test_the_command_export_follows_the_same_rule(officer, tmp_path, capsys):
    args = [
        "register_procedure",
        "--doc-type=CE",
        "--doc-number=456789",
        "--given-names=Ana",
        "--first-surname=Pérez",
        "--birth-date=1990-02-03",
        "--nationality=CO",
        "--procedure-type=PRR",
        "--office=LM",
        "--filing-date=2026-11-02",
        "--number=LM260000555",
        "--actor=mesa1",
        f"--receipt-out={tmp_path / 'c.pdf'}",
    ]
    call_command(*args)
    first = json.loads(capsys.readouterr().out)
    assert first["receipt_with_credentials"] is True
    assert "Contraseña:" in factories.pdf_text((tmp_path / "c.pdf").read_bytes())
    # Someone else re-running the export gets only the record copy.
    factories.officer("mesa9")
    call_command(*[a if a != "--actor=mesa1" else "--actor=mesa9" for a in args])
    second = json.loads(capsys.readouterr().out)
    assert second["created"] is False
    assert second["receipt_with_credentials"] is False
    assert "Contraseña:" not in factories.pdf_text((tmp_path / "c.pdf").read_bytes())
    assert Event.objects.filter(kind=EventKind.RECEIPT_DOWNLOADED).count() == 2


def test_documents_are_spanish_whatever_the_officers_language(officer):
    with translation.override("en"):
        result = factories.register(actor=officer)
    text = factories.receipt_text(result)
    assert "CONSTANCIA DE TRÁMITE" in text
    assert "Credenciales de acceso a su Buzón Electrónico" in text


def test_the_same_submission_registers_once():
    key = "form:" + "a" * 32
    first = factories.register_with_key(key)
    again = factories.register_with_key(key)
    assert again.procedure == first.procedure
    assert not again.created
    assert Procedure.objects.count() == 1


def test_contact_details_added_later_are_recorded():
    factories.register(doc_number="111222333")
    factories.register(
        doc_number="111222333",
        email="maria@example.org",
        procedure=factories.procedure_input(procedure_type="PRR"),
    )
    event = Event.objects.filter(kind=EventKind.PROCEDURE_REGISTERED).latest("id")
    assert event.data["contact_added"] == ["email"]
