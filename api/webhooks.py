"""Webhooks: a client's events, written as an outbox in the transaction of the evidence entry
they mirror, given a cursor after commit, and POSTed signed to the client's callback URL with
retries and backoff. A client that was down reads what it missed with GET /api/v1/events.

Signature (docs/api.md): `Buzon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC
keyed with the client's secret over `<t>.<body>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alerts.actions import retry_later
from api.models import (
    ApiClient,
    DeliveryState,
    WebhookDelivery,
    WebhookEvent,
    WebhookSequence,
    WebhookType,
)
from buzon.secretbox import UnreadableError
from evidence.models import Event, EventKind

TYPE_OF: dict[str, WebhookType] = {
    EventKind.NOTIFICATION_DEPOSITED: WebhookType.DEPOSITED,
    EventKind.NOTIFICATION_EFFECTIVE: WebhookType.EFFECTIVE,
    EventKind.NOTIFICATION_OPENED: WebhookType.OPENED,
    EventKind.NOTIFICATION_ANSWERED: WebhookType.ANSWERED,
    EventKind.DEADLINE_EXPIRED: WebhookType.EXPIRED,
    EventKind.NOTIFICATION_DEEMED_REJECTED: WebhookType.DEEMED_REJECTED,
    EventKind.ALERT_FAILED: WebhookType.ALERT_FAILED,
    EventKind.PAYMENT_RECEIVED: WebhookType.PAYMENT_RECEIVED,
}
# What of an entry's data a client gets: never the person's IP, user agent or contact data.
SHARED_DATA = (
    "rule",
    "effective_date",
    "deadline_date",
    "channel",
    "purpose",
    "attempt",
    "transaction_id",
    "source",
    "payment_code",
    "debt",
    "installment",
    "amount",
    "paid_at",
    "outcome",
    "flag",
    "deadline_expired",  # an answer's [true, false]: it undid an expiry recorded after it arrived
)
SIGNATURE_HEADER = "Buzon-Signature"
log = logging.getLogger(__name__)
CURSOR_BATCH = 5000
STALLED_AFTER = timedelta(hours=1)


def _payload(event: Event, kind: WebhookType) -> dict[str, Any]:
    notification = event.notification
    assert notification is not None
    data = event.data
    return {
        "type": kind.value,
        "occurred_at": event.occurred_at.isoformat(),
        "test": notification.person.is_test,
        "notification": {
            "id": str(notification.public_id),
            "procedure_number": notification.procedure.number,
            "kind": notification.kind,
            "state": notification.state,
            "effective_date": _iso(notification.effective_date),
            "deadline_date": _iso(notification.deadline_date),
        },
        "evidence": {"lane": event.lane, "seq": event.seq, "hash": event.hash},
        "data": {k: data[k] for k in SHARED_DATA if k in data},
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def on_events_recorded(sender: Any, events: list[Event], **kwargs: Any) -> None:
    """Receiver of evidence.signals.events_recorded: the outbox rows, in the same
    transaction. Only for a notification of a unit its client acts for (ApiClient.units):
    one whose unit was taken from the client since it deposited it sends nothing more."""
    mine = [
        (e, TYPE_OF[e.kind])
        for e in events
        if e.kind in TYPE_OF and e.notification is not None and e.notification.api_client_id
    ]
    if not mine:
        return
    allowed = _units_of(
        {n.api_client_id for e, _k in mine if (n := e.notification) and n.api_client_id}
    )
    mine = [
        (e, kind)
        for e, kind in mine
        if e.notification is not None
        and (e.notification.api_client_id, e.notification.unit_id) in allowed
    ]
    if not mine:
        return
    clients = ApiClient.objects.in_bulk({e.notification.api_client_id for e, _k in mine})  # type: ignore[union-attr]
    rows = [
        WebhookEvent(
            client=clients[e.notification.api_client_id],  # type: ignore[union-attr]
            type=kind,
            notification=e.notification,
            evidence=e,
            occurred_at=e.occurred_at,
            payload=_payload(e, kind),
        )
        for e, kind in mine
    ]
    WebhookEvent.objects.bulk_create(rows)
    deliveries = [
        WebhookDelivery(event=row, url=row.client.callback_url)
        for row in rows
        if row.client.callback_url
    ]
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue(ids), robust=True)


# A commit with more deliveries than this (a batch deposit makes two per notification) has
# them queued by a task of its own: queuing one costs about half a millisecond on the database
# backend, which a 1,000-item batch request would otherwise spend after its commit.
QUEUE_INLINE_UP_TO = 10


def _enqueue(ids: list[int]) -> None:
    """Queue the deliveries. Runs after the deposit committed: a queue that is down must not
    turn a committed legal deposit into an error (requeue_stalled() sends them later)."""
    if len(ids) <= QUEUE_INLINE_UP_TO:
        queue_each(ids)
        return
    from api.tasks import queue_deliveries

    try:
        queue_deliveries.enqueue(ids)
    except Exception:
        log.exception("%d webhook deliveries not queued; the clock will queue them again", len(ids))


def queue_each(ids: list[int]) -> None:
    """One deliver_webhook task per delivery, so that several workers share them."""
    from api.tasks import deliver_webhook

    for pk in ids:
        try:
            deliver_webhook.enqueue(pk)
        except Exception:
            log.exception("webhook delivery %s not queued; the clock will queue it again", pk)
            return


def assign_cursors() -> int:
    """Number the committed events that have no cursor yet, in id order, after the last
    cursor given. Serialised on one row, after commit: an event that committed late gets a
    cursor above every one given before, so reading `cursor > n` never skips it."""
    total = 0
    while True:
        with transaction.atomic():
            sequence, _created = WebhookSequence.objects.select_for_update().get_or_create(pk=1)
            pending = list(
                WebhookEvent.objects.filter(cursor__isnull=True).order_by("id")[:CURSOR_BATCH]
            )
            if not pending:
                return total
            for offset, row in enumerate(pending, start=1):
                row.cursor = sequence.last + offset
            WebhookEvent.objects.bulk_update(pending, ["cursor"], batch_size=1000)
            sequence.last += len(pending)
            sequence.save(update_fields=["last"])
            total += len(pending)


def body_for(event: WebhookEvent) -> bytes:
    """What is POSTed and what GET /events lists: the event with its cursor."""
    return json.dumps(
        {"cursor": event.cursor, **event.payload}, separators=(",", ":"), ensure_ascii=False
    ).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a client does with a delivery (docs/api.md shows the same in a few lines)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def deliver(delivery_id: int) -> str:
    """One attempt to POST a delivery. The network call is outside any transaction; a
    delivered or failed delivery is left alone. 2xx is delivered; anything else, or no answer,
    is retried with backoff up to BUZON_WEBHOOK_MAX_ATTEMPTS, then failed. With no URL, or a
    signing secret that cannot be decrypted, it fails at once: no retry could succeed."""
    delivery = WebhookDelivery.objects.select_related("event__client").get(pk=delivery_id)
    if delivery.state != DeliveryState.PENDING:
        return delivery.state
    if delivery.event.cursor is None:
        assign_cursors()
        delivery.event.refresh_from_db(fields=["cursor"])
    client = delivery.event.client
    # Always the client's current URL: one a supervisor replaced or removed gets nothing more.
    url = client.callback_url
    body = body_for(delivery.event)
    status: int | None = None
    error = "" if url else "callback URL removed"
    if url and not _of_its_units(delivery.event):
        # The unit was taken from the client after the event was written: it gets no more.
        url, error = "", "the notification's unit is no longer one of this client's"
    hopeless = not url  # no retry can succeed: failed now (resendable once fixed)
    secret = ""
    if url:
        try:
            secret = client.callback_secret
        except UnreadableError as exc:
            error, hopeless = f"{exc}; rotate the signing secret", True
    if url and not hopeless:
        try:
            with httpx.stream(  # the answer's body is never read
                "POST",
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "Buzon-Webhooks/1",
                    "Buzon-Event": delivery.event.type,
                    "Buzon-Delivery": str(delivery.pk),
                    SIGNATURE_HEADER: sign(secret, int(time.time()), body),
                },
                timeout=settings.BUZON_WEBHOOK_TIMEOUT_SECONDS,
                follow_redirects=False,
            ) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as exc:  # any failure is an attempt, never a stuck delivery
            error = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if locked.state != DeliveryState.PENDING:
            return locked.state
        locked.url = url or locked.url
        if hopeless:
            locked.attempts = settings.BUZON_WEBHOOK_MAX_ATTEMPTS - 1  # failed now, resendable
        locked.attempts += 1
        locked.last_attempt_at = timezone.now()
        locked.last_status_code = status
        locked.last_error = error
        if not error:
            locked.state = DeliveryState.DELIVERED
            locked.delivered_at = locked.last_attempt_at
        elif locked.attempts >= settings.BUZON_WEBHOOK_MAX_ATTEMPTS:
            locked.state = DeliveryState.FAILED
        locked.save()
    if locked.state == DeliveryState.PENDING:
        from api.tasks import deliver_webhook

        retry_later(
            deliver_webhook,
            delivery_id,
            locked.attempts,
            base_seconds=settings.BUZON_WEBHOOK_RETRY_BASE_SECONDS,
        )
    return locked.state


def _units_of(client_ids: set[int]) -> set[tuple[int | None, int]]:
    """(client, unit) for every unit these clients act for: one query."""
    through = ApiClient.units.through
    return set(
        through.objects.filter(apiclient_id__in=client_ids).values_list(
            "apiclient_id", "issuingunit_id"
        )
    )


def _of_its_units(event: WebhookEvent) -> bool:
    """Whether the event's notification is of a unit its client acts for now."""
    return WebhookEvent.objects.filter(
        pk=event.pk, notification__unit__api_clients=models.F("client")
    ).exists()


