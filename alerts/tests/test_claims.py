"""One alert, one email: however many jobs were queued for it, and whatever happened to them."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone

from alerts.actions import deliver, requeue_stale_alerts
from alerts.models import Alert, Status
from alerts.testing import run_queued_tasks
from evidence.models import EventKind
from tests import factories
from tests.concurrency import at_once
from tests.sockets import free_port

# The deposit's alert job never runs (as if it sat in the queue): the row stays pending.
queued = mock.patch("alerts.tasks.send_alert")


class SlowInbox:
    """A mail server that takes a second to accept each message."""

    def __init__(self) -> None:
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(1.0)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@contextmanager
def slow_smtp(settings: Any) -> Iterator[SlowInbox]:
    """Django's SMTP backend pointed at a SlowInbox on loopback; on leaving, the server first
    finishes what it accepted, so the inbox then holds every message delivered."""
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def test_two_jobs_for_one_alert_send_one_email(reference_data, settings):
    with slow_smtp(settings) as inbox:
        registration = factories.register()
        factories.verified(registration, email="ana@example.org")
        with queued:
            alert = factories.deposit(registration).alerts.get()
        # Two clocks, or a queue more than an hour behind, queue the same alert again, twice.
        with queued as task, time_machine.travel(timezone.now() + timedelta(hours=2)):
            requeue_stale_alerts(timezone.now())
            requeue_stale_alerts(timezone.now())
        assert task.enqueue.call_count == 2
        # Two workers take the jobs at the same moment.
        outcomes = at_once(lambda: deliver(alert.pk), 2)
    assert inbox.recipients == [["ana@example.org"]]
    assert sorted(outcomes) == [Status.SENDING, Status.SENT]  # the other job left it alone
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == (Status.SENT, 1)
    assert alert.notification.events.filter(kind=EventKind.ALERT_SENT).count() == 1


@pytest.mark.django_db
def test_a_lost_retry_goes_out_once_its_backoff_is_long_past(
    smtp, settings, django_capture_on_commit_callbacks
):
    settings.BUZON_ALERT_RETRY_BASE_SECONDS = 60
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with queued:
        alert = factories.deposit(registration).alerts.get()
    down = mock.patch(
        "django.core.mail.EmailMessage.send", side_effect=ConnectionRefusedError("down")
    )
    with queued, down:  # the first attempt fails, and its retry job is lost
        assert deliver(alert.pk) == Status.PENDING
    attempted = Alert.objects.get(pk=alert.pk).last_attempt_at
    assert attempted is not None
    # Within the hour after its retry was due, the clock leaves it to the retry job...
    with time_machine.travel(attempted + timedelta(minutes=45), tick=False):
        assert requeue_stale_alerts(timezone.now()) == 0
    assert smtp.messages == []
    # ...after that, it sends it again: the email arrives, once.
    with time_machine.travel(attempted + timedelta(minutes=62), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert requeue_stale_alerts(timezone.now()) == 1
        run_queued_tasks()
        assert requeue_stale_alerts(timezone.now()) == 0
    assert [m["To"] for m in smtp.messages] == ["ana@example.org"]


class WorkerDied(BaseException):
    """What a killed process looks like from inside: nothing after it runs."""


@pytest.mark.django_db
def test_an_alert_whose_worker_died_mid_attempt_is_sent_by_the_clock(
    smtp, django_capture_on_commit_callbacks
):
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with queued:
        notification = factories.deposit(registration)
    alert = notification.alerts.get()
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        deliver(alert.pk)
    # A second job for it does not send while the claim may still be alive, nor does the clock.
    deliver(alert.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert requeue_stale_alerts(timezone.now()) == 0
    assert smtp.messages == []
    assert Alert.objects.get(pk=alert.pk).status == Status.SENDING
    # ...but the clock's next runs take it back: it is sent once, and the lost attempt counts.
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert requeue_stale_alerts(timezone.now()) == 1
        run_queued_tasks()
        assert requeue_stale_alerts(timezone.now()) == 0
    assert [m["To"] for m in smtp.messages] == ["ana@example.org"]
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == (Status.SENT, 2)
    attempts = notification.events.filter(
        kind__in=[EventKind.ALERT_ATTEMPTED, EventKind.ALERT_SENT]
    ).order_by("id")
    assert [(e.kind, e.data["attempt"], e.data["error"][:11]) for e in attempts] == [
        (EventKind.ALERT_ATTEMPTED, 1, "interrupted"),
        (EventKind.ALERT_SENT, 2, ""),
    ]


@pytest.mark.django_db
def test_an_interrupted_attempt_is_reported_as_unconfirmed_not_as_undelivered(client, smtp):
    """The job died mid-send: the email may have gone out. The constancia and the officer's
    timeline say its outcome is unknown; only a refused message is 'no se pudo entregar'."""
    from django.contrib.auth.models import Group

    from backoffice.groups import NOTIFIERS
    from evidence.actions import issue_certificate

    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with queued:
        notification = factories.deposit(registration, unit="SIN")
    alert = notification.alerts.get()
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        deliver(alert.pk)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):  # the clock takes it back
        with mock.patch("alerts.tasks.send_alert"):
            assert requeue_stale_alerts(timezone.now()) == 1

        _certificate, pdf = issue_certificate(notification, requested_by=None)
        text = " ".join(factories.pdf_text(pdf).split())
        assert "Intento de alerta interrumpido; se reintentará" in text
        assert "Entrega no confirmada" in text
        assert "pudo llegar o no" in text
        assert "No se pudo entregar" not in text
        assert "Intento de alerta fallido" not in text

        officer = factories.unit_officer("sin9", unit="SIN")
        officer.groups.add(Group.objects.get(name=NOTIFIERS))
        client.force_login(officer)
        page = client.get(f"/oficina/notificaciones/{notification.public_id}/").content.decode()
        assert "Intento de alerta interrumpido; se reintentará" in page
        assert "pudo llegar o no" in page
        assert "interrupted:" not in page  # the internal message is not shown


@pytest.mark.django_db
def test_a_refused_attempt_is_still_reported_as_undelivered(smtp):
    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    with queued:
        notification = factories.deposit(registration)
    alert = notification.alerts.get()
    with mock.patch(
        "django.core.mail.EmailMessage.send", side_effect=ConnectionRefusedError("refused")
    ):
        deliver(alert.pk)
    from evidence.actions import issue_certificate

    _certificate, pdf = issue_certificate(notification, requested_by=None)
    text = " ".join(factories.pdf_text(pdf).split())
    assert "Intento de alerta fallido; se reintentará" in text
    assert "No se pudo entregar" in text
    assert "Entrega no confirmada" not in text
