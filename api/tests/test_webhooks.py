"""Webhooks: a client's events are POSTed signed to its callback URL (a real HTTP server on
loopback here), retried with backoff, logged; and can be read again after a cursor."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from alerts.testing import run_queued_tasks
from api import webhooks
from api.models import ApiClient, DeliveryState, WebhookDelivery, WebhookEvent
from api.tests.test_keys_and_errors import get, key_for, notification_body, post
from api.webhooks import configure_callback, redeliver, rotate_secret, sign, verify_signature
from mailboxes.actions import RequestMeta, open_notification
from mailboxes.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on loopback that keeps what it received and answers each event type with
    the next status in `statuses[type]` (then 204). Per type, because deliveries may
    interleave (they do on RQ)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                queued = receiver.statuses.get(self.headers["Buzon-Event"], [])
                self.send_response(queued.pop(0) if queued else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/buzon/eventos"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def client_with_callback(url: str) -> tuple[ApiClient, str]:
    key, plaintext = key_for("notifications:write", "notifications:read")
    configure_callback(key.client, url, actor=None)
    key.client.refresh_from_db()
    return key.client, plaintext


def deposit_via_api(plaintext: str, idempotency_key: str = "dep-1") -> dict[str, Any]:
    registration = factories.register()
    response = post(
        "/notifications", plaintext, notification_body(registration.procedure.number),
        idempotency_key,
    )  # fmt: skip
    assert response.status_code == 201
    body: dict[str, Any] = json.loads(response.content)
    return body


def test_a_deposit_and_an_opening_reach_the_callback_signed(
    receiver, django_capture_on_commit_callbacks
):
    client, plaintext = client_with_callback(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        created = deposit_via_api(plaintext)
    run_queued_tasks()
    types = [b["type"] for b in receiver.bodies()]
    assert types == ["deposited", "effective"]  # on_deposit policy: effective at once
    headers, raw = receiver.received[0]
    assert verify_signature(client.callback_secret, headers["Buzon-Signature"], raw)
    assert not verify_signature("another-secret", headers["Buzon-Signature"], raw)
    assert not verify_signature(client.callback_secret, headers["Buzon-Signature"], raw + b" ")
    first = receiver.bodies()[0]
    assert first["notification"]["id"] == created["id"]
    assert first["test"] is False
    assert first["cursor"] >= 1
    assert headers["Buzon-Event"] == "deposited"
    # The person opens it in the buzón: the system hears "opened", without their IP or browser.
    notification = Notification.objects.get()
    assert notification.person.user is not None
    with django_capture_on_commit_callbacks(execute=True):
        open_notification(
            notification,
            reader=notification.person.user,
            meta=RequestMeta(ip_address="203.0.113.9", user_agent="Firefox/140"),
        )
    run_queued_tasks()
    opened = receiver.bodies()[-1]
    assert opened["type"] == "opened"
    assert opened["notification"]["state"] == "opened"
    assert "203.0.113.9" not in receiver.received[-1][1].decode()
    assert "Firefox" not in receiver.received[-1][1].decode()
    followed = json.loads(get(f"/notifications/{created['id']}", plaintext).content)
    assert followed["state"] == "opened"
    assert all(d.state == DeliveryState.DELIVERED for d in WebhookDelivery.objects.all())


def test_a_failing_callback_is_retried_then_recorded_as_failed(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.BUZON_WEBHOOK_MAX_ATTEMPTS = 3
    settings.BUZON_WEBHOOK_RETRY_BASE_SECONDS = 0  # retry at once: the test does not wait
    receiver.statuses = {"deposited": [500, 503]}  # two failures, then 204
    _client, plaintext = client_with_callback(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        deposit_via_api(plaintext)
    run_queued_tasks()
    deposited = WebhookDelivery.objects.get(event__type="deposited")
    assert deposited.state == DeliveryState.DELIVERED
    assert deposited.attempts == 3  # 500, 503, then 204
    assert deposited.last_status_code == 204
    # Every attempt carried the same event, freshly signed.
    same = [b for b in receiver.bodies() if b["type"] == "deposited"]
    assert len(same) == 3
    assert len({json.dumps(b) for b in same}) == 1

    receiver.statuses = {"deposited": [500] * 3, "effective": [500] * 3}
    with django_capture_on_commit_callbacks(execute=True):
        deposit_via_api(plaintext, "dep-2")
    run_queued_tasks()
    failed = list(WebhookDelivery.objects.filter(state=DeliveryState.FAILED))
    assert len(failed) == 2  # deposited and effective, each after 3 attempts
    assert {d.attempts for d in failed} == {3}
    assert {d.last_error for d in failed} == {"HTTP 500"}
    # The supervisor fixes the URL and resends from the delivery log: to the new URL.
    receiver.statuses = {}
    client = ApiClient.objects.get()
    configure_callback(client, receiver.url + "/v2", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        for delivery in failed:
            redeliver(delivery)
    run_queued_tasks()
    assert not WebhookDelivery.objects.exclude(state=DeliveryState.DELIVERED).exists()
    assert set(
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in failed]).values_list("url", flat=True)
    ) == {receiver.url + "/v2"}


def test_an_unreachable_callback_never_touches_the_legal_state(
    settings, django_capture_on_commit_callbacks
):
    settings.BUZON_WEBHOOK_MAX_ATTEMPTS = 2
    settings.BUZON_WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.BUZON_WEBHOOK_TIMEOUT_SECONDS = 1
    from tests.sockets import free_port

    _client, plaintext = client_with_callback(f"http://127.0.0.1:{free_port()}/nadie")
    with django_capture_on_commit_callbacks(execute=True):
        created = deposit_via_api(plaintext)
    run_queued_tasks()
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
    assert "ConnectError" in WebhookDelivery.objects.first().last_error
    assert json.loads(get(f"/notifications/{created['id']}", plaintext).content)["state"] == (
        "deposited"
    )


def test_a_client_that_was_down_replays_every_event_after_its_cursor():
    key, plaintext = key_for("notifications:write", "notifications:read")  # no callback URL
    for n in range(3):
        deposit_via_api(plaintext, f"dep-{n}")
    assert not WebhookDelivery.objects.exists()  # nothing to send to, but all kept
    page = json.loads(get("/events?limit=4", plaintext).content)
    assert [e["type"] for e in page["events"]] == ["deposited", "effective"] * 2
    assert page["has_more"] is True
    cursors = [e["cursor"] for e in page["events"]]
    assert cursors == sorted(cursors)
    rest = json.loads(get(f"/events?after={page['next_cursor']}", plaintext).content)
    assert [e["type"] for e in rest["events"]] == ["deposited", "effective"]
    assert rest["has_more"] is False
    end = json.loads(get(f"/events?after={rest['next_cursor']}", plaintext).content)
    assert end == {"events": [], "next_cursor": rest["next_cursor"], "has_more": False}
    # Another system's events are not in this system's stream.
    _other, stranger = key_for("notifications:read", name="otro-sistema")
    assert json.loads(get("/events", stranger).content)["events"] == []
    assert WebhookEvent.objects.filter(client=key.client).count() == 6


def test_an_event_that_commits_late_gets_a_later_cursor():
    """Cursors are given after commit, in commit order: reading after the last cursor seen
    never skips an event whose transaction started earlier but committed later."""
    _key, plaintext = key_for("notifications:write", "notifications:read")
    deposit_via_api(plaintext, "dep-1")
    seen = json.loads(get("/events", plaintext).content)["next_cursor"]
    deposit_via_api(plaintext, "dep-2")
    later = json.loads(get(f"/events?after={seen}", plaintext).content)["events"]
    assert [e["type"] for e in later] == ["deposited", "effective"]
    assert all(e["cursor"] > seen for e in later)


def test_the_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac
    import time

    now = int(time.time())
    body = b'{"type":"opened"}'
    header = sign("s3cret", now, body)
    expected = hmac.new(b"s3cret", f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={now},v1={expected}"
    assert verify_signature("s3cret", header, body)
    stale = sign("s3cret", now - 3600, body)
    assert not verify_signature("s3cret", stale, body)  # a replayed old delivery


def test_callback_urls_are_checked_and_the_secret_can_be_rotated(settings):
    client = ApiClient.objects.create(name="sistema-x")
    with pytest.raises(ValidationError):
        configure_callback(client, "ftp://example.org/x", actor=None)
    with pytest.raises(ValidationError):
        configure_callback(client, "https://user:pw@example.org/x", actor=None)
    settings.BUZON_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationError):
        configure_callback(client, "http://example.org/x", actor=None)
    configure_callback(client, "https://example.org/x", actor=None)
    first = client.callback_secret
    assert len(first) >= 40
    assert rotate_secret(client, actor=None) != first


def test_a_delivery_whose_task_was_lost_is_queued_again_by_the_clock(
    receiver, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    _client, plaintext = client_with_callback(receiver.url)
    deposit_via_api(plaintext)  # the on-commit enqueue never runs: as if the queue were down
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"pending"}
    call_command("deliver_webhooks")
    run_queued_tasks()
    assert receiver.received == []  # not an hour yet: left to its own task
    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(hours=2))
    call_command("deliver_webhooks")
    run_queued_tasks()
    assert sorted(b["type"] for b in receiver.bodies()) == ["deposited", "effective"]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_batchs_many_deliveries_are_queued_by_one_task_and_all_arrive(
    receiver, django_capture_on_commit_callbacks
):
    """The batch request queues one task for its deliveries (not one per delivery, which costs
    the request about half a millisecond each on the database backend); that task queues one
    per delivery, so several workers share them."""
    from django_tasks.signals import task_enqueued, task_finished, task_started

    from api.tests.test_batch_and_test_keys import item

    running = [0]  # tasks running now (the inline backend runs them inside the request)
    by_request: list[str] = []

    def enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
        if not running[0]:
            by_request.append(task_result.task.module_path)

    def started(sender: Any, **kwargs: Any) -> None:
        running[0] += 1

    def finished(sender: Any, **kwargs: Any) -> None:
        running[0] -= 1

    _client, plaintext = client_with_callback(receiver.url)
    numbers = [factories.register().procedure.number for _ in range(6)]
    batch = {"notifications": [item(n, f"cpp-{i}") for i, n in enumerate(numbers)]}
    task_enqueued.connect(enqueued)
    task_started.connect(started)
    task_finished.connect(finished)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = post("/notifications/batch", plaintext, batch, "lote-webhooks")
    finally:
        task_enqueued.disconnect(enqueued)
        task_started.disconnect(started)
        task_finished.disconnect(finished)
    assert json.loads(response.content)["created"] == 6
    assert by_request == ["api.tasks.queue_deliveries"]
    run_queued_tasks()
    deliveries = WebhookDelivery.objects.all()
    assert len(deliveries) == 12 > webhooks.QUEUE_INLINE_UP_TO  # deposited + effective, each
    assert {d.state for d in deliveries} == {DeliveryState.DELIVERED}
    heard = sorted((b["notification"]["procedure_number"], b["type"]) for b in receiver.bodies())
    assert heard == sorted((n, t) for n in numbers for t in ("deposited", "effective"))


@pytest.mark.django_db(transaction=True)
def test_a_queue_outage_after_commit_keeps_the_deposit_and_its_files(receiver, monkeypatch):
    """Queuing webhooks runs after the deposit committed; if the queue is down, the legal
    deposit and its files stay, and the clock queues the deliveries later."""
    factories.ensure_reference_data()

    class QueueDown:
        @staticmethod
        def enqueue(*args: Any, **kwargs: Any) -> None:
            raise ConnectionError("queue down")

    monkeypatch.setattr("api.tasks.deliver_webhook", QueueDown)
    _client, plaintext = client_with_callback(receiver.url)
    created = deposit_via_api(plaintext)
    notification = Notification.objects.get(public_id=created["id"])
    attachment = notification.attachments.get()
    assert attachment.file.storage.exists(str(attachment.file.name))
    assert WebhookDelivery.objects.filter(state="pending").count() == 2


def test_a_delivery_goes_to_the_current_url_and_stops_when_it_is_removed(
    receiver, settings, django_capture_on_commit_callbacks
):
    client, plaintext = client_with_callback("https://old.example.invalid/hook")
    deposit_via_api(plaintext)  # queued to the old URL, not yet sent
    configure_callback(client, receiver.url, actor=None)  # the supervisor fixes it
    from api.webhooks import deliver

    first = WebhookDelivery.objects.order_by("pk").first()
    assert first is not None
    assert deliver(first.pk) == "delivered"
    assert len(receiver.received) == 1
    configure_callback(client, "", actor=None)  # and later removes it
    second = WebhookDelivery.objects.order_by("pk").last()
    assert second is not None
    assert deliver(second.pk) == "failed"
    second.refresh_from_db()
    assert second.last_error == "callback URL removed"
    assert len(receiver.received) == 1


def _stored_bytes(table: str) -> bytes:
    """Every column of every row of `table`, as a database dump would have them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (a fixed table name)
        rows = cursor.fetchall()
    return b"|".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for row in rows
        for value in row
    )