def requeue_stalled(now: datetime | None = None) -> int:
    """Queue again the pending deliveries whose task was lost (the queue was down, a worker
    died): none was attempted for an hour beyond its backoff. Run by `deliver_webhooks` from
    the clock. A delivery is at-least-once, so a rare second send is harmless."""
    now = now or timezone.now()
    base = settings.BUZON_WEBHOOK_RETRY_BASE_SECONDS
    stalled = [
        d.pk
        for d in WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING, created_at__lt=now - STALLED_AFTER
        ).only("pk", "attempts", "last_attempt_at", "created_at")
        if (d.last_attempt_at or d.created_at)
        < now - STALLED_AFTER - timedelta(seconds=base * 2 ** max(d.attempts - 1, 0))
    ]
    _enqueue(stalled)
    return len(stalled)


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again (a button in the delivery log), with a fresh count, to the
    client's current callback URL (a supervisor who fixed a wrong URL resends to the new one)."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state == DeliveryState.FAILED:
            current = ApiClient.objects.get(events=locked.event_id).callback_url
            locked.state = DeliveryState.PENDING
            locked.attempts = 0
            locked.url = current or locked.url
            locked.save(update_fields=["state", "attempts", "url"])
            transaction.on_commit(lambda: _enqueue([locked.pk]), robust=True)
    return locked


