import re
from datetime import datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from alerts.models import Alert
from evidence.models import Event, EventKind
from mailboxes.actions import deposit_many
from mailboxes.inputs import Appeal, AttachmentInput
from mailboxes.models import Attachment, Notification
from tests import factories

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")


def stored_files():
    root = Path(default_storage.path("notifications"))
    return [p for p in root.rglob("*.pdf")] if root.exists() else []


def counts():
    return (
        Notification.objects.count(),
        Attachment.objects.count(),
        Alert.objects.count(),
        Event.objects.filter(notification__isnull=False).count(),
        len(stored_files()),
    )


@time_machine.travel(datetime(2026, 7, 27, 10, 0, tzinfo=LIMA), tick=False)
def test_a_deposit_writes_everything_in_one_go():
    registration = factories.register()
    factories.verified(registration, email="maria@example.org", phone="+51987654321")
    officer = factories.unit_officer("sin1")
    notification = factories.deposit(
        registration,
        actor=officer,
        kind="correction",
        subject="Falta un documento",
        body="Adjunte su **pasaporte** vigente.",
    )
    assert notification.person == registration.procedure.person
    assert notification.body_html == "<p>Adjunte su <strong>pasaporte</strong> vigente.</p>\n"
    # on_deposit, on a business morning: effective today; 2 business days (art. 136) skip
    # 28-29 July (Independence Day) and the weekend... 27 Jul (Mon) -> 30 Jul (Thu), 31 Jul.
    assert str(notification.effective_date) == "2026-07-27"
    assert str(notification.deadline_date) == "2026-07-31"
    attachment = notification.attachments.get()
    assert attachment.original_name == "resolucion.pdf"
    assert attachment.size == len(factories.pdf_bytes())
    assert re.fullmatch(r"notifications/2026/07/27/[0-9a-f]{32}\.pdf", attachment.file.name)
    assert attachment.file.read() == factories.pdf_bytes()
    kinds = list(notification.events.values_list("kind", flat=True))
    assert kinds[:2] == [EventKind.NOTIFICATION_DEPOSITED, EventKind.NOTIFICATION_EFFECTIVE]
    deposited = notification.events.get(kind=EventKind.NOTIFICATION_DEPOSITED)
    assert deposited.actor == officer
    assert deposited.data["attachments"][0]["sha256"] == attachment.sha256
    assert sorted(notification.alerts.values_list("channel", flat=True)) == ["email", "sms"]


def test_unverified_contacts_get_no_alert():
    registration = factories.register(email="maria@example.org")  # typed by an officer
    notification = factories.deposit(registration)
    assert notification.alerts.count() == 0


def test_a_resolution_without_its_legal_content_lists_exactly_what_is_missing():
    registration = factories.register()
    before = counts()
    with pytest.raises(ValidationError) as exc:
        factories.deposit(
            registration,
            kind="resolution",
            appeals=[Appeal(name="Reconsideración", where="", business_days=None)],
        )
    message = exc.value.message_dict["appeals"][0]
    assert "si la resolución agota o no la vía administrativa" in message
    assert "dónde presentar el recurso 1" in message
    assert "el plazo en días hábiles del recurso 1" in message
    assert "el nombre del recurso 1" not in message
    assert counts() == before
    ok = factories.deposit(
        registration,
        kind="resolution",
        ends_administrative_route=False,
        appeals=[
            Appeal("Reconsideración", "la Subgerencia que emitió el acto", 15),
            Appeal("Apelación", "la misma Subgerencia, para la Gerencia", 15),
        ],
    )
    assert ok.appeals[1]["name"] == "Apelación"


def appeal_errors(registration, kind: str, appeals: list[Appeal], **overrides) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        factories.deposit(registration, kind=kind, appeals=appeals, **overrides)
    return exc.value.message_dict["appeals"]


