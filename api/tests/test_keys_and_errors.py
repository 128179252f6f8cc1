"""API v1, first slice: keys (hash only, scopes, revocation, last use), problem+json errors,
the OpenAPI document, and reading a procedure."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from api.keys import create_key, revoke
from api.models import ApiClient, ApiKey, IdempotentRequest
from evidence.models import Event
from mailboxes.models import IssuingUnit, Notification
from procedures.models import Procedure, Receipt
from tests import factories

pytestmark = pytest.mark.django_db


def key_for(
    *scopes: str, test: bool = False, name: str = "sistema-cpp", units: tuple[str, ...] = ()
) -> tuple[ApiKey, str]:
    """A key of the client `name`, made the first time with `units` (every unit if none is
    given, as the clients that existed before units were)."""
    client, created = ApiClient.objects.get_or_create(name=name, defaults={"is_test": test})
    if created:
        chosen = IssuingUnit.objects.filter(code__in=units) if units else IssuingUnit.objects.all()
        client.units.set(chosen)
    return create_key(client, "principal", scopes, actor=None)


def get(path: str, key: str = "") -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client().get(f"/api/v1{path}", headers=headers)


def problem_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    return body


def test_the_command_prints_a_key_once_and_keeps_only_its_hash():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key", "--client", "sistema-multas", "--scope", "payments:write",
        stdout=out, stderr=err,
    )  # fmt: skip
    plaintext = out.getvalue().strip()
    assert plaintext.startswith("buzon_live_")
    assert "shown once" in err.getvalue()
    stored = ApiKey.objects.get()
    assert plaintext not in json.dumps(list(ApiKey.objects.values()), default=str)
    assert stored.scopes == ["payments:write"]
    me = get("/me", plaintext)
    assert me.status_code == 200
    assert json.loads(me.content) | {"last_used_at": None} == {
        "client": "sistema-multas",
        "key": "principal",
        "test": False,
        "scopes": ["payments:write"],
        "units": [],  # a payments system issues nothing
        "last_used_at": None,
    }
    stored.refresh_from_db()
    assert stored.last_used_at is not None  # last use recorded


@pytest.mark.parametrize(
    "token",
    ["", "nonsense", "buzon_live_aaaaaaaaaaaa_" + "x" * 43],
    ids=["no key", "malformed", "unknown"],
)
def test_without_a_valid_key_the_answer_is_401_problem_json(token):
    response = get("/me", token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem_of(response)


def test_a_revoked_key_stops_working():
    key, plaintext = key_for("procedures:write")
    assert get("/me", plaintext).status_code == 200
    revoke(key, actor=None)
    assert get("/me", plaintext).status_code == 401


def test_a_tampered_secret_is_refused():
    _key, plaintext = key_for("procedures:write")
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    assert get("/me", tampered).status_code == 401


def test_a_live_key_relabelled_as_test_is_refused():
    _key, plaintext = key_for("procedures:write")
    assert get("/me", plaintext.replace("buzon_live_", "buzon_test_")).status_code == 401


def test_a_key_cannot_act_outside_its_scopes():
    registration = factories.register()
    _key, payments_only = key_for("payments:write")
    response = get(f"/procedures/{registration.procedure.number}", payments_only)
    assert response.status_code == 403
    assert "procedures:write" in problem_of(response)["detail"]


def test_a_procedure_is_read_with_the_right_scope():
    registration = factories.register()
    _key, plaintext = key_for("procedures:write")
    response = get(f"/procedures/{registration.procedure.number.lower()}", plaintext)
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["number"] == registration.procedure.number
    assert body["status"] == "in_progress"
    assert body["credentials_issued"] is True
    missing = get("/procedures/LM269999999", plaintext)
    assert missing.status_code == 404
    problem_of(missing)


def test_the_openapi_document_and_docs_page_are_served():
    def no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _v in pairs]
        assert len(keys) == len(set(keys)), f"repeated keys: {keys}"  # Swagger UI refuses them
        return dict(pairs)

    raw = Client().get("/api/v1/openapi.json").content
    schema = json.loads(raw, object_pairs_hook=no_repeated_keys)
    assert schema["info"]["title"] == "Buzón API"
    assert "/api/v1/procedures/{number}" in schema["paths"]
    assert schema["components"]["securitySchemes"]["KeyAuth"]["scheme"] == "bearer"
    pdf = schema["paths"]["/api/v1/procedures/{number}/constancia.pdf"]["get"]["responses"]
    assert list(pdf["200"]["content"]) == ["application/pdf"]
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.content.decode()  # Swagger UI from our own static files


def test_unknown_scopes_are_refused_when_creating_a_key():
    client = ApiClient.objects.create(name="x")
    with pytest.raises(ValueError, match="unknown"):
        create_key(client, "k", ["everything:write"], actor=None)


def test_each_key_has_its_own_token_bucket_and_429_says_when_to_retry(settings):
    settings.BUZON_API_REQUESTS_PER_MINUTE = 3
    _key, first = key_for("procedures:write")
    _other, second = key_for("procedures:write", name="sistema-multas")
    assert [get("/me", first).status_code for _ in range(3)] == [200, 200, 200]
    limited = get("/me", first)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 20
    problem_of(limited)
    assert get("/me", second).status_code == 200  # another key is not affected


def test_tokens_come_back_with_time(settings):
    from api.ratelimit import RateLimitedError, take

    settings.BUZON_API_REQUESTS_PER_MINUTE = 60  # one token a second, 60 at once
    for _ in range(60):
        take(999, now=1000.0)
    with pytest.raises(RateLimitedError) as refused:
        take(999, now=1000.0)
    assert refused.value.retry_after == 1
    take(999, now=1001.0)  # a second later, one token is back


REGISTRATION = {
    "person": {
        "doc_type": "CE",
        "doc_number": "000654321",
        "given_names": "Ana Lucía",
        "first_surname": "Pérez",
        "birth_date": "1990-02-03",
        "nationality": "CO",
    },
    "procedure": {"procedure_type": "CPP", "office": "LM", "filing_date": "2026-03-02"},
}


def post(path: str, key: str, body: Any, idempotency_key: str = "k-1") -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return Client().post(
        f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers
    )


def test_a_system_registers_a_procedure_and_gets_the_constancia():
    _key, plaintext = key_for("procedures:write")
    response = post("/procedures", plaintext, REGISTRATION)
    assert response.status_code == 201
    body = json.loads(response.content)
    assert body["created"] is True
    assert body["credentials_issued"] is True
    assert body["username"] == "CE-000654321"
    pdf = Client().get(body["constancia_url"], headers={"Authorization": f"Bearer {plaintext}"})
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_the_constancia_is_named_by_the_procedures_own_number_not_by_the_path():
    _key, plaintext = key_for("procedures:write")
    number = json.loads(post("/procedures", plaintext, REGISTRATION).content)["number"]
    # The path is trimmed and upper-cased to find the procedure; a newline left in the file
    # name would be no header at all (a 500), and the name should not echo the typing.
    for typed in (f"{number}%0A", f"%20{number}", number.lower()):
        response = get(f"/procedures/{typed}/constancia.pdf", plaintext)
        assert response.status_code == 200, typed
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="constancia-{number}.pdf"'


def test_the_same_key_and_body_return_the_first_answer_and_another_body_is_409():
    _key, plaintext = key_for("procedures:write")
    first = post("/procedures", plaintext, REGISTRATION, "alta-1")
    again = post("/procedures", plaintext, REGISTRATION, "alta-1")
    assert again.status_code == first.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Procedure.objects.count() == 1
    other = {**REGISTRATION, "procedure": {**REGISTRATION["procedure"], "office": "AQ"}}
    conflict = post("/procedures", plaintext, other, "alta-1")
    assert conflict.status_code == 409
    problem_of(conflict)
    assert Procedure.objects.count() == 1


def abandon_every_request() -> None:
    """As if each request's worker had died after its action committed and before the answer
    was stored (api/idempotency.py): the row stays "in progress", and 10 minutes go by."""
    IdempotentRequest.objects.update(
        status=0, body=b"", created_at=timezone.now() - timedelta(minutes=11)
    )


def test_an_abandoned_key_is_run_again_only_for_the_same_request():
    _key, plaintext = key_for("procedures:write")
    assert post("/procedures", plaintext, REGISTRATION, "alta-1").status_code == 201
    abandon_every_request()
    other = {**REGISTRATION, "procedure": {**REGISTRATION["procedure"], "office": "AQ"}}
    conflict = post("/procedures", plaintext, other, "alta-1")
    assert conflict.status_code == 409
    assert problem_of(conflict)["type"].endswith("idempotency-key-reused")
    assert Procedure.objects.count() == 1


@pytest.mark.parametrize("test", [False, True])
def test_a_registration_rerun_after_its_worker_died_registers_nothing_twice(test):
    # Buzón assigns the number (a test key may not send one): only the key ties the two.
    _key, plaintext = key_for("procedures:write", test=test)
    first = post("/procedures", plaintext, REGISTRATION, "alta-1")
    assert first.status_code == 201
    abandon_every_request()
    again = post("/procedures", plaintext, REGISTRATION, "alta-1")
    assert again.status_code == 200
    assert again["Content-Type"] == "application/json"
    body = json.loads(again.content)
    assert body["number"] == json.loads(first.content)["number"]
    assert body["created"] is False
    assert Procedure.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert Event.objects.filter(kind="procedure_registered").count() == 1
    # The next registration, under another key, is another procedure.
    assert post("/procedures", plaintext, REGISTRATION, "alta-2").status_code == 201
    assert Procedure.objects.count() == 2


def test_a_stored_answer_is_not_replayed_to_a_key_without_the_scope():
    writer, plaintext = key_for("procedures:write")
    _reader, read_only = create_key(writer.client, "lectura", ["notifications:read"], actor=None)
    assert post("/procedures", plaintext, REGISTRATION, "alta-1").status_code == 201
    # Same client, same Idempotency-Key and body: still refused, and nothing of the first answer.
    refused = post("/procedures", read_only, REGISTRATION, "alta-1")
    assert refused.status_code == 403
    assert problem_of(refused)["type"].endswith("insufficient-scope")
    assert "Idempotent-Replayed" not in refused
    assert b"CE-000654321" not in refused.content


def test_every_post_needs_an_idempotency_key():
    _key, plaintext = key_for("procedures:write")
    response = post("/procedures", plaintext, REGISTRATION, idempotency_key="")
    assert response.status_code == 400
    assert "Idempotency-Key" in problem_of(response)["detail"]
    assert not Procedure.objects.exists()


def test_bad_input_is_a_field_level_problem_not_a_500():
    _key, plaintext = key_for("procedures:write")
    bad = {**REGISTRATION, "person": {**REGISTRATION["person"], "doc_number": "12"}}
    refused = post("/procedures", plaintext, bad, "bad-1")
    assert refused.status_code == 422
    body = problem_of(refused)
    assert any(e["field"] == "doc_number" for e in body["errors"])
    malformed = post("/procedures", plaintext, {"person": "nobody"}, "bad-2")
    assert malformed.status_code == 422
    assert problem_of(malformed)["errors"]
    assert not Procedure.objects.exists()
    # A refused request is not remembered: fixed, the same key goes through.
    assert post("/procedures", plaintext, REGISTRATION, "bad-1").status_code == 201


def test_keys_of_different_clients_do_not_share_idempotency_keys():
    _a, first = key_for("procedures:write", name="sistema-a")
    _b, second = key_for("procedures:write", name="sistema-b")
    post("/procedures", first, REGISTRATION, "same-key")
    other = {**REGISTRATION, "procedure": {**REGISTRATION["procedure"], "office": "AQ"}}
    assert post("/procedures", second, other, "same-key").status_code == 201


def test_a_payment_confirmation_counts_once_and_partial_ones_are_flagged():
    from payments.models import Debt
    from payments.tests.helpers import fine

    notification = fine()
    debt = Debt.objects.get(notification=notification)
    _key, plaintext = key_for("payments:write", name="pagalo")
    body = {
        "source": "pagalo",
        "transaction_id": "000123",
        "payment_code": debt.payment_code,
        "amount": "100.00",
        # Paid after the fine was notified (a payment dated before it is refused).
        "paid_at": (notification.deposited_at + timedelta(minutes=5)).isoformat(),
    }
    first = post("/payments", plaintext, body, "pago-1")
    assert first.status_code == 201
    result = json.loads(first.content)
    assert result["payment"]["outcome"] == "partial"
    assert result["payment"]["flag"]
    assert result["debt"]["paid"] == "100.00"
    # The same confirmation under another Idempotency-Key is still applied once.
    again = post("/payments", plaintext, body, "pago-1-retry")
    assert again.status_code == 200
    assert json.loads(again.content)["created"] is False
    debt.refresh_from_db()
    assert str(debt.paid) == "100.00"
    from payments.codes import with_check_digits

    nobody = with_check_digits("1234567890")
    unknown = post(
        "/payments",
        plaintext,
        {**body, "payment_code": nobody, "transaction_id": "000124"},
        "pago-2",
    )
    assert unknown.status_code == 404
    problem_of(unknown)
    typo = debt.payment_code[:-1] + str((int(debt.payment_code[-1]) + 1) % 10)
    mistyped = post(
        "/payments", plaintext, {**body, "payment_code": typo, "transaction_id": "000125"}, "pago-4"
    )
    assert mistyped.status_code == 422
    assert problem_of(mistyped)["errors"][0]["field"] == "payment_code"
    _other, no_scope = key_for("procedures:write", name="sistema-cpp")
    assert post("/payments", no_scope, body, "pago-3").status_code == 403
    # The channel's own number reused for another payment is a conflict, not a second credit.
    reused = post("/payments", plaintext, {**body, "amount": "50.00"}, "pago-5")
    assert reused.status_code == 409
    problem_of(reused)


def notification_body(number: str, **overrides: Any) -> dict[str, Any]:
    import base64

    return {
        "procedure_number": number,
        "unit": "SIN",
        "kind": "approval",
        "subject": "Aprobación de su CPP",
        "body": "Se **aprueba** su solicitud.",
        "attachments": [
            {
                "name": "resolucion.pdf",
                "content_base64": base64.b64encode(factories.pdf_bytes()).decode(),
            }
        ],
    } | overrides


def test_a_system_deposits_a_notification_and_follows_it():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write", "notifications:read")
    number = registration.procedure.number
    response = post("/notifications", plaintext, notification_body(number), "dep-1")
    assert response.status_code == 201
    body = json.loads(response.content)
    assert body["state"] == "deposited"
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert "notification_deposited" in kinds
    notification = Notification.objects.get()
    deposit = Event.objects.get(notification=notification, kind="notification_deposited")
    assert deposit.data["via"] == "sistema-cpp"  # the evidence names the system
    # Retried with the same key: the same answer, one notification.
    again = post("/notifications", plaintext, notification_body(number), "dep-1")
    assert again.content == response.content
    assert Notification.objects.count() == 1
    followed = get(f"/notifications/{body['id']}", plaintext)
    assert followed.status_code == 200
    assert json.loads(followed.content)["id"] == body["id"]


def test_another_systems_notification_is_not_found():
    registration = factories.register()
    _a, first = key_for("notifications:write", "notifications:read", name="sistema-a")
    _b, second = key_for("notifications:read", name="sistema-b")
    created = post(
        "/notifications", first, notification_body(registration.procedure.number), "dep-2"
    )
    notification_id = json.loads(created.content)["id"]
    assert get(f"/notifications/{notification_id}", second).status_code == 404
    officer_deposit = factories.deposit(registration)
    assert get(f"/notifications/{officer_deposit.public_id}", first).status_code == 404
    assert get("/notifications/not-a-uuid", first).status_code == 404


def test_a_fake_pdf_or_bad_base64_is_refused_field_by_field():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    number = registration.procedure.number
    fake = notification_body(
        number, attachments=[{"name": "virus.pdf", "content_base64": "TVqQAAMAAAAEAAAA"}]
    )
    refused = post("/notifications", plaintext, fake, "dep-3")
    assert refused.status_code == 422
    assert any(e["field"] == "attachments" for e in problem_of(refused)["errors"])
    garbage = notification_body(number, attachments=[{"name": "a.pdf", "content_base64": "%%%"}])
    bad = post("/notifications", plaintext, garbage, "dep-4")
    assert bad.status_code == 422
    assert problem_of(bad)["errors"][0]["field"] == "attachments.0"
    assert not Notification.objects.exists()


def test_a_system_fetches_a_signed_certificate_of_its_notification():
    from evidence.models import Certificate

    registration = factories.register()
    _key, plaintext = key_for("notifications:write", "notifications:read")
    created = post(
        "/notifications", plaintext, notification_body(registration.procedure.number), "dep-9"
    )
    notification_id = json.loads(created.content)["id"]
    pdf = get(f"/notifications/{notification_id}/certificate", plaintext)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Cache-Control"] == "private, no-store"
    certificate = Certificate.objects.get()
    assert hashlib.sha256(pdf.content).hexdigest() == certificate.sha256  # the registered one
    _other, stranger = key_for("notifications:read", name="otro-sistema")
    assert get(f"/notifications/{notification_id}/certificate", stranger).status_code == 404


def test_a_body_over_the_api_limit_is_a_413_problem_not_a_500(settings):
    # The web forms' limit does not apply to an authenticated system; the API's own does.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.BUZON_API_MAX_BODY_BYTES = 1024
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    body = notification_body(registration.procedure.number)
    response = post("/notifications", plaintext, body, "big-1")
    assert response.status_code == 413
    assert "1024 bytes" in problem_of(response)["detail"]
    assert not Notification.objects.exists()
    settings.BUZON_API_MAX_BODY_BYTES = 10 * 1024 * 1024
    assert post("/notifications", plaintext, body, "big-1").status_code == 201


def test_a_systems_name_is_one_system_whatever_its_case():
    out = io.StringIO()
    call_command("create_api_key", "--client", "sistema-cpp", "--scope", "procedures:write",
                 stdout=out, stderr=io.StringIO())  # fmt: skip
    call_command("create_api_key", "--client", " Sistema-CPP ", "--scope", "procedures:write",
                 stdout=out, stderr=io.StringIO())  # fmt: skip
    assert list(ApiClient.objects.values_list("name", flat=True)) == ["sistema-cpp"]
    assert ApiKey.objects.filter(client__name="sistema-cpp").count() == 2
