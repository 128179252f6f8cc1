import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evidence.models import EventKind
from mailboxes.actions import RequestMeta, open_notification
from mailboxes.models import Notification, Opening
from tests import factories
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def login(registration):
    number, password = factories.credentials_of(registration)
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (Android 14; Mobile)", REMOTE_ADDR="190.42.1.7")
    doc_type = registration.procedure.person.doc_type
    response = client.post(
        "/buzon/ingresar/", {"doc_type": doc_type, "doc_number": number, "password": password}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def maria():
    return factories.register(given_names="María")


def test_the_list_shows_metadata_and_does_not_open(maria):
    notification = factories.deposit(maria, body="Texto **secreto** del acto")
    client = login(maria)
    page = client.get("/buzon/notificaciones/").content.decode()
    assert notification.subject in page
    assert "Nueva" in page
    assert "Subgerencia de Inmigración y Nacionalización" in page
    assert "secreto" not in page
    assert 'class="count"' in page  # unread count in the shell
    notification.refresh_from_db()
    assert notification.opened_at is None


def test_opening_is_explicit_and_recorded_once(maria):
    notification = factories.deposit(maria, body="Texto **del acto**")
    client = login(maria)
    url = f"/buzon/notificaciones/{notification.public_id}/"
    before = client.get(url).content.decode()
    assert "Abrir y leer" in before
    assert "del acto" not in before
    response = client.post(url + "abrir/")
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "<strong>del acto</strong>" in page
    assert "Abierta por primera vez el" in page
    client.post(url + "abrir/")
    client.get(url)
    opening = Opening.objects.get(notification=notification)
    assert opening.ip_address == "190.42.1.7"
    assert "Android" in opening.user_agent
    kinds = list(notification.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.NOTIFICATION_OPENED) == 1
    assert kinds.count(EventKind.NOTIFICATION_VIEWED) == 2


def test_a_stale_second_open_does_not_create_a_second_acuse(maria):
    notification = factories.deposit(maria)
    user = maria.procedure.person.user
    meta = RequestMeta("190.42.1.7", "test")
    stale = Notification.objects.get(pk=notification.pk)  # read before the first open
    first = open_notification(notification, reader=user, meta=meta)
    second = open_notification(stale, reader=user, meta=meta)
    assert first == second
    assert Opening.objects.count() == 1


def test_filters_search_and_pagination(maria):
    for i in range(23):
        factories.deposit(maria, subject=f"Aviso número {i}", kind="other")
    factories.deposit(maria, subject="Multa por exceso de permanencia", kind="fine")
    client = login(maria)
    first = client.get("/buzon/notificaciones/").content.decode()
    assert "Página 1 de 2" in first
    second = client.get("/buzon/notificaciones/?pagina=2").content.decode()
    assert second.count('class="inbox__link"') == 4
    fines = client.get("/buzon/notificaciones/?kind=fine").content.decode()
    assert fines.count('class="inbox__link"') == 1
    found = client.get("/buzon/notificaciones/?q=exceso").content.decode()
    assert "Multa por exceso" in found
    assert found.count('class="inbox__link"') == 1
    by_number = client.get(f"/buzon/notificaciones/?q={maria.procedure.number}").content.decode()
    assert by_number.count('class="inbox__link"') == 20
    opened = Notification.objects.filter(kind="fine").get()
    client.post(f"/buzon/notificaciones/{opened.public_id}/abrir/")
    unread = client.get("/buzon/notificaciones/?unread=on&q=exceso").content.decode()
    assert "Ninguna notificación coincide" in unread


def test_inbox_queries_do_not_grow_with_notifications(maria):
    factories.deposit(maria)
    client = login(maria)
    with CaptureQueriesContext(connection) as few:
        client.get("/buzon/notificaciones/")
    for _ in range(30):
        factories.deposit(maria)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/buzon/notificaciones/").content.decode()
    assert page.count('class="inbox__link"') == 20
    assert len(many) == len(few) == 11  # pinned: a change here is a decision


def test_download_streams_to_the_owner_with_a_safe_name(maria):
    from mailboxes.inputs import AttachmentInput

    notification = factories.deposit(
        maria, attachments=[AttachmentInput('Resolución "final"\r\n.pdf', factories.pdf_bytes())]
    )
    client = login(maria)
    item = notification.attachments.get()
    url = f"/buzon/notificaciones/{notification.public_id}/adjuntos/{item.public_id}/"
    assert client.get(url).status_code == 302  # open it first
    client.post(f"/buzon/notificaciones/{notification.public_id}/abrir/")
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == factories.pdf_bytes()
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert response["Content-Type"] == "application/pdf"
    assert notification.events.filter(kind=EventKind.ATTACHMENT_DOWNLOADED).count() == 1


def test_another_persons_notification_and_attachment_are_404(maria):
    jose = factories.register(given_names="José", first_surname="Ramírez")
    theirs = factories.deposit(jose, subject="Asunto de José")
    item = theirs.attachments.get()
    client = login(maria)
    base = f"/buzon/notificaciones/{theirs.public_id}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "abrir/").status_code == 404
    assert client.get(f"{base}adjuntos/{item.public_id}/").status_code == 404
    assert "Asunto de José" not in client.get("/buzon/notificaciones/").content.decode()
    theirs.refresh_from_db()
    assert theirs.opened_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_opens_record_one_acuse(reference_data):
    registration = factories.register()
    notification = factories.deposit(registration)
    user = registration.procedure.person.user
    assert user is not None
    # Each request read the notification before any of them opened it.
    at_once(
        lambda stale: open_notification(stale, reader=user, meta=RequestMeta("10.0.0.1", "t")),
        4,
        before=lambda: Notification.objects.get(pk=notification.pk),
    )
    assert Opening.objects.filter(notification=notification).count() == 1
    assert notification.events.filter(kind=EventKind.NOTIFICATION_OPENED).count() == 1


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # Deadline Thursday 10 Dec 2026; 8 and 9 December are holidays.
        ("2026-12-04", "Vence el 10/12/2026 (quedan 2 días hábiles)"),  # Mon 7, Thu 10
        ("2026-12-07", "Vence el 10/12/2026 (queda 1 día hábil)"),
        ("2026-12-10", "Vence hoy, 10/12/2026"),
        ("2026-12-11", "Plazo vencido el 10/12/2026"),
    ],
)
def test_the_countdown_counts_business_days(today, expected):
    from datetime import date

    from django.template import Context, Template

    rendered = Template(
        "{% load buzon_mailbox %}{% countdown deadline today as due %}{{ due.text }}"
    ).render(Context({"deadline": date(2026, 12, 10), "today": date.fromisoformat(today)}))
    assert rendered == expected
