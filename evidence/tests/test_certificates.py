import hashlib
import re

import pytest
from django.utils import timezone

from alerts.actions import deliver
from evidence import chain, merkle, pki
from evidence.actions import issue_certificate, seal
from evidence.certificates import mask_destination
from evidence.models import Certificate, Event, EventKind
from mailboxes.actions import RequestMeta, open_notification, record_download, record_view
from mailboxes.inputs import AttachmentInput
from tests import factories

pytestmark = pytest.mark.django_db

USER_AGENT = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Chrome/131.0 Mobile"


def notification_with_history(*, open_it=True):
    """A notification with two attachments, alerts on two channels, an opening, views and
    downloads: about ten timeline entries."""
    registration = factories.register(procedure=factories.procedure_input(number="LM260000777"))
    factories.verified(registration, email="maria.gonzalez@example.org", phone="+51987654321")
    notification = factories.deposit(
        registration,
        kind="correction",
        subject="Subsanación: adjunte su pasaporte vigente",
        attachments=[
            AttachmentInput("oficio-subsanacion.pdf", factories.pdf_bytes()),
            AttachmentInput("requisitos.pdf", factories.pdf_bytes(pages=2)),
        ],
    )
    for alert in notification.alerts.all():
        deliver(alert.pk)
    if open_it:
        user = registration.procedure.person.user
        assert user is not None
        meta = RequestMeta(ip_address="190.234.10.5", user_agent=USER_AGENT)
        open_notification(notification, reader=user, meta=meta)
        record_view(notification, reader=user, meta=meta)
        for attachment in notification.attachments.all():
            record_download(attachment, reader=user, meta=meta)
    notification.refresh_from_db()
    return notification


def parse_proof(text):
    """The inclusion proof as printed: (checkpoint number, index, size, root, path)."""
    flat = re.sub(r"\s+", " ", text)
    head = re.search(r"Punto de control N\.° (\d+) · índice (\d+) · tamaño (\d+)", flat)
    root = re.search(r"Raíz ([0-9a-f]{64})", flat)
    assert head, flat
    assert root, flat
    tail = flat[flat.index("Ruta de auditoría") :]
    steps = re.findall(r"\b(\d{2}) ([0-9a-f]{64})\b", tail)
    assert [int(i) for i, _h in steps] == list(range(1, len(steps) + 1))
    return int(head[1]), int(head[2]), int(head[3]), root[1], [h for _i, h in steps]


def test_the_certificate_is_signed_by_the_agency_and_validates(settings):
    notification = notification_with_history()

    _certificate, pdf = issue_certificate(notification, requested_by=None)

    summary = pki.validate_pdf(pdf)
    assert summary.intact
    assert summary.valid
    assert summary.trusted
    assert summary.covers_whole_document
    assert summary.signer_cn == settings.AGENCY["name"]


def test_the_certificate_shows_what_was_notified_to_whom_and_when(settings):
    notification = notification_with_history()
    person = notification.person

    certificate, pdf = issue_certificate(notification, requested_by=person.user)

    text = factories.pdf_text(pdf)
    flat = re.sub(r"\s+", " ", text)
    assert "CONSTANCIA DE NOTIFICACIÓN ELECTRÓNICA" in flat
    assert settings.AGENCY["name"] in flat
    assert "LM260000777" in flat
    assert person.full_name in flat
    assert person.document_label in flat
    assert str(notification.public_id) in flat
    assert "Subsanación: adjunte su pasaporte vigente" in flat
    assert notification.authority in flat
    assert notification.content_sha256 in flat
    for attachment in notification.attachments.all():
        assert attachment.original_name in flat
        assert attachment.sha256 in flat
    opened_at = timezone.localtime(notification.opening.opened_at)
    assert "190.234.10.5" in flat
    assert opened_at.strftime("%d/%m/%Y %H:%M:%S") in flat
    assert certificate.code in flat
    deposit = notification.events.get(kind=EventKind.NOTIFICATION_DEPOSITED)
    assert deposit.position in flat
    assert deposit.hash in flat
    # The timeline: every entry with its position; alerts with masked destinations only.
    for event in notification.events.exclude(kind=EventKind.CERTIFICATE_ISSUED):
        assert f"{event.position} {event.hash[:16]}" in flat, event
    assert "m***" in flat
    assert "maria.gonzalez@example.org" not in flat
    assert "+51987654321" not in flat
    assert notification.effect_rule.split(" (")[0] in flat
    # Issuing seals an unsealed deposit first, so the certificate always carries its proof.
    assert "Prueba de inclusión" in flat
    assert "aún no está sellada" not in flat


