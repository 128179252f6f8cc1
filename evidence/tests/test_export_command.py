"""`manage.py export_evidence`: the export an officer or a court asks for, by command."""

from __future__ import annotations

import json
import zipfile
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from evidence import offline
from evidence.models import Certificate, Checkpoint
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana():
    first = factories.register(
        doc_type="CPP",
        doc_number="1234567",  # printed without the leading zeros on older cards
        procedure=factories.procedure_input(number="LM260000001"),
    )
    second = factories.register(
        doc_type="CPP",
        doc_number="001234567",
        procedure=factories.procedure_input(number="LM260000002", procedure_type="PRR"),
    )
    factories.deposit(first, subject="Aprobación de su CPP")
    factories.deposit(second, subject="Prórroga aprobada")
    return first


def export(*args: str) -> str:
    out = StringIO()
    call_command("export_evidence", *args, stdout=out)
    return out.getvalue()


def manifest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return manifest


def test_the_whole_mailbox_is_written_and_checks_out_offline(ana, tmp_path):
    path = tmp_path / "ana.zip"
    printed = export("--document", "CPP 001234567", "--out", str(path))

    latest = Checkpoint.objects.order_by("-number").first()
    assert latest is not None
    manifest = manifest_of(path)
    assert printed.strip() == (
        f"{path}: CPP 001234567: 2 notifications, {len(manifest['entries'])} entries, "
        f"{len(manifest['files'])} files, checkpoint #{latest.number}"
    )
    assert offline.check(path).problems == []
    # Per notification: content, text, attachment, certificate; and LEEME.txt.
    assert len(manifest["files"]) == 9
    assert {n["subject"] for n in manifest["notifications"]} == {
        "Aprobación de su CPP",
        "Prórroga aprobada",
    }
    # Certificates issued for a command name no requester; no partial file is left behind.
    assert [c.requested_by for c in Certificate.objects.all()] == [None, None]
    assert [p.name for p in tmp_path.iterdir()] == ["ana.zip"]


def test_one_procedure_and_the_document_as_typed(ana, tmp_path):
    path = tmp_path / "tramite.zip"
    printed = export("--document", "cpp-1234567", "--procedure", "lm260000002", "--out", str(path))
    assert "CPP 001234567, procedure LM260000002: 1 notifications" in printed
    assert [n["subject"] for n in manifest_of(path)["notifications"]] == ["Prórroga aprobada"]
    assert offline.check(path).problems == []


@pytest.mark.parametrize(
    ("document", "procedure", "message"),
    [
        ("CPP 009999999", None, "no person with document CPP 009999999"),
        ("CPP 12AB", None, "solo puede contener números"),
        ("001234567", None, 'give a type and a number, e.g. "CPP 001234567"'),
        ("XYZ 001234567", None, "Elija un tipo de documento válido."),
        ("CPP 001234567", "LM269999999", "no procedure LM269999999"),
        ("CPP 001234567", "LM260000900", "procedure LM260000900 is not of CPP 001234567"),
    ],
)
def test_clear_errors_and_nothing_written(ana, tmp_path, document, procedure, message):
    factories.register(procedure=factories.procedure_input(number="LM260000900"))
    path = tmp_path / "out.zip"
    args = ["--document", document, "--out", str(path)]
    if procedure:
        args += ["--procedure", procedure]
    with pytest.raises(CommandError, match=message):
        export(*args)
    assert not path.exists()
    assert not Certificate.objects.exists()


def test_a_missing_folder_is_an_error(ana, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        export("--document", "CPP 001234567", "--out", str(tmp_path / "no" / "x.zip"))
