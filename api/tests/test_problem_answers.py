"""API v1: a path, a method or a body the API cannot take still gets a problem+json answer
with a specific detail in Spanish, never the site's HTML pages or ninja's text/html."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from api.tests.test_keys_and_errors import key_for, problem_of

pytestmark = pytest.mark.django_db


def call(method: str, path: str, key: str = "", **extra: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k-1"} if key else {}
    # CSRF checked as in production: a POST to a wrong path must not meet the site's CSRF page.
    client = Client(enforce_csrf_checks=True)
    return getattr(client, method)(f"/api/v1{path}", headers=headers, **extra)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/nope", "/", "/procedures/LM260000001/otra-cosa"])
def test_a_path_the_api_does_not_have_is_a_404_problem(method, path):
    _key, plaintext = key_for("procedures:write")
    for key in (plaintext, ""):  # with a key or without one
        response = call(method, path, key)
        assert response.status_code == 404
        detail = problem_of(response)["detail"]
        assert detail.startswith(f"La API no tiene la ruta /api/v1{path}.")
        assert "/api/v1/openapi.json" in detail


@pytest.mark.parametrize(
    ("path", "bare"),
    [("/me/", "/api/v1/me"), ("/notifications/batch/", "/api/v1/notifications/batch")],
)
def test_a_trailing_slash_is_named_in_the_404(path, bare):
    _key, plaintext = key_for("notifications:write")
    response = call("post", path, plaintext)
    assert response.status_code == 404
    assert problem_of(response)["detail"] == (
        f"La API no tiene la ruta /api/v1{path}: sus rutas no terminan en barra. Use {bare}."
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/notifications", "POST"),
        ("get", "/notifications", "POST"),
        ("get", "/notifications/batch", "POST"),
        ("delete", "/me", "GET"),
        ("post", "/procedures/LM260000001", "GET"),
    ],
)
def test_a_method_a_path_does_not_take_is_a_405_problem_with_allow(method, path, allowed):
    _key, plaintext = key_for("notifications:write")
    response = call(method, path, plaintext)
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert problem_of(response)["detail"] == (
        f"La ruta /api/v1{path} no admite el método {method.upper()}; admite: {allowed}."
    )


ALL_SCOPES = ("procedures:write", "payments:write", "notifications:write")
NOT_JSON = "El cuerpo de la solicitud no es JSON válido."


@pytest.mark.parametrize(
    "path", ["/procedures", "/payments", "/notifications", "/notifications/batch"]
)
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"person": {"doc_type": "CE",}}',
            f"{NOT_JSON} El error está en la línea 1, columna 30.",
        ),
        (b'{\n  "subject": "\xff"\n}', f"{NOT_JSON} El error está en la línea 2, columna 15."),
        # Deeper than either parser goes (json.loads, or pydantic's for the deposits).
        (b"[" * 100_000 + b"]" * 100_000, f"{NOT_JSON} El error está en la línea 1, columna 202."),
        (b"subject=Aprobaci%C3%B3n", f"{NOT_JSON} El error está en la línea 1, columna 1."),
        (b"", "El cuerpo de la solicitud está vacío; se espera JSON."),
    ],
)
def test_a_body_that_is_no_json_is_the_same_400_problem_on_every_post(path, body, detail):
    """ninja parses the bodies of /procedures and /payments, the deposits parse theirs: a body
    that is no JSON at all reads the same on all four."""
    _key, plaintext = key_for(*ALL_SCOPES)
    response = Client().generic(
        "POST",
        f"/api/v1{path}",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "k-1"},
    )
    assert response.status_code == 400
    problem = problem_of(response)
    assert problem["type"].endswith("/malformed-json")
    assert problem["detail"] == detail