def check_callback_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ValidationError(
            {"callback_url": [_("Escriba una URL completa, por ejemplo https://…")]}
        ) from None
    parts = urlsplit(url)
    if parts.scheme != "https" and not settings.BUZON_WEBHOOK_ALLOW_HTTP:
        raise ValidationError({"callback_url": [_("La URL debe usar https.")]})
    if parts.username or parts.password:
        raise ValidationError({"callback_url": [_("La URL no debe llevar usuario ni contraseña.")]})
    return url


def configure_callback(client: ApiClient, url: str, *, actor: User | None) -> ApiClient:
    """Set (or clear, with "") the callback URL. The signing secret is made the first time
    and kept when the URL changes; rotate_secret() replaces it."""
    client.callback_url = check_callback_url(url)
    if client.callback_url and not client.sealed_callback_secret:  # an unreadable one stays
        client.callback_secret = secrets.token_urlsafe(32)
    client.save(update_fields=["callback_url", "sealed_callback_secret"])
    log.info("callback URL of %s set to %r by %s", client, client.callback_url, actor)
    return client


def rotate_secret(client: ApiClient, *, actor: User | None) -> str:
    secret = client.callback_secret = secrets.token_urlsafe(32)
    client.save(update_fields=["sealed_callback_secret"])
    log.info("signing secret of %s rotated by %s", client, actor)
    return secret