def test_the_qr_code_and_the_code_lead_to_the_public_verification_page(settings):
    notification = notification_with_history()

    certificate, pdf = issue_certificate(notification, requested_by=None)

    assert f"{settings.PUBLIC_BASE_URL}/verificar/" in factories.pdf_text(pdf)
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", certificate.code)


def test_a_sealed_deposit_carries_an_inclusion_proof_that_verifies_offline():
    for _ in range(3):  # other entries in the same checkpoint, so the tree has some depth
        factories.deposit()
    notification = notification_with_history()
    sealer = seal()
    factories.deposit()  # a later checkpoint: the proof is against the one that sealed it
    latest = seal()
    deposit = notification.events.get(kind=EventKind.NOTIFICATION_DEPOSITED)

    certificate, pdf = issue_certificate(notification, requested_by=None)

    text = factories.pdf_text(pdf)
    number, index, size, root, path = parse_proof(text)
    assert number == sealer.number
    assert root == sealer.merkle_root
    assert size == sealer.entries > 1
    assert len(path) >= 2
    assert merkle.verify_inclusion(deposit.hash, index, size, path, root)
    assert not merkle.verify_inclusion(deposit.hash, index, size, path, latest.merkle_root)
    flat = re.sub(r"\s+", " ", text)
    assert f"N.° {latest.number}," in flat
    assert latest.merkle_root in flat
    assert certificate.checkpoint == latest


def test_issuing_registers_the_certificate_and_records_it_as_evidence():
    notification = notification_with_history(open_it=False)
    seal()
    officer = factories.unit_officer()

    certificate, pdf = issue_certificate(notification, requested_by=officer)

    digest = hashlib.sha256(pdf).hexdigest()
    row = Certificate.objects.get(code=certificate.code)
    assert row.notification == notification
    assert row.sha256 == digest
    assert row.size == len(pdf)
    assert row.requested_by == officer
    assert row.checkpoint.number == 1
    event = Event.objects.get(notification=notification, kind=EventKind.CERTIFICATE_ISSUED)
    assert event.actor == officer
    assert event.data == {
        "code": certificate.code,
        "sha256": digest,
        "issued_at": chain.timestamp(row.issued_at),
        "checkpoint": 1,
    }
    assert event.entry["content_sha256"] == notification.content_sha256
    # Unopened at issue time: no acuse is printed, and issuing creates none.
    assert "Sin abrir a la fecha de emisión" in factories.pdf_text(pdf)
    notification.refresh_from_db()
    assert notification.opened_at is None


def test_each_issue_is_a_new_snapshot_with_its_own_code():
    notification = notification_with_history()

    first, _first_pdf = issue_certificate(notification, requested_by=None)
    second, second_pdf = issue_certificate(notification, requested_by=None)

    assert first.code != second.code
    assert first.sha256 != second.sha256
    # The second one lists the first issue in its timeline, without its code.
    text = re.sub(r"\s+", " ", factories.pdf_text(second_pdf))
    assert "Constancia de notificación emitida" in text
    assert first.sha256[:16] in text
    assert first.code not in text


def test_destinations_are_masked():
    assert mask_destination("maria.gonzalez@example.org") == "m*************@example.org"
    assert mask_destination("al@example.org") == "a***@example.org"
    assert mask_destination("+51987654321") == "+51******321"
