"""The batch command, end to end: a real CSV, real PDFs in a folder, a real database."""

import csv
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from accounts.models import User
from evidence.models import Event
from mailboxes.models import Attachment, Notification
from tests import factories

pytestmark = pytest.mark.django_db

COLUMNS = [
    "key",
    "procedure_number",
    "unit",
    "kind",
    "subject",
    "body",
    "attachments",
    "ends_administrative_route",
    "appeals",
    "response_business_days",
]
APPEALS = "Reconsideración|Mesa de partes de Migraciones|15;Apelación|Mesa de partes|15"
ART_24_1 = "art. 24.1 del TUO de la Ley N.° 27444"


def stored_files():
    try:
        folders, _files = default_storage.listdir("notifications")
    except FileNotFoundError:
        return 0
    return sum(len(default_storage.listdir(f"notifications/{f}")[1]) for f in folders)


def written():
    return (
        Notification.objects.count(),
        Attachment.objects.count(),
        Event.objects.filter(notification__isnull=False).count(),
        stored_files(),
    )


def row(procedure_number, key, **overrides):
    values = {
        "key": key,
        "procedure_number": procedure_number,
        "unit": "SIN",
        "kind": "approval",
        "subject": "Aprobación de su solicitud",
        "body": "Se **aprueba** su solicitud.",
        "attachments": "resolucion.pdf",
    }
    values.update(overrides)
    return values


@pytest.fixture
def pdfs(tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "resolucion.pdf").write_bytes(factories.pdf_bytes())
    (folder / "anexo.pdf").write_bytes(factories.pdf_bytes(pages=2))
    return folder


@pytest.fixture
def numbers():
    return [factories.register().procedure.number for _ in range(3)]


