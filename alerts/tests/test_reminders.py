"""Reminders as the person receives them: what arrives, and when nothing should."""

from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from alerts.actions import deliver, send_reminders
from alerts.models import Alert, Purpose, Status
from alerts.testing import run_queued_tasks
from backoffice.groups import NOTIFIERS
from corrections.tests.helpers import answer_every_item, correction
from evidence.models import EventKind
from legaltime.actions import declare_non_working_day, withdraw_non_working_day
from mailboxes.actions import RequestMeta, open_notification
from tests import factories

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")
META = RequestMeta(None, "")
# The reminder's job waits in the queue (the test runs it when the story says so).
queued = mock.patch("alerts.tasks.send_alert")


def at(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=LIMA)


def remind(today, captured, hour=9):
    """The hourly run on `today` (daytime), then the queued jobs, at that moment."""
    with time_machine.travel(at(today.year, today.month, today.day, hour), tick=False):
        with captured(execute=True):
            created = send_reminders(today)
        run_queued_tasks()
    return created


def paragraphs(message):
    return message.get_content().replace("\r\n", "\n").strip().split("\n\n")


def test_a_deadline_reminder_reads_as_a_letter(smtp, settings, django_capture_on_commit_callbacks):
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with time_machine.travel(at(2026, 12, 4), tick=False):  # Friday
        notification = factories.deposit(registration, kind="correction")
    assert remind(date(2026, 12, 7), django_capture_on_commit_callbacks) == 1
    [message] = smtp.messages
    assert str(message["Subject"]).strip() == "Un plazo de su Buzón Electrónico vence pronto"
    greeting, lead, *_rest = paragraphs(message)
    assert greeting == "Hola, María Alejandra:"
    assert lead == (
        f"El plazo para responder a una notificación de {notification.unit.name} vence el "
        "10/12/2026."
    )


def test_an_unopened_reminder_reads_as_a_letter(smtp, settings, django_capture_on_commit_callbacks):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with time_machine.travel(at(2026, 11, 30), tick=False):  # deemed served on 10 December
        notification = factories.deposit(registration)
    assert remind(date(2026, 12, 7), django_capture_on_commit_callbacks) == 1
    [message] = smtp.messages
    _greeting, lead, *_rest = paragraphs(message)
    assert lead.startswith(
        f"Tiene una notificación de {notification.unit.name} sin abrir. Si no la abre, el "
        "10/12/2026 se considerará notificada"
    )