def test_the_signing_secret_is_not_in_the_database_in_the_clear():
    client = ApiClient.objects.create(name="sistema-x")
    configure_callback(client, "https://example.org/x", actor=None)
    secret = ApiClient.objects.get(pk=client.pk).callback_secret
    assert len(secret) >= 40
    assert secret.encode() not in _stored_bytes(ApiClient._meta.db_table)
    rotated = rotate_secret(client, actor=None)
    assert ApiClient.objects.get(pk=client.pk).callback_secret == rotated != secret
    assert rotated.encode() not in _stored_bytes(ApiClient._meta.db_table)


def test_a_secret_sealed_under_another_key_stops_deliveries_until_it_is_rotated(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.BUZON_WEBHOOK_MAX_ATTEMPTS = 5
    client, plaintext = client_with_callback(receiver.url)
    settings.FILE_ENCRYPTION_KEY = "a-new-key-the-secret-was-not-sealed-under"
    with django_capture_on_commit_callbacks(execute=True):
        deposit_via_api(plaintext)
    run_queued_tasks()
    assert receiver.received == []  # nothing goes out unsigned, or signed with something else
    failed = WebhookDelivery.objects.filter(state=DeliveryState.FAILED)
    assert failed.count() == 2
    for delivery in failed:  # at once: no retry could succeed before a rotation
        assert delivery.attempts == settings.BUZON_WEBHOOK_MAX_ATTEMPTS
        assert "BUZON_FILE_ENCRYPTION_KEY" in delivery.last_error
        assert "rotate the signing secret" in delivery.last_error
    # Saving the URL again keeps the (unreadable) secret: only a rotation replaces it.
    configure_callback(client, receiver.url, actor=None)
    client.refresh_from_db()
    new = rotate_secret(client, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        redeliver(WebhookDelivery.objects.filter(state=DeliveryState.FAILED).earliest("pk"))
    run_queued_tasks()
    headers, raw = receiver.received[-1]
    assert verify_signature(new, headers["Buzon-Signature"], raw)


def _migrate(target: list[tuple[str, str]]) -> Any:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_the_migrations_seal_the_secrets_stored_in_the_clear_and_back(transactional_db):
    clear, sealed = [("api", "0003_webhooks")], [("api", "0006_remove_apiclient_callback_secret")]
    try:
        old = _migrate(clear).get_model("api", "ApiClient")
        old.objects.create(
            name="sistema-antiguo", callback_url="https://example.org/x", callback_secret="s" * 43
        )
        old.objects.create(name="sin-webhook")
        _migrate(sealed)
        assert ApiClient.objects.get(name="sistema-antiguo").callback_secret == "s" * 43
        assert ApiClient.objects.get(name="sin-webhook").callback_secret == ""
        assert b"s" * 43 not in _stored_bytes(ApiClient._meta.db_table)
        old = _migrate(clear).get_model("api", "ApiClient")  # and back, for a rollback
        assert dict(old.objects.values_list("name", "callback_secret")) == {
            "sistema-antiguo": "s" * 43,
            "sin-webhook": "",
        }
    finally:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
