"""Schemathesis over every operation of the OpenAPI document the API serves, through the Django
WSGI application, with a real key that holds every scope. Bounded (15 cases an operation) and
deterministic. It fails on any 5xx and on any response that does not conform to the document:
status code, content type, headers, body schema (problem+json: see conftest)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.keys import create_key
from api.models import ApiClient, Scope
from api.tests.conftest import OPENAPI_URL
from mailboxes.actions import deposit_notification
from mailboxes.models import IssuingUnit
from payments.models import Debt
from payments.tests.helpers import fine
from tests import factories

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

APP = WSGIHandler()
# The served document, as served (read at collection; serving it needs no database).
schema = schemathesis.openapi.from_wsgi(OPENAPI_URL, APP)
# Every operation in it, whatever api/v1.py declares today. One schemathesis cannot read
# fails the collection of this file.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]

_idempotency_keys = (f"schemathesis-{n}" for n in itertools.count(1))


@pytest.fixture
def bearer(db: None, settings: Any) -> str:
    settings.BUZON_API_REQUESTS_PER_MINUTE = 1_000_000  # the rate limit is not under test here
    client = ApiClient.objects.create(name="schemathesis")
    client.units.set(IssuingUnit.objects.all())
    _key, plaintext = create_key(client, "fuzz", Scope.values, actor=None)
    return plaintext


@pytest.fixture
def known(bearer: str) -> dict[str, Any]:
    """Valid values, by the names the API gives those fields: a procedure, a notification of
    this client, a fine to pay."""
    client = ApiClient.objects.get(name="schemathesis")
    registration = factories.register()
    person = registration.procedure.person
    notification = deposit_notification(
        factories.notification_input(registration.procedure.number), actor=None, client=client
    ).notification
    debt = Debt.objects.get(notification=fine(registration))
    pdf = base64.b64encode(factories.pdf_bytes()).decode()
    return {
        "number": registration.procedure.number,
        "procedure_number": registration.procedure.number,
        "notification_id": str(notification.public_id),
        "doc_type": person.doc_type,
        "doc_number": person.doc_number,
        "doc_country": "",
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "birth_date": person.birth_date.isoformat(),
        "nationality": str(person.nationality),
        "email": "",
        "mobile_phone": "",
        "procedure_type": "CPP",
        "office": "LM",
        "filing_date": "2026-03-02",
        "unit": "SIN",
        "kind": "approval",
        "subject": "Aprobación de su solicitud",
        "body": "Se **aprueba** su solicitud.",
        "attachments": [{"name": "resolucion.pdf", "content_base64": pdf}],
        "payment_code": debt.payment_code,
        "source": "pagalo",
        "transaction_id": "000123",
        "amount": "100.00",
        "paid_at": timezone.now().isoformat(),
    }


@pytest.fixture
def wsgi_in_the_test_transaction() -> Iterator[None]:
    """As django.test.Client does: close_old_connections, connected to these signals, would
    close the connection that holds the test's transaction (the WSGI calls share it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def with_known(value: Any, known: dict[str, Any]) -> Any:
    """`value` with every field named like a known one given the known value, at any depth."""
    if isinstance(value, dict):
        return {k: known[k] if k in known else with_known(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [with_known(v, known) for v in value]
    return value


@pytest.mark.usefixtures("wsgi_in_the_test_transaction")
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_server_error_and_every_response_conforms(
    operation: APIOperation[Any, Any, Any, Any], bearer: str, known: dict[str, Any]
) -> None:
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),  # valid by the document
        operation.as_strategy(GenerationMode.NEGATIVE),  # invalid: must be a 4xx
    )

    @hypothesis.settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # failures unshrunk
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    @hypothesis.given(case=cases, use_known=st.booleans())
    def run(case: Case[Any], use_known: bool) -> None:
        if use_known:  # to get past the 404s and 422s into the endpoints' code
            case.path_parameters = with_known(case.path_parameters, known)
            case.query = with_known(case.query, known)
            if case.media_type == "application/json":
                case.body = with_known(case.body, known)
        case.headers["Authorization"] = f"Bearer {bearer}"
        case.headers["Idempotency-Key"] = next(_idempotency_keys)  # every POST needs one
        case.call_and_validate(checks=CHECKS)

    run()