@pytest.mark.parametrize(
    ("policy", "kind", "deposited", "reminded", "says"),
    [
        (
            "on_deposit",
            "correction",
            at(2026, 12, 4),  # Friday: the correction's deadline is Thursday 10 December
            date(2026, 12, 7),
            "un plazo en su Buzón vence el 10/12/2026",
        ),
        (
            "on_opening_or_after_business_days:5",
            "approval",
            at(2026, 11, 30),
            date(2026, 12, 7),
            "una notificación sin abrir en su Buzón se considerará notificada el 10/12/2026",
        ),
        (
            "on_opening_or_after_calendar_days:10",
            "approval",
            at(2026, 12, 2),  # ten days later is Saturday 12 December
            date(2026, 12, 11),
            "una notificación sin abrir en su Buzón se considerará rechazada el 12/12/2026",
        ),
    ],
)
def test_a_reminder_sms_says_what_is_due_and_when_and_nothing_else(
    sms_gateway,
    settings,
    django_capture_on_commit_callbacks,
    policy,
    kind,
    deposited,
    reminded,
    says,
):
    settings.BUZON_NOTIFICATION_POLICY = policy
    settings.PUBLIC_BASE_URL = "https://casilla.migraciones.gob.pe"
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    with time_machine.travel(deposited, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            factories.deposit(
                registration, kind=kind, subject="Resolución sobre su CPP", body="Reservado"
            )
        run_queued_tasks()
    assert remind(reminded, django_capture_on_commit_callbacks) == 1
    (to, new), (to_again, reminder) = sms_gateway.messages
    assert to == to_again == "+51987654321"
    assert new == (
        "MIGRACIONES: tiene una notificación en su Buzón Electrónico. Ingrese en "
        "https://casilla.migraciones.gob.pe/buzon/ingresar/"
    )
    assert reminder == (
        f"MIGRACIONES: {says}. Ingrese en https://casilla.migraciones.gob.pe/buzon/ingresar/"
    )
    assert len(reminder) <= 160  # short, even with a real address


def officer_sees(notification):
    """The alerts table of the officer's timeline page, as text."""
    officer = factories.officer("notificador1", NOTIFIERS)
    notification.unit.members.add(officer)
    client = Client()
    client.force_login(officer)
    page = client.get(f"/oficina/notificaciones/{notification.public_id}/").content.decode()
    return page[page.index(">Alertas</h2>") :]


def test_an_unopened_reminder_is_not_sent_once_the_notification_is_opened(smtp, settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_opening_or_after_business_days:5"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with time_machine.travel(at(2026, 11, 30), tick=False):  # deemed served on 10 December
        notification = factories.deposit(registration)
    with queued, time_machine.travel(at(2026, 12, 7, 8, 0), tick=False):
        assert send_reminders(date(2026, 12, 7)) == 1  # its job waits in the queue...
    reminder = Alert.objects.get(purpose=Purpose.UNOPENED_SOON)
    with time_machine.travel(at(2026, 12, 7, 8, 5), tick=False):  # ...the person opens it...
        open_notification(notification, reader=notification.person.user, meta=META)
    with time_machine.travel(at(2026, 12, 7, 8, 10), tick=False):  # ...then the job runs.
        deliver(reminder.pk)
        deliver(reminder.pk)  # and a second job for it
    assert smtp.messages == []
    reminder.refresh_from_db()
    assert reminder.status == Status.SKIPPED
    assert reminder.last_error == "skipped: the notification was opened"
    assert not notification.events.filter(kind__startswith="alert_").exists()
    officer_view = officer_sees(notification)
    assert "No enviada: ya no corresponde" in officer_view
    assert "Notificación sin abrir (10/12/2026)" in officer_view  # the date it was about


def test_a_deadline_reminder_is_not_sent_once_the_correction_is_answered(smtp, settings):
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with time_machine.travel(at(2026, 12, 4), tick=False):  # Friday: deadline on the 10th
        notification = correction(registration)
    with queued, time_machine.travel(at(2026, 12, 7, 8, 0), tick=False):
        assert send_reminders(date(2026, 12, 7)) == 1
    with time_machine.travel(at(2026, 12, 7, 8, 5), tick=False):
        answer_every_item(notification)
    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):
        deliver(Alert.objects.get(purpose=Purpose.DEADLINE_SOON).pk)
    assert smtp.messages == []
    assert "No enviada: ya no corresponde" in officer_sees(notification)


def test_a_reminder_whose_retry_comes_too_late_is_not_sent(smtp_down, settings):
    """Attempts fail until the deadline has passed: the retry then sends nothing."""
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with time_machine.travel(at(2026, 12, 4), tick=False):
        factories.deposit(registration, kind="correction")  # the deadline ends on the 10th
    with queued, time_machine.travel(at(2026, 12, 7, 8, 0), tick=False):
        send_reminders(date(2026, 12, 7))
        reminder = Alert.objects.get(purpose=Purpose.DEADLINE_SOON)
        assert deliver(reminder.pk) == Status.PENDING  # the mail server is down
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # up again
    with time_machine.travel(at(2026, 12, 11, 9, 0), tick=False):
        deliver(reminder.pk)
    assert mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.status == Status.SKIPPED
    assert reminder.last_error == "skipped: its date passed (2026-12-10)"


def deadline_moved_by_a_withdrawn_decree(registration):
    """A correction deposited on Friday 11 December while Tuesday the 15th is declared a
    non-working day: its deadline is Wednesday the 16th. Returns the decree and the notification.
    """
    declared, _ = declare_non_working_day(
        date(2026, 12, 15), description="Día no laborable", legal_basis="D.S. 1", actor=None
    )
    with time_machine.travel(at(2026, 12, 11), tick=False):
        notification = factories.deposit(registration, kind="correction")
    assert notification.deadline_date == date(2026, 12, 16)
    return declared, notification


def test_a_deadline_moved_after_its_reminder_gets_a_reminder_of_the_new_date(
    smtp, settings, django_capture_on_commit_callbacks
):
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    declared, notification = deadline_moved_by_a_withdrawn_decree(registration)
    assert remind(date(2026, 12, 14), django_capture_on_commit_callbacks, hour=8) == 1
    # Monday 11:00: the decree is withdrawn, and the deadline is now Tuesday the 15th.
    with time_machine.travel(at(2026, 12, 14, 11, 0), tick=False):
        withdraw_non_working_day(declared, actor=None)
    notification.refresh_from_db()
    assert notification.deadline_date == date(2026, 12, 15)
    # The afternoon's run reminds the person of the new date.
    assert remind(date(2026, 12, 14), django_capture_on_commit_callbacks, hour=14) == 1
    assert remind(date(2026, 12, 14), django_capture_on_commit_callbacks, hour=15) == 0  # once
    lead = f"El plazo para responder a una notificación de {notification.unit.name} vence el"
    assert [paragraphs(m)[1] for m in smtp.messages] == [
        f"{lead} 16/12/2026.",
        f"{lead} 15/12/2026.",
    ]
    # The evidence of each reminder names the date it said.
    sent = notification.events.filter(kind=EventKind.ALERT_SENT).order_by("id")
    assert [e.data["about_date"] for e in sent] == ["2026-12-16", "2026-12-15"]


def test_a_queued_reminder_of_a_date_that_moved_is_skipped(
    smtp, settings, django_capture_on_commit_callbacks
):
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    declared, notification = deadline_moved_by_a_withdrawn_decree(registration)
    with queued, time_machine.travel(at(2026, 12, 14, 8, 0), tick=False):
        assert send_reminders(date(2026, 12, 14)) == 1  # its job waits in the queue
    stale = Alert.objects.get(purpose=Purpose.DEADLINE_SOON)
    with time_machine.travel(at(2026, 12, 14, 11, 0), tick=False):
        withdraw_non_working_day(declared, actor=None)
    assert remind(date(2026, 12, 14), django_capture_on_commit_callbacks, hour=14) == 1
    with time_machine.travel(at(2026, 12, 14, 14, 5), tick=False):
        deliver(stale.pk)  # the old job runs at last
    lead = f"El plazo para responder a una notificación de {notification.unit.name} vence el"
    assert [paragraphs(m)[1] for m in smtp.messages] == [f"{lead} 15/12/2026."]
    stale.refresh_from_db()
    assert stale.status == Status.SKIPPED
    assert stale.last_error == "skipped: its date moved from 2026-12-16 to 2026-12-15"