def write_csv(tmp_path, rows, columns=COLUMNS):
    """As a spreadsheet saves it: UTF-8 with a BOM, CRLF line ends."""
    path = tmp_path / "lote.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(*args):
    """Run the command; returns (stdout, the CommandError or None)."""
    out = StringIO()
    try:
        call_command("deposit_batch", *map(str, args), stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def mixed_batch(tmp_path, pdfs, numbers):
    """Three good rows and, as data row 3, one with an unknown procedure."""
    return write_csv(
        tmp_path,
        [
            row(numbers[0], "lote1-a", attachments="resolucion.pdf; anexo.pdf"),
            row(
                numbers[1],
                "lote1-b",
                kind="resolution",
                ends_administrative_route="no",
                appeals=APPEALS,
            ),
            row("LM-2026-999999", "lote1-c"),
            row(numbers[2], "lote1-d", kind="correction", response_business_days="5"),
        ],
    )


def test_good_rows_are_deposited_and_the_bad_row_is_reported_with_its_number(mixed_batch, pdfs):
    out, error = run(mixed_batch, pdfs)

    assert error is not None
    assert "1 row(s) rejected" in str(error)
    assert "deposited 3, already there 0, rejected 1" in out
    assert "row 3 (key lote1-c): procedure_number: No existe un trámite con ese número." in out
    assert set(Notification.objects.values_list("idempotency_key", flat=True)) == {
        "lote1-a",
        "lote1-b",
        "lote1-d",
    }
    assert Notification.objects.get(idempotency_key="lote1-a").attachments.count() == 2
    resolution = Notification.objects.get(idempotency_key="lote1-b")
    assert resolution.ends_administrative_route is False
    assert [a["name"] for a in resolution.appeals] == ["Reconsideración", "Apelación"]
    assert resolution.deposited_by is None
    assert Notification.objects.get(idempotency_key="lote1-d").response_business_days == 5


def test_a_rerun_deposits_nothing_twice(mixed_batch, pdfs):
    run(mixed_batch, pdfs)
    before = written()

    out, error = run(mixed_batch, pdfs)

    assert error is not None
    assert "deposited 0, already there 3, rejected 1" in out
    assert written() == before


@pytest.mark.parametrize("name", ["../fuera.pdf", "ABSOLUTE", "sub/../../fuera.pdf"])
def test_an_attachment_outside_the_pdf_folder_is_refused(tmp_path, pdfs, numbers, name):
    outside = tmp_path / "fuera.pdf"
    outside.write_bytes(factories.pdf_bytes())  # it exists: only where it lies is wrong
    name = str(outside) if name == "ABSOLUTE" else name
    path = write_csv(
        tmp_path,
        [row(numbers[0], "k1"), row(numbers[1], "k2", attachments=f"resolucion.pdf;{name}")],
    )

    out, error = run(path, pdfs)

    assert error is not None
    assert "deposited 1, already there 0, rejected 1" in out
    assert f"row 2 (key k2): attachments: «{name}» está fuera de la carpeta de PDF." in out
    assert not Notification.objects.filter(idempotency_key="k2").exists()


def test_a_symlink_pointing_out_of_the_folder_is_refused(tmp_path, pdfs, numbers):
    outside = tmp_path / "fuera.pdf"
    outside.write_bytes(factories.pdf_bytes())
    (pdfs / "enlace.pdf").symlink_to(outside)
    path = write_csv(tmp_path, [row(numbers[0], "k1", attachments="enlace.pdf")])

    out, error = run(path, pdfs)

    assert error is not None
    assert "«enlace.pdf» está fuera de la carpeta de PDF." in out
    assert written() == (0, 0, 0, 0)


def test_a_missing_file_is_reported_with_the_other_faults_of_its_row(tmp_path, pdfs, numbers):
    path = write_csv(
        tmp_path,
        [row(numbers[0], "k1", attachments="no-existe.pdf", subject="", kind="multa")],
    )

    out, error = run(path, pdfs)

    assert error is not None
    assert "row 1 (key k1): attachments: No se encuentra «no-existe.pdf» en la carpeta" in out
    assert "row 1 (key k1): subject: Escriba el asunto." in out
    assert "row 1 (key k1): kind: Elija el tipo de notificación." in out
    # the missing file is the attachment fault, not "attach at least one PDF"
    assert "Adjunte al menos un documento" not in out
    assert written() == (0, 0, 0, 0)


def test_a_resolution_without_appeals_is_refused_citing_art_24_1(tmp_path, pdfs, numbers):
    path = write_csv(
        tmp_path, [row(numbers[0], "k1", kind="resolution", ends_administrative_route="no")]
    )

    out, error = run(path, pdfs)

    assert error is not None
    assert "row 1 (key k1): appeals: A la resolución le falta lo que exige el " + ART_24_1 in out
    assert "los recursos que proceden, dónde presentarlos y en qué plazo" in out
    assert written() == (0, 0, 0, 0)


def test_malformed_optional_cells_are_row_errors(tmp_path, pdfs, numbers):
    path = write_csv(
        tmp_path,
        [
            row(
                numbers[0],
                "k1",
                kind="resolution",
                ends_administrative_route="quizás",
                appeals="Reconsideración|Mesa de partes;Apelación|Mesa|quince",
                response_business_days="diez",
            ),
            row(numbers[1], "k2"),
        ],
    )

    out, error = run(path, pdfs)

    assert error is not None
    assert "deposited 1, already there 0, rejected 1" in out
    assert "row 1 (key k1): ends_administrative_route: Escriba «si» o «no»" in out
    assert "row 1 (key k1): appeals: El recurso 1 debe tener la forma Nombre|Dónde|días." in out
    assert "row 1 (key k1): appeals: El plazo del recurso 2 debe ser un número entero" in out
    assert "row 1 (key k1): response_business_days: Escriba un número entero" in out


def test_a_key_used_twice_in_the_file_rejects_the_second_row(tmp_path, pdfs, numbers):
    path = write_csv(tmp_path, [row(numbers[0], "k1"), row(numbers[1], "k1"), row(numbers[2], "")])

    out, error = run(path, pdfs)

    assert error is not None
    assert "deposited 1, already there 0, rejected 2" in out
    assert "row 2 (key k1): key: Clave repetida: ya la usa la fila 1." in out
    assert "row 3 (key -): key: Falta la clave de idempotencia." in out
    assert Notification.objects.get().procedure.number == numbers[0]


def test_dry_run_validates_every_row_and_writes_nothing(mixed_batch, pdfs):
    out, error = run(mixed_batch, pdfs, "--dry-run")

    assert error is not None
    assert "nothing was written" in str(error)
    assert "dry run, nothing written: would deposit 3, already there 0, rejected 1" in out
    assert "row 3 (key lote1-c): procedure_number: No existe un trámite" in out
    assert written() == (0, 0, 0, 0)


def test_dry_run_after_a_deposit_counts_what_is_already_there(tmp_path, pdfs, numbers):
    path = write_csv(tmp_path, [row(numbers[0], "k1"), row(numbers[1], "k2")])
    assert run(path, pdfs) == ("deposited 2, already there 0, rejected 0\n", None)
    path = write_csv(
        tmp_path, [row(numbers[0], "k1"), row(numbers[1], "k2"), row(numbers[2], "k3")]
    )

    out, error = run(path, pdfs, "--dry-run")

    assert error is None
    assert out == "dry run, nothing written: would deposit 1, already there 2, rejected 0\n"
    assert Notification.objects.count() == 2


@pytest.mark.parametrize("who", ["unknown", "inactive", "person"])
def test_actor_must_be_an_active_officer_or_nothing_is_written(mixed_batch, pdfs, who):
    if who == "inactive":
        User.objects.filter(pk=factories.unit_officer("ausente").pk).update(is_active=False)
    elif who == "person":
        User.objects.create_user(username="ausente", kind=User.Kind.PERSON)

    out, error = run(mixed_batch, pdfs, "--actor", "ausente")

    assert str(error) == "no active officer named 'ausente'"
    assert out == ""
    assert written() == (0, 0, 0, 0)


def test_actor_is_recorded_and_must_belong_to_the_unit(tmp_path, pdfs, numbers):
    officer = factories.unit_officer("sin1", unit="SIN")
    path = write_csv(tmp_path, [row(numbers[0], "k1"), row(numbers[1], "k2", unit="SDV")])

    out, error = run(path, pdfs, "--actor", "sin1", "--batch-size", "1")

    assert error is not None
    assert "deposited 1, already there 0, rejected 1" in out
    assert "row 2 (key k2): unit: Usted no pertenece a la unidad" in out
    assert Notification.objects.get().deposited_by == officer


def test_multiline_markdown_body_in_quotes_survives(tmp_path, pdfs, numbers):
    body = 'Señor(a):\n\nSe **aprueba** su solicitud, "con comillas", y comas.\n\n- uno\n- dos'
    path = write_csv(tmp_path, [row(numbers[0], "k1", body=body), row(numbers[1], "k2")])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM is tolerated

    out, error = run(path, pdfs)

    assert error is None
    assert out == "deposited 2, already there 0, rejected 0\n"
    notification = Notification.objects.get(idempotency_key="k1")
    assert notification.body_markdown == body
    assert "<strong>aprueba</strong>" in notification.body_html
    assert "<li>uno</li>" in notification.body_html


def test_row_numbers_count_records_not_physical_lines(tmp_path, pdfs, numbers):
    path = write_csv(
        tmp_path, [row(numbers[0], "k1", body="uno\ndos\ntres"), row("LM-2026-999999", "k2")]
    )

    out, _error = run(path, pdfs)

    assert "row 2 (key k2): procedure_number" in out


def test_a_bad_header_fails_before_anything_is_written(tmp_path, pdfs, numbers):
    path = write_csv(
        tmp_path,
        [{"key": "k1", "procedure_number": numbers[0], "asunto": "x"}],
        columns=["key", "procedure_number", "asunto"],
    )

    out, error = run(path, pdfs)

    assert error is not None
    assert out == ""
    assert "missing: unit, kind, subject, body, attachments" in str(error)
    assert "unknown: asunto" in str(error)
    assert written() == (0, 0, 0, 0)


def test_the_progress_bar_is_shown_on_stderr(tmp_path, pdfs, numbers, capsys):
    path = write_csv(tmp_path, [row(n, f"k{i}") for i, n in enumerate(numbers)])

    _out, error = run(path, pdfs, "--batch-size", "2")

    assert error is None
    err = capsys.readouterr().err
    assert "deposit: 100%" in err
    assert "3/3" in err
