"""Issue 7's "done when": an outside program holding only an API key, over real HTTP, registers
a person, deposits notifications, follows one to "opened", receives signed webhooks and fetches
the certificate."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from django.test import Client

from api.keys import create_key
from api.models import ApiClient
from api.tests.test_webhooks import Receiver, receiver  # noqa: F401 (a fixture)
from api.webhooks import configure_callback, verify_signature
from mailboxes.models import IssuingUnit
from people.models import Person
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_outside_program_with_only_a_key_goes_from_registration_to_certificate(
    request,
    live_server,
    receiver: Receiver,  # noqa: F811
):
    factories.ensure_reference_data()
    client = ApiClient.objects.create(name="sistema-cpp")
    client.units.set(IssuingUnit.objects.filter(code="SIN"))
    _key, secret_key = create_key(
        client, "principal", ["procedures:write", "notifications:write", "notifications:read"],
        actor=None,
    )  # fmt: skip
    configure_callback(client, receiver.url, actor=None)
    client.refresh_from_db()
    signing_secret = client.callback_secret

    # From here on, only what the outside program has: the base URL and its key.
    api = httpx.Client(
        base_url=f"{live_server.url}/api/v1",
        headers={"Authorization": f"Bearer {secret_key}"},
        timeout=60,
    )
    # Closed at the end: a kept-alive connection keeps its server thread, and with it a
    # database session that would stop the test database from being dropped.
    request.addfinalizer(api.close)
    registration = api.post(
        "/procedures",
        headers={"Idempotency-Key": "alta-1"},
        json={
            "person": {
                "doc_type": "CE", "doc_number": "000777111", "given_names": "Rosa",
                "first_surname": "Quispe", "birth_date": "1985-05-05", "nationality": "VE",
            },
            "procedure": {"procedure_type": "CPP", "office": "LM", "filing_date": "2026-03-02"},
        },
    )  # fmt: skip
    assert registration.status_code == 201, registration.text
    number = registration.json()["number"]
    assert registration.json()["credentials_issued"] is True
    constancia = api.get(registration.json()["constancia_url"].removeprefix("/api/v1"))
    assert constancia.headers["content-type"] == "application/pdf"
    assert constancia.headers["cache-control"] == "private, no-store"

    pdf = base64.b64encode(factories.pdf_bytes()).decode()
    # A batch as multipart, as docs/api.md recommends: the first item's PDF as a file part, the
    # second's as base64 in its JSON.
    items = [
        {
            "reference": f"aviso-{n}", "procedure_number": number, "unit": "SIN",
            "kind": "other", "subject": f"Aviso {n}", "body": "Texto del aviso.",
        }
        for n in range(2)
    ]  # fmt: skip
    items[1]["attachments"] = [{"name": "aviso.pdf", "content_base64": pdf}]
    batch = api.post(
        "/notifications/batch",
        headers={"Idempotency-Key": "lote-1"},
        data={"notifications": json.dumps({"notifications": items})},
        files=[("attachments.0", ("aviso.pdf", factories.pdf_bytes(), "application/pdf"))],
    )
    assert batch.json()["created"] == 2, batch.text
    notification_id = batch.json()["results"][0]["id"]
    assert api.get(f"/notifications/{notification_id}").json()["state"] == "deposited"

    # The person opens it in the buzón (a browser session, not the program).
    person = Person.objects.get(doc_number="000777111")
    assert person.user is not None
    browser = Client()
    browser.force_login(person.user)
    opened = browser.post(f"/buzon/notificaciones/{notification_id}/abrir/")
    assert opened.status_code == 302

    status = api.get(f"/notifications/{notification_id}").json()
    assert status["state"] == "opened"
    assert status["opened_at"]
    assert "notification_opened" in [entry["kind"] for entry in status["timeline"]]

    # Signed webhooks arrived for every step, and each signature checks out.
    for headers, raw in receiver.received:
        assert verify_signature(signing_secret, headers["Buzon-Signature"], raw)
    mine = [b["type"] for b in receiver.bodies() if b["notification"]["id"] == notification_id]
    assert mine == ["deposited", "effective", "opened"]
    # Nothing missed: the replay from the start has the same events.
    replay = api.get("/events", params={"after": 0}).json()["events"]
    assert sorted(e["cursor"] for e in replay) == sorted(b["cursor"] for b in receiver.bodies())

    certificate = api.get(f"/notifications/{notification_id}/certificate")
    assert certificate.status_code == 200
    assert certificate.content.startswith(b"%PDF-")
    text = factories.pdf_text(certificate.content)
    assert number in text
    assert "Aviso 0" in text
