"""An API client acts only for its issuing units (ApiClient.units), as an officer does: it
deposits only in their name and reads, replays and receives by webhook only their
notifications. Through the real HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client

from alerts.testing import run_queued_tasks
from api.models import ApiClient, WebhookDelivery, WebhookEvent
from api.tests.test_keys_and_errors import get, key_for, notification_body, post, problem_of
from api.tests.test_webhooks import Receiver, receiver  # noqa: F401 (a fixture)
from api.webhooks import configure_callback, deliver
from evidence.models import Event
from mailboxes.actions import RequestMeta, open_notification
from mailboxes.models import Attachment, IssuingUnit, Notification
from tests import factories

pytestmark = pytest.mark.django_db


def stored_files() -> list[Path]:
    root = Path(default_storage.path("notifications"))
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def nothing_written() -> bool:
    return (
        not Notification.objects.exists()
        and not Attachment.objects.exists()
        and not Event.objects.filter(notification__isnull=False).exists()
        and not WebhookEvent.objects.exists()
        and not stored_files()
    )


def multipart_deposit(key: str, meta: dict[str, Any], idempotency_key: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("resolucion.pdf", factories.pdf_bytes(), "application/pdf")
    return Client().post(
        "/api/v1/notifications",
        {"notification": json.dumps(meta | {"attachments": []}), "attachments": [pdf]},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )


def test_a_client_cannot_deposit_in_the_name_of_a_unit_it_does_not_act_for():
    number = factories.register().procedure.number
    _key, cpp = key_for("notifications:write", name="sistema-cpp", units=("SIN",))
    fines = post("/notifications", cpp, notification_body(number, unit="SFM"), "multa-1")
    assert fines.status_code == 422
    refused = problem_of(fines)
    assert [e["field"] for e in refused["errors"]] == ["unit"]
    # The same answer as for a unit that does not exist: nothing to learn by probing codes.
    unknown = problem_of(post("/notifications", cpp, notification_body(number, unit="XYZ"), "x"))
    assert unknown["errors"] == refused["errors"]
    assert unknown["detail"] == refused["detail"]
    multipart = multipart_deposit(cpp, notification_body(number, unit="SFM"), "multa-2")
    assert multipart.status_code == 422
    assert problem_of(multipart)["errors"] == refused["errors"]
    assert nothing_written()
    # Its own unit goes through, with the same key.
    assert post("/notifications", cpp, notification_body(number), "propia").status_code == 201


def test_a_batch_refuses_only_the_items_of_units_the_client_does_not_act_for():
    number = factories.register().procedure.number
    _key, cpp = key_for("notifications:write", name="sistema-cpp", units=("SIN",))
    batch = {
        "notifications": [
            notification_body(number, reference="a", unit="SIN"),
            notification_body(number, reference="b", unit="SFM"),
            notification_body(number, reference="c", unit="SIN"),
        ]
    }
    response = post("/notifications/batch", cpp, batch, "lote-1")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert [r["status"] for r in body["results"]] == ["created", "refused", "created"]
    assert [e["field"] for e in body["results"][1]["errors"]] == ["unit"]
    assert sorted(Notification.objects.values_list("unit__code", flat=True)) == ["SIN", "SIN"]
    # Multipart, the same rule: the refused item's file is not written.
    from django.core.files.uploadedfile import SimpleUploadedFile

    files_before = len(stored_files())
    meta = {
        "notifications": [
            notification_body(number, reference="d", unit="SFM", attachments=[]),
            notification_body(number, reference="e", unit="SIN", attachments=[]),
        ]
    }
    pdfs = {
        f"attachments.{i}": SimpleUploadedFile(
            f"r{i}.pdf", factories.pdf_bytes(), "application/pdf"
        )
        for i in range(2)
    }
    multipart = Client().post(
        "/api/v1/notifications/batch",
        {"notifications": json.dumps(meta), **pdfs},
        headers={"Authorization": f"Bearer {cpp}", "Idempotency-Key": "lote-2"},
    )
    results = json.loads(multipart.content)["results"]
    assert [r["status"] for r in results] == ["refused", "created"]
    assert results[0]["errors"][0]["field"] == "unit"
    assert len(stored_files()) == files_before + 1
    assert not Notification.objects.filter(unit__code="SFM").exists()


def test_a_client_with_no_units_can_neither_deposit_nor_read():
    number = factories.register().procedure.number
    key, cpp = key_for("notifications:write", "notifications:read", name="sistema-cpp")
    created = json.loads(post("/notifications", cpp, notification_body(number), "d-1").content)
    key.client.units.clear()  # an operator took every unit away
    for response in (
        post("/notifications", cpp, notification_body(number), "d-2"),
        post("/notifications/batch", cpp, {"notifications": [notification_body(number,
                                                                                 reference="r")]},
             "d-3"),
        get(f"/notifications/{created['id']}", cpp),
        get("/events", cpp),
    ):  # fmt: skip
        assert response.status_code == 403
        assert problem_of(response)["type"].endswith("/no-units")
    assert Notification.objects.count() == 1
    assert json.loads(get("/me", cpp).content)["units"] == []


def test_a_notification_of_a_unit_taken_from_the_client_is_not_found():
    registration = factories.register()
    number = registration.procedure.number
    key, cpp = key_for("notifications:write", "notifications:read", name="sistema-cpp")
    created = json.loads(post("/notifications", cpp, notification_body(number), "d-1").content)
    fine = post("/notifications", cpp, notification_body(number, unit="SFM"), "d-2")
    fine_id = json.loads(fine.content)["id"]
    assert get(f"/notifications/{fine_id}", cpp).status_code == 200
    # The operator narrows the client to SIN: the SFM notification is gone for it, as one that
    # never existed, everywhere it could be read.
    key.client.units.set(IssuingUnit.objects.filter(code="SIN"))
    hidden = get(f"/notifications/{fine_id}", cpp)
    missing = get("/notifications/00000000-0000-0000-0000-000000000000", cpp)
    assert hidden.status_code == missing.status_code == 404
    assert problem_of(hidden) == problem_of(missing)
    assert get(f"/notifications/{fine_id}/certificate", cpp).status_code == 404
    person = registration.procedure.person
    listed = json.loads(
        get(f"/persons/{person.doc_type}/{person.doc_number}/notifications", cpp).content
    )
    assert [n["id"] for n in listed["notifications"]] == [created["id"]]
    events = json.loads(get("/events", cpp).content)["events"]
    assert {e["notification"]["id"] for e in events} == {created["id"]}
    assert get(f"/notifications/{created['id']}", cpp).status_code == 200


def test_webhooks_reach_a_client_only_for_its_units(
    receiver: Receiver,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
):
    registration = factories.register()
    number = registration.procedure.number
    key, cpp = key_for("notifications:write", "notifications:read", name="sistema-cpp")
    configure_callback(key.client, receiver.url, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        own = json.loads(post("/notifications", cpp, notification_body(number), "d-1").content)
        post("/notifications", cpp, notification_body(number, unit="SFM"), "d-2")
    run_queued_tasks()
    assert len(receiver.received) == 4  # deposited and effective, for each
    # Narrowed to SIN: the person opens both, and the client hears only of its SIN one.
    key.client.units.set(IssuingUnit.objects.filter(code="SIN"))
    assert person_opens_everything(registration, django_capture_on_commit_callbacks) == 2
    run_queued_tasks()
    opened = [b for b in receiver.bodies() if b["type"] == "opened"]
    assert [b["notification"]["id"] for b in opened] == [own["id"]]


def person_opens_everything(registration: Any, capture: Any) -> int:
    user = registration.procedure.person.user
    notifications = list(Notification.objects.filter(person=registration.procedure.person))
    with capture(execute=True):
        for notification in notifications:
            open_notification(
                notification, reader=user, meta=RequestMeta(ip_address=None, user_agent="Firefox")
            )
    return len(notifications)


def test_a_pending_delivery_of_a_unit_taken_away_is_not_sent(receiver: Receiver):  # noqa: F811
    number = factories.register().procedure.number
    key, cpp = key_for("notifications:write", name="sistema-cpp")
    configure_callback(key.client, receiver.url, actor=None)
    # Deposited while the client acted for SFM; its deliveries wait in the queue.
    post("/notifications", cpp, notification_body(number, unit="SFM"), "d-1")
    assert WebhookDelivery.objects.count() == 2
    key.client.units.set(IssuingUnit.objects.filter(code="SIN"))
    for delivery in WebhookDelivery.objects.all():
        deliver(delivery.pk)
    assert receiver.received == []
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}


def test_the_command_gives_a_new_client_its_units(capsys: Any):
    call_command(
        "create_api_key", "--client", "multas", "--scope", "notifications:write",
        "--unit", "SFM", "--unit", "gsm",
    )  # fmt: skip
    out = capsys.readouterr()
    plaintext = out.out.strip()
    client = ApiClient.objects.get(name="multas")
    assert sorted(client.units.values_list("code", flat=True)) == ["GSM", "SFM"]
    assert "GSM, SFM" in out.err
    number = factories.register().procedure.number
    assert post("/notifications", plaintext, notification_body(number), "x").status_code == 422
    with pytest.raises(Exception, match="unknown unit XYZ"):
        call_command("create_api_key", "--client", "otro", "--scope", "notifications:read",
                     "--unit", "XYZ")  # fmt: skip
    assert not ApiClient.objects.filter(name="otro").exists()
    call_command("create_api_key", "--client", "pagos", "--scope", "notifications:read")
    assert "no issuing unit" in capsys.readouterr().err
    assert not ApiClient.objects.get(name="pagos").units.exists()


def test_the_migration_gives_every_existing_client_every_unit(reference_data: None):
    from api.tests.test_webhooks import _migrate

    before, after = (
        [("api", "0007_idempotent_request_path_unbounded")],
        [("api", "0008_apiclient_units")],
    )
    try:
        old = _migrate(before).get_model("api", "ApiClient")
        old.objects.create(name="sistema-antiguo")
        _migrate(after)
        client = ApiClient.objects.get(name="sistema-antiguo")
        assert set(client.units.all()) == set(IssuingUnit.objects.all())
        assert IssuingUnit.objects.count() == 4
    finally:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
