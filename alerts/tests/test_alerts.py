import pytest

from alerts.actions import deliver
from alerts.models import Alert, Status
from alerts.testing import run_queued_tasks
from evidence.models import EventKind
from tests import factories

pytestmark = pytest.mark.django_db


def deposit_with_alerts(django_capture_on_commit_callbacks, **contact):
    registration = factories.register()
    factories.verified(registration, **contact)
    with django_capture_on_commit_callbacks(execute=True):
        notification = factories.deposit(
            registration, subject="Resolución que aprueba su CPP", body="Contenido reservado"
        )
    run_queued_tasks()
    return notification


def test_an_email_alert_arrives_over_smtp_without_the_content(
    smtp, django_capture_on_commit_callbacks
):
    notification = deposit_with_alerts(django_capture_on_commit_callbacks, email="ana@example.org")
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "ana@example.org"
    assert str(message["Subject"]).strip() == "Tiene una nueva notificación en su Buzón Electrónico"
    body = message.get_content()
    assert "Subgerencia de Inmigración y Nacionalización depositó una notificación" in body
    assert "/buzon/ingresar/" in body
    assert "Contenido reservado" not in body
    assert "Resolución que aprueba" not in body
    alert = notification.alerts.get()
    assert alert.status == Status.SENT
    assert alert.attempts == 1
    sent = notification.events.get(kind=EventKind.ALERT_SENT)
    assert sent.data["destination"] == "ana@example.org"


def test_an_sms_alert_goes_through_the_backend(smtp, django_capture_on_commit_callbacks, caplog):
    caplog.set_level("INFO", logger="buzon.sms")
    notification = deposit_with_alerts(
        django_capture_on_commit_callbacks, email="", phone="+51987654321"
    )
    alert = notification.alerts.get()
    assert alert.channel == "sms"
    assert alert.status == Status.SENT
    assert "SMS to +51987654321" in caplog.text
    assert "Contenido reservado" not in caplog.text


def test_an_outage_fails_after_bounded_retries_and_leaves_the_legal_state_intact(
    smtp_down, settings, django_capture_on_commit_callbacks
):
    settings.BUZON_ALERT_MAX_ATTEMPTS = 3
    settings.BUZON_ALERT_RETRY_BASE_SECONDS = 0  # retry at once: the test does not wait
    notification = deposit_with_alerts(django_capture_on_commit_callbacks, email="ana@example.org")
    alert = notification.alerts.get()
    assert alert.status == Status.FAILED
    assert alert.attempts == 3
    assert "ConnectionRefusedError" in alert.last_error
    attempts = notification.events.filter(
        kind__in=[EventKind.ALERT_ATTEMPTED, EventKind.ALERT_FAILED]
    ).order_by("id")
    assert [(e.kind, e.data["attempt"], e.data["final"]) for e in attempts] == [
        (EventKind.ALERT_ATTEMPTED, 1, False),
        (EventKind.ALERT_ATTEMPTED, 2, False),
        (EventKind.ALERT_FAILED, 3, True),
    ]
    before = (notification.state, notification.effective_date, notification.deadline_date)
    notification.refresh_from_db()
    assert (notification.state, notification.effective_date, notification.deadline_date) == before
    assert notification.state == "deposited"


def test_delivering_twice_sends_once(smtp, django_capture_on_commit_callbacks):
    notification = deposit_with_alerts(django_capture_on_commit_callbacks, email="ana@example.org")
    alert = notification.alerts.get()
    assert deliver(alert.pk) == Status.SENT
    assert len(smtp.messages) == 1
    assert Alert.objects.get(pk=alert.pk).attempts == 1
