"""Reminders as the person receives them: what arrives, and when nothing should."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from alerts.actions import send_reminders
from alerts.testing import run_queued_tasks
from tests import factories

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")


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