def test_the_appeals_of_any_kind_are_checked_as_the_officers_form_checks_them():
    """A person must never read "dentro de -5 días hábiles", whatever kind lists the appeal."""
    registration = factories.register()
    before = counts()
    errors = appeal_errors(registration, "approval", [Appeal("", "", -5)])
    assert errors == [
        "Cada recurso debe decir su nombre, dónde presentarlo y su plazo; falta el nombre del "
        "recurso 1; dónde presentar el recurso 1.",
        "El plazo del recurso 1 debe estar entre 1 y 365 días hábiles.",
    ]
    assert appeal_errors(registration, "other", [Appeal("Reconsideración", "Mesa", None)]) == [
        "Cada recurso debe decir su nombre, dónde presentarlo y su plazo; falta el plazo en "
        "días hábiles del recurso 1."
    ]
    resolution = {"ends_administrative_route": False}
    for days in (0, 366, 10**30):
        assert appeal_errors(
            registration, "resolution", [Appeal("Apelación", "Mesa de partes", days)], **resolution
        ) == ["El plazo del recurso 1 debe estar entre 1 y 365 días hábiles."]
    too_long = [Appeal("R" * 101, "M" * 201, 15)]
    assert appeal_errors(registration, "approval", too_long) == [
        "El nombre del recurso 1 puede tener como máximo 100 caracteres.",
        "Dónde presentar el recurso 1 puede tener como máximo 200 caracteres.",
    ]
    many = [Appeal(f"Recurso {n}", "Mesa de partes", 15) for n in range(11)]
    assert appeal_errors(registration, "resolution", many, **resolution) == [
        "Indique como máximo 10 recursos."
    ]
    assert counts() == before
    # At the limits, and with no appeals at all where the kind needs none, it is deposited.
    edge = [Appeal("R" * 100, "M" * 200, 365), *[Appeal("Apelación", "Mesa", 1)] * 9]
    assert len(factories.deposit(registration, kind="approval", appeals=edge).appeals) == 10
    assert factories.deposit(registration, kind="approval").appeals == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, I am a text file", "no es un PDF"),
        (b"%PDF-1.7\nthis is not really a pdf", "dañado o no se puede leer"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "no es un PDF"),
        (  # a well-formed PDF with no pages
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj "
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
            "dañado o no se puede leer",
        ),
    ],
)
def test_anything_but_a_real_pdf_is_refused_and_nothing_is_written(content, message):
    registration = factories.register()
    before = counts()
    with pytest.raises(ValidationError) as exc:
        factories.deposit(registration, attachments=[AttachmentInput("a.pdf", content)])
    assert message in exc.value.message_dict["attachments"][0]
    assert counts() == before


def _pdf(**canvas_options):
    import io

    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, **canvas_options)
    canvas.drawString(72, 720, "Resolución")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_a_password_protected_pdf_is_refused_as_such():
    before = counts()
    with pytest.raises(ValidationError) as exc:
        factories.deposit(attachments=[AttachmentInput("clave.pdf", _pdf(encrypt="secreto"))])
    assert exc.value.message_dict["attachments"] == [
        "El archivo «clave.pdf» está protegido con contraseña."
    ]
    assert counts() == before


