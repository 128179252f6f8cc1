"""Every webhook event type comes from the evidence entry of its legal event, for the notifications
of the system that deposited them, and only for those."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction

from api.models import WebhookEvent
from api.tests.test_keys_and_errors import get, key_for, notification_body, post
from api.webhooks import TYPE_OF
from evidence.actions import record_about
from mailboxes.models import Notification
from tests import factories
from tests.sockets import free_port

pytestmark = pytest.mark.django_db


def deposited_by_api(plaintext: str, **overrides: Any) -> Notification:
    registration = overrides.pop("registration", None) or factories.register()
    body = notification_body(registration.procedure.number, **overrides)
    response = post("/notifications", plaintext, body, f"dep-{WebhookEvent.objects.count()}")
    assert response.status_code == 201, response.content
    return Notification.objects.get(public_id=json.loads(response.content)["id"])


def types_of(plaintext: str) -> list[str]:
    return [e["type"] for e in json.loads(get("/events?limit=1000", plaintext).content)["events"]]


@pytest.mark.parametrize(("kind", "expected"), sorted(TYPE_OF.items()))
def test_each_legal_event_of_a_systems_notification_is_a_webhook_event(kind, expected):
    _key, plaintext = key_for("notifications:write", "notifications:read")
    notification = deposited_by_api(plaintext)
    with transaction.atomic():
        record_about(notification, kind, actor=None, data={"ip_address": "203.0.113.9"})
    assert types_of(plaintext)[-1] == expected
    assert "203.0.113.9" not in json.dumps(list(WebhookEvent.objects.values("payload")))


def test_an_officers_notification_makes_no_webhook_event():
    factories.deposit()
    assert not WebhookEvent.objects.exists()


def test_a_payment_and_an_expired_deadline_reach_the_system_that_deposited():
    from datetime import timedelta

    from django.utils import timezone

    from mailboxes.actions import record_expired_deadlines
    from payments.actions import apply_payment
    from payments.models import Debt
    from payments.tests.helpers import BASIS

    _key, plaintext = key_for("notifications:write", "notifications:read", name="multas")
    fine = deposited_by_api(
        plaintext, unit="SFM", kind="fine", subject="Multa", body="Se impone una **multa**.",
        details={"amount": "350.00", "legal_basis": BASIS, "due_date": "2026-12-30"},
    )  # fmt: skip
    debt = Debt.objects.get(notification=fine)
    apply_payment("T-77", debt.payment_code, "350.00", timezone.now(), "pagalo")
    payment = json.loads(get("/events?limit=1000", plaintext).content)["events"][-1]
    assert payment["type"] == "payment_received"
    assert payment["data"]["amount"] == "350.00"
    assert payment["data"]["payment_code"] == debt.payment_code
    answerable = deposited_by_api(plaintext, response_business_days=5)
    assert answerable.deadline_date is not None
    record_expired_deadlines(timezone.now() + timedelta(days=60))
    assert "expired" in types_of(plaintext)


def test_an_alert_that_fails_for_good_reaches_the_system(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.BUZON_ALERT_MAX_ATTEMPTS = 1
    registration = factories.register()
    factories.verified(registration)
    _key, plaintext = key_for("notifications:write", "notifications:read")
    with django_capture_on_commit_callbacks(execute=True):
        deposited_by_api(plaintext, registration=registration)
    events = json.loads(get("/events?limit=1000", plaintext).content)["events"]
    failed = [e for e in events if e["type"] == "alert_failed"]
    assert len(failed) == 1
    assert failed[0]["data"]["channel"] == "email"
    assert "persona@example.org" not in json.dumps(failed[0])  # no contact data
