import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice.groups import NOTIFIERS
from corrections.models import CorrectionRequest
from mailboxes.models import Notification
from payments.models import Debt
from tests import factories

pytestmark = pytest.mark.django_db


def notifier(username="notif1", unit="SIN"):
    user = factories.unit_officer(username, unit=unit)
    user.groups.add(Group.objects.get(name=NOTIFIERS))
    return user


def form(number, **extra):
    return {
        "procedure_number": number,
        "unit": "SIN",
        "kind": "correction",
        "subject": "Falta su pasaporte",
        "body": "Adjunte su **pasaporte** vigente.",
        **extra,
    }


def test_compose_preview_then_deposit_reaches_the_inbox(client):
    registration = factories.register()
    officer = notifier()
    client.force_login(officer)
    number = registration.procedure.number
    preview = client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(number),
            "action": "preview",
            "attachments": [SimpleUploadedFile("oficio.pdf", factories.pdf_bytes())],
        },
    )
    page = preview.content.decode()
    assert "Vista previa: así la verá la persona" in page
    assert "<strong>pasaporte</strong>" in page
    assert "oficio.pdf" in page
    assert Notification.objects.count() == 0  # a preview deposits nothing
    draft = preview.context["form"]["draft"].value()
    deposit = client.post(
        "/oficina/notificaciones/nueva/", {**form(number), "draft": draft, "action": "deposit"}
    )
    notification = Notification.objects.get()
    assert deposit["Location"] == f"/oficina/notificaciones/{notification.public_id}/"
    assert notification.deposited_by == officer
    assert notification.response_business_days == 2  # art. 136 default
    assert notification.attachments.get().original_name == "oficio.pdf"
    timeline = client.get(deposit["Location"]).content.decode()
    assert "Notificación depositada" in timeline
    # A double submit of the same preview deposits nothing more.
    client.post(
        "/oficina/notificaciones/nueva/", {**form(number), "draft": draft, "action": "deposit"}
    )
    assert Notification.objects.count() == 1


def test_a_fake_pdf_is_refused_in_the_preview(client):
    registration = factories.register()
    client.force_login(notifier())
    page = client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(registration.procedure.number),
            "action": "preview",
            "attachments": [SimpleUploadedFile("oficio.pdf", b"not a pdf at all")],
        },
    ).content.decode()
    assert "no es un PDF" in page
    assert "Vista previa: así" not in page


def test_officers_see_only_their_units_notifications(client):
    registration = factories.register()
    theirs = factories.deposit(registration, unit="SIN", subject="De inmigración")
    mine = factories.deposit(registration, unit="SDV", subject="De pasaportes")
    client.force_login(notifier("sdv1", unit="SDV"))
    listing = client.get("/oficina/notificaciones/").content.decode()
    assert "De pasaportes" in listing
    assert "De inmigración" not in listing
    assert client.get(f"/oficina/notificaciones/{theirs.public_id}/").status_code == 404
    assert client.get(f"/oficina/notificaciones/{mine.public_id}/").status_code == 200
    # Nor can they deposit in the name of another unit.
    page = client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(registration.procedure.number),
            "action": "preview",
            "attachments": [SimpleUploadedFile("a.pdf", factories.pdf_bytes())],
        },
    ).content.decode()
    assert "Escoja una opción válida" in page or "Seleccione una opción válida" in page


def test_registry_officers_cannot_notify(client, officer):
    client.force_login(officer)
    assert client.get("/oficina/notificaciones/nueva/").status_code == 403
    assert client.get("/oficina/notificaciones/").status_code == 403


def test_the_deposit_is_exactly_what_was_previewed(client):
    registration = factories.register()
    other = factories.register(given_names="José", first_surname="Ramírez")
    client.force_login(notifier())
    number = registration.procedure.number
    preview = client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(number),
            "action": "preview",
            "attachments": [SimpleUploadedFile("oficio.pdf", factories.pdf_bytes())],
        },
    )
    draft = preview.context["form"]["draft"].value()
    # Someone edits the recipient after the preview: nothing is deposited.
    changed = client.post(
        "/oficina/notificaciones/nueva/",
        {**form(other.procedure.number), "draft": draft, "action": "deposit"},
        follow=True,
    )
    assert "cambiaron después de la vista previa" in changed.content.decode()
    assert Notification.objects.count() == 0


def test_unconfirmed_preview_drafts_are_purged_after_a_day(client):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from backoffice.notifications import purge_stale_drafts

    registration = factories.register()
    client.force_login(notifier())
    client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(registration.procedure.number),
            "action": "preview",
            "attachments": [SimpleUploadedFile("oficio.pdf", factories.pdf_bytes())],
        },
    )
    folders, _ = default_storage.listdir("drafts")
    assert len(folders) == 1
    assert purge_stale_drafts(timezone.now()) == 0
    assert purge_stale_drafts(timezone.now() + timedelta(hours=25)) == 1
    assert default_storage.listdir(f"drafts/{folders[0]}")[1] == []


def compose_and_deposit(client, number, **extra):
    preview = client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(number, **extra),
            "action": "preview",
            "attachments": [SimpleUploadedFile("oficio.pdf", factories.pdf_bytes())],
        },
    )
    draft = preview.context["form"]["draft"].value()
    client.post(
        "/oficina/notificaciones/nueva/",
        {**form(number, **extra), "draft": draft, "action": "deposit"},
    )
    return preview.content.decode()


def test_a_correction_request_is_composed_with_its_observed_items(client):
    registration = factories.register()
    client.force_login(notifier())
    page = compose_and_deposit(
        client,
        registration.procedure.number,
        item_0_description="La foto no tiene fondo blanco",
        item_0_document="Fotografía tamaño carné",
        item_1_description="Falta el pasaporte",
        item_1_document="Copia del pasaporte vigente",
    )
    assert "La foto no tiene fondo blanco" in page  # the preview lists the items
    notification = Notification.objects.get()
    assert [
        i.description
        for i in CorrectionRequest.objects.get(notification=notification).items.order_by("position")
    ] == [
        "La foto no tiene fondo blanco",
        "Falta el pasaporte",
    ]
    assert notification.details["items"][1]["document_kind"] == "Copia del pasaporte vigente"


def test_a_fine_is_composed_with_amount_basis_and_due_date(client):
    registration = factories.register()
    officer = factories.unit_officer("multas1", unit="SFM")
    officer.groups.add(Group.objects.get(name=NOTIFIERS))
    client.force_login(officer)
    missing = client.post(
        "/oficina/notificaciones/nueva/",
        {
            **form(registration.procedure.number, unit="SFM", kind="fine"),
            "action": "preview",
            "attachments": [SimpleUploadedFile("multa.pdf", factories.pdf_bytes())],
        },
    ).content.decode()
    for name in ("fine_amount", "fine_due_date", "legal_basis"):
        assert f'id="id_{name}_error">Este dato es obligatorio' in missing, name
    assert Notification.objects.count() == 0
    page = compose_and_deposit(
        client,
        registration.procedure.number,
        unit="SFM",
        kind="fine",
        fine_amount="1250.50",
        fine_due_date="2026-12-30",
        legal_basis="Decreto Legislativo N.° 1350, art. 56",
    )
    # The preview shows the fine as the person will read it, and no list of observations.
    assert "S/ 1250.50 · pagar hasta el 30/12/2026" in page
    assert "Observaciones" not in page
    notification = Notification.objects.get()
    debt = Debt.objects.get(notification=notification)
    assert str(debt.amount) == "1250.50"
    assert notification.details["payment_code"] == debt.payment_code