def test_a_truncated_pdf_is_refused():
    whole = _pdf()
    with pytest.raises(ValidationError, match="dañado o no se puede leer"):
        factories.deposit(attachments=[AttachmentInput("corte.pdf", whole[: len(whole) // 3])])


def test_the_body_is_rendered_and_nothing_active_survives():
    notification = factories.deposit(
        body=(
            "Hola <script>alert(1)</script> **usted**.\n\n"
            "[enlace](javascript:alert(1)) [sede](https://www.gob.pe/migraciones)\n\n"
            "<img src=x onerror=alert(1)>\n\n"
            "| Cuota | Monto |\n|---|--:|\n| 1 | S/ 120 |"
        )
    )
    html = notification.body_html
    assert "<strong>usted</strong>" in html
    assert (
        '<a href="https://www.gob.pe/migraciones" rel="noopener noreferrer nofollow">sede</a>'
        in (html)
    )
    assert '<td align="right">S/ 120</td>' in html
    for active in ("<script", "javascript:", "<img", "onerror"):
        assert active not in html


def test_the_size_limit_comes_from_settings(settings):
    settings.BUZON_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="el máximo es"):
        factories.deposit(attachments=[AttachmentInput("big.pdf", factories.pdf_bytes(pad_kb=4))])


def test_names_are_sanitised_and_paths_are_ours():
    notification = factories.deposit(
        attachments=[AttachmentInput("../../etc/pass wd<script>.PDF", factories.pdf_bytes())]
    )
    attachment = notification.attachments.get()
    assert attachment.original_name == "pass wd_script_.PDF"
    assert ".." not in attachment.file.name


def test_a_deposit_that_fails_midway_leaves_nothing_behind():
    registration = factories.register()
    factories.verified(registration)
    before = counts()
    failing = mock.patch("mailboxes.actions.create_deposit_alerts", side_effect=RuntimeError("x"))
    with failing, pytest.raises(RuntimeError):
        factories.deposit(registration)
    assert counts() == before


def test_the_same_key_deposits_once():
    registration = factories.register()
    first = factories.deposit(registration, idempotency_key="campaign-1:item-7")
    again = factories.deposit(registration, idempotency_key="campaign-1:item-7")
    assert again == first
    assert Notification.objects.count() == 1


def test_an_officer_deposits_only_for_their_unit():
    registration = factories.register()
    outsider = factories.unit_officer("sdv1", unit="SDV")
    with pytest.raises(ValidationError) as exc:
        factories.deposit(registration, actor=outsider, unit="SIN")
    assert "no pertenece" in exc.value.message_dict["unit"][0]


def test_deposit_many_validates_everything_then_writes_and_is_idempotent():
    registration = factories.register()
    number = registration.procedure.number
    items = [
        factories.notification_input(number, idempotency_key=f"k{i}", subject=f"Aviso {i}")
        for i in range(5)
    ]
    items.insert(2, factories.notification_input("LM269999999", idempotency_key="bad"))
    items.append(factories.notification_input(number, idempotency_key="k0"))  # repeated key
    results = deposit_many(items, actor=None, batch_size=2)
    assert [r.created for r in results] == [True, True, False, True, True, True, False]
    assert results[2].errors == {"procedure_number": ["No existe un trámite con ese número."]}
    assert results[6].errors == {"idempotency_key": ["Clave repetida en el lote."]}
    assert Notification.objects.count() == 5
    rerun = deposit_many(items, actor=None, batch_size=2)
    assert Notification.objects.count() == 5
    assert [r.created for r in rerun if r.errors is None] == [False] * 5


def test_an_overlong_key_is_refused_alone_in_a_batch():
    registration = factories.register()
    number = registration.procedure.number
    items = [
        factories.notification_input(number, idempotency_key="k" * 101),
        factories.notification_input(number, idempotency_key="fine"),
    ]
    results = deposit_many(items, actor=None)
    assert results[0].errors == {
        "idempotency_key": ["La clave de idempotencia tiene más de 100 caracteres."]
    }
    assert results[1].created


def test_a_reused_key_with_other_content_is_a_conflict_not_a_silent_skip():
    registration = factories.register()
    number = registration.procedure.number
    factories.deposit(registration, idempotency_key="campaign-2025:1", subject="Primera")
    with pytest.raises(ValidationError) as exc:
        factories.deposit(registration, idempotency_key="campaign-2025:1", subject="Otra")
    assert "ya se usó para una notificación con otro contenido" in str(exc.value)
    results = deposit_many(
        [
            factories.notification_input(number, idempotency_key="campaign-2025:1", subject="Otra"),
            factories.notification_input(number, idempotency_key="campaign-2025:1b"),
        ],
        actor=None,
    )
    assert results[0].errors is not None
    assert "otro contenido" in results[0].errors["idempotency_key"][0]
    assert results[1].created
    assert Notification.objects.count() == 2


def test_campaign_files_are_checked_then_reread_and_a_changed_one_is_refused(tmp_path):
    registration = factories.register()
    number = registration.procedure.number
    paths = []
    for i in range(3):
        path = tmp_path / f"r{i}.pdf"
        path.write_bytes(factories.pdf_bytes(pages=i + 1))
        paths.append(path)
    items = [
        factories.notification_input(
            number, idempotency_key=f"c{i}", attachments=[AttachmentInput(p.name, path=p)]
        )
        for i, p in enumerate(paths)
    ]

    def swap_the_last_file(_done):
        paths[2].write_bytes(factories.pdf_bytes(pages=9))

    results = deposit_many(items, actor=None, batch_size=2, progress=swap_the_last_file)
    assert [r.created for r in results] == [True, True, False]
    assert results[2].errors is not None
    assert "cambió después de revisarlo" in results[2].errors["attachments"][0]
    stored = Notification.objects.get(idempotency_key="c1").attachments.get()
    assert stored.file.read() == factories.pdf_bytes(pages=2)
