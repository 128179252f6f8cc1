"""API v1: the batch deposit, multipart attachments, a person's notifications, and test keys
that act only on test mailboxes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from api.tests.test_keys_and_errors import (
    REGISTRATION,
    get,
    key_for,
    notification_body,
    post,
    problem_of,
)
from backoffice.groups import NOTIFIERS
from evidence.models import Event
from mailboxes.models import Notification
from people.models import Person
from tests import factories

pytestmark = pytest.mark.django_db


def item(number: str, reference: str, **overrides: Any) -> dict[str, Any]:
    return notification_body(number, reference=reference, **overrides)


def test_a_batch_answers_per_item_and_one_bad_item_rejects_nothing_else():
    first, second = factories.register(), factories.register()
    _key, plaintext = key_for("notifications:write", "notifications:read")
    batch = {
        "notifications": [
            item(first.procedure.number, "cpp-1"),
            item("LM269999999", "cpp-2"),  # no such procedure
            item(second.procedure.number, "cpp-3"),
            item(second.procedure.number, "cpp-4", subject=""),
            item(second.procedure.number, "cpp-5", attachments=[{"name": "x.pdf",
                                                                  "content_base64": "%%"}]),
        ]
    }  # fmt: skip
    response = post("/notifications/batch", plaintext, batch, "lote-1")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert (body["created"], body["existing"], body["refused"]) == (2, 0, 3)
    statuses = [(r["index"], r["reference"], r["status"]) for r in body["results"]]
    assert statuses == [
        (0, "cpp-1", "created"),
        (1, "cpp-2", "refused"),
        (2, "cpp-3", "created"),
        (3, "cpp-4", "refused"),
        (4, "cpp-5", "refused"),
    ]
    assert body["results"][1]["errors"][0]["field"] == "procedure_number"
    assert body["results"][3]["errors"][0]["field"] == "subject"
    assert body["results"][4]["errors"][0]["field"] == "attachments.0"
    assert Notification.objects.count() == 2
    # Each created item can be followed, and the evidence names the system.
    followed = get(f"/notifications/{body['results'][2]['id']}", plaintext)
    assert json.loads(followed.content)["procedure_number"] == second.procedure.number
    deposits = Event.objects.filter(kind="notification_deposited")
    assert {e.data["via"] for e in deposits} == {"sistema-cpp"}


def test_a_rerun_batch_deposits_nothing_twice_and_a_changed_item_is_refused():
    registration = factories.register()
    number = registration.procedure.number
    _key, plaintext = key_for("notifications:write")
    batch = {"notifications": [item(number, "r-1"), item(number, "r-2")]}
    first = json.loads(post("/notifications/batch", plaintext, batch, "lote-a").content)
    # Another request (another Idempotency-Key) with the same references: nothing new.
    changed = {"notifications": [item(number, "r-1"), item(number, "r-2", subject="Otro")]}
    rerun = json.loads(post("/notifications/batch", plaintext, changed, "lote-b").content)
    assert [r["status"] for r in rerun["results"]] == ["existing", "refused"]
    assert rerun["results"][0]["id"] == first["results"][0]["id"]
    assert rerun["results"][1]["errors"][0]["field"] == "reference"
    assert Notification.objects.count() == 2
    repeated = {"notifications": [item(number, "r-9"), item(number, "r-9")]}
    twice = json.loads(post("/notifications/batch", plaintext, repeated, "lote-c").content)
    assert [r["status"] for r in twice["results"]] == ["created", "refused"]


def test_a_batch_over_1000_items_or_empty_is_refused_whole():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    one = item(registration.procedure.number, "x", attachments=[])
    too_many = {"notifications": [one | {"reference": f"r{i}"} for i in range(1001)]}
    response = post("/notifications/batch", plaintext, too_many, "lote-big")
    assert response.status_code == 422
    assert problem_of(response)["errors"][0]["field"] == "notifications"
    empty = post("/notifications/batch", plaintext, {"notifications": []}, "lote-0")
    assert empty.status_code == 422
    assert not Notification.objects.exists()


def test_a_notification_with_its_pdfs_as_multipart_files():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number, attachments=[])
    pdf = factories.pdf_bytes()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = Client().post(
        "/api/v1/notifications",
        {
            "notification": json.dumps(meta),
            "attachments": [
                SimpleUploadedFile("resolucion.pdf", pdf, "application/pdf"),
                SimpleUploadedFile("anexo.pdf", factories.pdf_bytes(2), "application/pdf"),
            ],
        },
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "mp-1"},
    )
    assert response.status_code == 201, response.content
    notification = Notification.objects.get()
    assert sorted(a.original_name for a in notification.attachments.all()) == [
        "anexo.pdf",
        "resolucion.pdf",
    ]
    fake = Client().post(
        "/api/v1/notifications",
        {
            "notification": json.dumps(meta),
            "attachments": [SimpleUploadedFile("a.pdf", b"MZ not a pdf", "application/pdf")],
        },
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "mp-2"},
    )
    assert fake.status_code == 422
    missing = Client().post(
        "/api/v1/notifications",
        {"other": "x"},
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "mp-3"},
    )
    assert missing.status_code == 422
    assert problem_of(missing)["errors"][0]["field"] == "notification"
    assert Notification.objects.count() == 1


def test_a_persons_notifications_are_this_systems_own_newest_first_and_paged():
    registration = factories.register()
    person = registration.procedure.person
    _a, mine = key_for("notifications:write", "notifications:read", name="sistema-a")
    _b, theirs = key_for("notifications:write", "notifications:read", name="sistema-b")
    number = registration.procedure.number
    for n in range(3):
        post("/notifications", mine, notification_body(number, subject=f"Aviso {n}"), f"a-{n}")
    post("/notifications", theirs, notification_body(number, subject="De otro"), "b-1")
    factories.deposit(registration)  # an officer's deposit: no system's
    path = f"/persons/{person.doc_type}/{person.doc_number}/notifications"
    page = json.loads(get(f"{path}?limit=2", mine).content)
    assert [n["subject"] for n in page["notifications"]] == ["Aviso 2", "Aviso 1"]
    assert page["next_offset"] == 2
    rest = json.loads(get(f"{path}?limit=2&offset=2", mine).content)
    assert [n["subject"] for n in rest["notifications"]] == ["Aviso 0"]
    assert rest["next_offset"] is None
    others = json.loads(get(path, theirs).content)
    assert [n["subject"] for n in others["notifications"]] == ["De otro"]
    # A system with nothing for that person learns nothing about them.
    _c, stranger = key_for("notifications:read", name="sistema-c")
    assert get(path, stranger).status_code == 404
    assert get(f"/persons/{person.doc_type}/000000009/notifications", mine).status_code == 404
    bad = get("/persons/XX/123/notifications", mine)
    assert bad.status_code == 422
    assert problem_of(bad)["errors"][0]["field"] == "doc_type"


def test_a_test_key_registers_test_mailboxes_and_deposits_only_into_them():
    _live, live = key_for("procedures:write", "notifications:write", name="sistema-real")
    _test, test = key_for(
        "procedures:write", "notifications:write", "notifications:read", test=True,
        name="sistema-pruebas",
    )  # fmt: skip
    assert test.startswith("buzon_test_")
    real = factories.register()  # a real person, registered at the desk
    refused = post("/notifications", test, notification_body(real.procedure.number), "t-1")
    assert refused.status_code == 422
    assert "prueba" in problem_of(refused)["errors"][0]["detail"]
    # An unused number gets the very same answer: nothing says the real one exists.
    unused = post("/notifications", test, notification_body("LM269999999"), "t-1b")
    assert problem_of(unused)["errors"] == problem_of(refused)["errors"]
    # Nor do the checks that depend on a procedure (a kind's details) run against a real one.
    odd = {"kind": "correction", "details": {"bogus": 1}}
    answers = [
        problem_of(post("/notifications", test, notification_body(n, **odd), f"t-1{n}"))["errors"]
        for n in (real.procedure.number, "LM269999998")
    ]
    assert answers[0] == answers[1]
    # Nor may a test key pick a number, which would tell taken (real) numbers from free ones.
    numbered = {
        **REGISTRATION,
        "procedure": {**REGISTRATION["procedure"], "number": real.procedure.number},
    }
    chosen = post("/procedures", test, numbered, "t-1c")
    assert chosen.status_code == 422
    assert problem_of(chosen)["errors"][0]["field"] == "number"
    assert not Notification.objects.exists()
    # The same document as a real person's, with a test key: a test mailbox beside them,
    # never the real one (and the answer says nothing about whether a real one exists).
    real_person = real.procedure.person
    over_real = {
        **REGISTRATION,
        "person": {
            **REGISTRATION["person"],
            "doc_type": real_person.doc_type,
            "doc_number": real_person.doc_number,
        },
    }
    beside = post("/procedures", test, over_real, "t-2")
    assert beside.status_code == 201
    assert json.loads(beside.content)["test"] is True
    twins = Person.objects.filter(doc_number=real_person.doc_number).order_by("pk")
    assert [p.is_test for p in twins] == [False, True]
    real_person.refresh_from_db()
    assert real_person.given_names != "Ana Lucía"  # the real person is untouched
    # A new person registered with a test key is a test mailbox, and marked so.
    registered = post("/procedures", test, REGISTRATION, "t-3")
    assert registered.status_code == 201
    assert json.loads(registered.content)["test"] is True
    assert Person.objects.get(doc_number="000654321").is_test
    # The citizen registered later at the desk gets their own, real mailbox and credentials.
    desk = factories.register(doc_type="CE", doc_number="000654321", given_names="Ana Lucía",
                              first_surname="Pérez")  # fmt: skip
    assert desk.person_created is True
    assert desk.credentials_issued is True
    assert desk.procedure.person.is_test is False
    number = json.loads(registered.content)["number"]
    deposited = post("/notifications", test, notification_body(number), "t-4")
    assert deposited.status_code == 201
    assert json.loads(deposited.content)["test"] is True
    notification = Notification.objects.get()
    assert Event.objects.get(notification=notification, kind="notification_deposited").data["test"]
    registration_event = Event.objects.get(kind="procedure_registered", procedure__number=number)
    assert registration_event.data["via"] == "sistema-pruebas"
    assert registration_event.data["test"] is True
    # A test key cannot read a real procedure either.
    assert get(f"/procedures/{real.procedure.number}", test).status_code == 404
    assert get(f"/procedures/{real.procedure.number}", live).status_code == 200


def test_a_test_mailbox_is_marked_in_the_inbox_the_timeline_the_certificate_and_verification():
    from evidence.actions import issue_certificate

    _key, test = key_for(
        "procedures:write", "notifications:write", test=True, name="sistema-pruebas"
    )
    number = json.loads(post("/procedures", test, REGISTRATION, "t-1").content)["number"]
    assert post("/notifications", test, notification_body(number), "t-2").status_code == 201
    notification = Notification.objects.get()
    person = notification.person
    assert person.user is not None
    inbox = Client()
    inbox.force_login(person.user)
    assert "Casilla de prueba." in inbox.get("/buzon/notificaciones/").content.decode()
    officer = Client()
    notifier = factories.unit_officer()
    notifier.groups.add(Group.objects.get(name=NOTIFIERS))
    officer.force_login(notifier)
    page = officer.get(f"/oficina/notificaciones/{notification.public_id}/")
    assert page.status_code == 200
    timeline = page.content.decode()
    assert "PRUEBA" in timeline
    assert "por el sistema sistema-pruebas (API)" in timeline
    listed = officer.get("/oficina/notificaciones/").content.decode()
    assert "PRUEBA" in listed
    certificate, pdf = issue_certificate(notification, requested_by=None)
    assert "PRUEBA: casilla de prueba" in factories.pdf_text(pdf)
    verified = Client().get(f"/verificar/{certificate.code}").content.decode()
    assert "casilla de prueba" in verified
    # A real person's pages say nothing of the kind.
    real = factories.deposit()
    assert real.person.user is not None
    inbox.force_login(real.person.user)
    assert "Casilla de prueba." not in inbox.get("/buzon/notificaciones/").content.decode()
    assert (
        "PRUEBA" not in officer.get(f"/oficina/notificaciones/{real.public_id}/").content.decode()
    )


def test_a_test_key_follows_a_test_notification_to_opened_by_simulating_the_opening():
    _test, test = key_for(
        "procedures:write", "notifications:write", "notifications:read", test=True,
        name="sistema-pruebas",
    )  # fmt: skip
    number = json.loads(post("/procedures", test, REGISTRATION, "t-1").content)["number"]
    created = json.loads(post("/notifications", test, notification_body(number), "t-2").content)
    opened = post(f"/notifications/{created['id']}/simulate-opening", test, {}, "t-3")
    assert opened.status_code == 200
    assert json.loads(opened.content)["state"] == "opened"
    assert json.loads(get(f"/notifications/{created['id']}", test).content)["opened_at"]
    # The officers' timeline shows the simulated opening without a made-up address.
    notifier = factories.unit_officer()
    notifier.groups.add(Group.objects.get(name=NOTIFIERS))
    officer = Client()
    officer.force_login(notifier)
    timeline = officer.get(f"/oficina/notificaciones/{created['id']}/").content.decode()
    assert "simulated by the test key of sistema-pruebas" in timeline
    assert "IP None" not in timeline
    # A live key cannot simulate anything, even on its own notifications.
    real = factories.register()
    _live, live = key_for("notifications:write", "notifications:read", name="sistema-real")
    mine = json.loads(post("/notifications", live, notification_body(real.procedure.number),
                           "l-1").content)  # fmt: skip
    refused = post(f"/notifications/{mine['id']}/simulate-opening", live, {}, "l-2")
    assert refused.status_code == 403
    assert json.loads(get(f"/notifications/{mine['id']}", live).content)["opened_at"] is None


@pytest.mark.parametrize("length", [290, 4000])
def test_a_long_notification_id_in_a_post_is_a_404_problem_not_a_500(length):
    """The request's path is stored for its Idempotency-Key before the view reads the id; it
    was a varchar(300), which PostgreSQL enforces. 4,000: about what a server's request line
    lets through."""
    _test, test = key_for("notifications:write", test=True, name="sistema-pruebas")
    path = "/notifications/" + "a" * length + "/simulate-opening"
    response = post(path, test, {}, "long-1")
    assert response.status_code == 404
    assert problem_of(response)["detail"] == "No such notification."


def test_a_test_key_cannot_pay_a_real_fine():
    from payments.models import Debt
    from payments.tests.helpers import fine

    debt = Debt.objects.get(notification=fine())
    _test, test = key_for("payments:write", test=True, name="pagos-pruebas")
    body = {
        "source": "pagalo", "transaction_id": "T-1", "payment_code": debt.payment_code,
        "amount": "350.00", "paid_at": "2026-11-28T10:00:00-05:00",
    }  # fmt: skip
    refused = post("/payments", test, body, "p-1")
    assert refused.status_code == 404  # to a test key, a real debt does not exist
    debt.refresh_from_db()
    assert str(debt.paid) == "0.00"


def test_the_api_never_hands_out_the_credentials_copy_of_the_constancia():
    _a, first = key_for("procedures:write", name="sistema-a")
    _b, second = key_for("procedures:write", name="sistema-b")
    body = json.loads(post("/procedures", first, REGISTRATION, "r-1").content)
    for key in (first, second):
        pdf = Client().get(body["constancia_url"], headers={"Authorization": f"Bearer {key}"})
        assert pdf.status_code == 200
        assert "Contraseña" not in factories.pdf_text(pdf.content)
    downloads = Event.objects.filter(kind="receipt_downloaded").order_by("pk")
    assert [e.data["with_credentials"] for e in downloads] == [False, False]
    assert [e.data["via"] for e in downloads] == ["sistema-a", "sistema-b"]


def multipart(key: str, meta: dict[str, Any], pdf: bytes, idempotency_key: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return Client().post(
        "/api/v1/notifications",
        {
            "notification": json.dumps(meta),
            "attachments": [SimpleUploadedFile("resolucion.pdf", pdf, "application/pdf")],
        },
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )


def test_a_multipart_pdf_over_the_form_limit_is_taken_and_a_retry_is_the_same_answer(settings):
    # Far below the PDF: a key that may deposit sends up to BUZON_API_MAX_BODY_BYTES.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number, attachments=[])
    pdf = factories.pdf_bytes(pad_kb=300)
    first = multipart(plaintext, meta, pdf, "mp-big")
    assert first.status_code == 201, first.content
    # Retried after a timeout: the client's library picks a new boundary; same content.
    again = multipart(plaintext, meta, pdf, "mp-big")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    other = multipart(plaintext, meta, factories.pdf_bytes(2), "mp-big")
    assert other.status_code == 409
    assert Notification.objects.count() == 1


def test_a_malformed_multipart_body_is_a_400_problem_not_a_500():
    _key, plaintext = key_for("notifications:write")
    response = Client().post(
        "/api/v1/notifications",
        b"--x\r\nnonsense",
        content_type="multipart/form-data",  # and no boundary
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "mp-bad"},
    )
    assert response.status_code == 400
    problem_of(response)


def test_only_a_depositing_key_may_send_a_large_body(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    _key, reader = key_for("procedures:write", "notifications:read")
    padded = {**REGISTRATION, "padding": "x" * 10_000}
    assert post("/procedures", reader, padded, "big-1").status_code == 413
    registration = factories.register()
    _w, writer = key_for("notifications:write", name="sistema-b")
    body = notification_body(registration.procedure.number)  # > 4 KB of base64
    assert post("/notifications", writer, body, "big-2").status_code == 201


def test_long_idempotency_keys_and_references_are_accepted():
    registration = factories.register()
    number = registration.procedure.number
    _key, plaintext = key_for("notifications:write")
    assert (
        post("/notifications", plaintext, notification_body(number), "k" * 255).status_code == 201
    )
    batch = {"notifications": [item(number, "r" * 100)]}
    result = json.loads(post("/notifications/batch", plaintext, batch, "lote-long").content)
    assert [r["status"] for r in result["results"]] == ["created"]
    # A batch reference equal to an earlier single deposit's key is another deposit.
    same = {"notifications": [item(number, "k" * 255)]}
    assert post("/notifications/batch", plaintext, same, "lote-k").status_code == 422  # > 100
    clash = {"notifications": [item(number, "dep-1")]}
    post("/notifications", plaintext, notification_body(number), "dep-1")
    result = json.loads(post("/notifications/batch", plaintext, clash, "lote-c").content)
    assert [r["status"] for r in result["results"]] == ["created"]


def test_an_abandoned_request_does_not_block_its_key_forever():
    from datetime import timedelta

    from django.utils import timezone

    from api.models import IdempotentRequest

    registration = factories.register()
    key, plaintext = key_for("notifications:write")
    body = notification_body(registration.procedure.number)
    # A worker died while handling this key: its record stayed "in progress".
    digest = hashlib.sha256(json.dumps(body).encode()).hexdigest()
    IdempotentRequest.objects.create(
        client=key.client, key="dep-x", path="/api/v1/notifications", body_sha256=digest
    )
    busy = post("/notifications", plaintext, body, "dep-x")
    assert busy.status_code == 409
    assert busy["Retry-After"] == "1"
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(minutes=30))
    assert post("/notifications", plaintext, body, "dep-x").status_code == 201
    assert Notification.objects.count() == 1


def test_a_persons_notifications_with_a_passport_take_the_issuing_country():
    _key, plaintext = key_for("notifications:read")
    without = get("/persons/PAS/AB123456/notifications", plaintext)
    assert without.status_code == 422
    with_country = get("/persons/PAS/AB123456/notifications?doc_country=ve", plaintext)
    assert with_country.status_code == 404  # a valid document: this system has nothing for it


def test_a_nul_character_anywhere_is_a_422_not_a_500():
    """PostgreSQL cannot store or compare U+0000: found by schemathesis on the batch."""
    registration = factories.register()
    number = registration.procedure.number
    _key, plaintext = key_for("notifications:write", "notifications:read", "procedures:write")
    batch = {"notifications": [item(number + "\x00", "r-1")]}
    refused = post("/notifications/batch", plaintext, batch, "nul-1")
    assert refused.status_code == 422
    assert "NUL" in problem_of(refused)["errors"][0]["detail"]
    nested = {**REGISTRATION, "person": {**REGISTRATION["person"], "given_names": "A\x00"}}
    assert post("/procedures", plaintext, nested, "nul-2").status_code == 422
    assert get("/procedures/LM26%00", plaintext).status_code == 422
    assert get("/events?after=0&x=%00", plaintext).status_code == 422
    assert not Notification.objects.exists()


def test_a_live_key_never_deposits_into_a_test_mailbox():
    """A live system's deposit is a legal act: in a test mailbox no real payment applies and
    nobody is notified for real, so it is refused, by name, single or in a batch."""
    _test, test = key_for("procedures:write", test=True, name="sistema-pruebas")
    _live, live = key_for("notifications:write", name="sistema-real")
    registered = post("/procedures", test, REGISTRATION, "reg-1")
    assert registered.status_code == 201
    test_number = json.loads(registered.content)["number"]
    real = factories.register()

    refused = post("/notifications", live, notification_body(test_number), "live-1")
    assert refused.status_code == 422
    errors = problem_of(refused)["errors"]
    assert errors[0]["field"] == "procedure_number"
    assert "de prueba" in errors[0]["detail"]
    batch = {
        "notifications": [
            item(test_number, "mix-1"),
            item(real.procedure.number, "mix-2"),
        ]
    }
    body = json.loads(post("/notifications/batch", live, batch, "live-2").content)
    assert [r["status"] for r in body["results"]] == ["refused", "created"]
    assert body["results"][0]["errors"][0]["field"] == "procedure_number"
    assert [n.person.is_test for n in Notification.objects.all()] == [False]
    # Deposits that are not a system's (an officer's, a command's) still may: a training
    # mailbox, marked PRUEBA wherever it is shown.
    from mailboxes.actions import deposit_notification

    desk = deposit_notification(factories.notification_input(test_number), actor=None)
    assert desk.notification.person.is_test
