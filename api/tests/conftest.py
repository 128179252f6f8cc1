"""Every response to /api/v1/ that a test gets through django.test.Client (the `client`
fixture or any `Client()`) is checked against the live OpenAPI document served at
/api/v1/openapi.json: the status must be declared for the operation, the content type must be
a declared one, and a JSON body must validate against the declared schema. A request that is
no operation of the document must be a problem+json 405 (a path it has, another method) or
404. A response that does not match fails the test, naming the operation, the status and the
validation error."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from django.http import HttpResponseBase
from django.test import Client

OPENAPI_URL = "/api/v1/openapi.json"
NOT_VALIDATED = {OPENAPI_URL, "/api/v1/docs"}  # the description itself, not the API

_cache: dict[str, Any] = {}  # the document and compiled validators, for the whole run


def openapi() -> dict[str, Any]:
    """The document the running API serves (fetched once)."""
    if "document" not in _cache:
        served = Client().get(OPENAPI_URL)
        assert served.status_code == 200, f"{OPENAPI_URL} answered {served.status_code}"
        _cache["document"] = json.loads(served.content)
    document: dict[str, Any] = _cache["document"]
    return document


def _path_item(path: str) -> tuple[str, dict[str, Any]] | None:
    """The path template a concrete path is routed to, and its operations by method; a literal
    path wins over a template (`/notifications/batch` before `/notifications/{notification_id}`,
    whatever the method: Django routes by the path alone)."""
    found = []
    for template, item in openapi()["paths"].items():
        pattern = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}/]+\})", template)
        )
        if re.fullmatch(pattern, path):
            found.append((template.count("{"), template, item))
    if not found:
        return None
    _, template, item = min(found, key=lambda match: match[0])
    return template, item


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The path template and operation of a concrete request."""
    found = _path_item(path)
    if found is None or method not in found[1]:
        return None
    return found[0], found[1][method]


def _validator(schema: dict[str, Any]) -> Any:
    """A JSON Schema 2020-12 validator (OpenAPI 3.1) in which `#/components/...` resolves."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _cache:
        root = {**schema, "components": openapi().get("components", {})}
        _cache[key] = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    return _cache[key]


def mismatch(method: str, path: str, response: HttpResponseBase) -> str | None:
    """What is wrong with this response according to the OpenAPI document, or None."""
    found = _operation(method.lower(), path)
    if found is None:
        return _not_an_operation(method, path, response)
    template, operation = found
    status = response.status_code
    where = f"{method.upper()} {template} ({operation.get('operationId')}) answered {status}"
    responses = operation.get("responses", {})
    declared = next(
        (responses[k] for k in (str(status), f"{status // 100}XX", "default") if k in responses),
        None,
    )
    if declared is None:
        return f"{where}: status {status} is not declared (declared: {', '.join(responses)})"
    content_type = (response.get("Content-Type") or "").split(";")[0].strip().lower()
    body = b"" if response.streaming else response.content  # type: ignore[attr-defined]
    content = declared.get("content") or {}
    if not content:
        if body or response.streaming:
            return f"{where}: the document declares no body, but one came as {content_type}"
        return None
    if content_type not in content:
        return (
            f"{where}: content type {content_type or '(none)'} is not declared "
            f"(declared: {', '.join(content)})"
        )
    schema = content[content_type].get("schema")
    if schema is None or not (content_type.endswith(("/json", "+json"))):
        return None  # a binary body (application/pdf): status and content type only
    try:
        data = json.loads(body)
    except ValueError as error:
        return f"{where}: the body is not JSON ({error})"
    errors = [
        f"at /{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in _validator(schema).iter_errors(data)
    ]
    if errors:
        return f"{where}: the body does not match the schema: " + "; ".join(errors[:5])
    return None


def _not_an_operation(method: str, path: str, response: HttpResponseBase) -> str | None:
    """A request the document has no operation for: a path it has, with another method, is a
    problem+json 405 whose Allow header names the document's methods; any other path, a
    problem+json 404."""
    item = _path_item(path)
    methods = sorted(m.upper() for m in item[1]) if item else []
    expected = 405 if methods else 404
    where = f"{method.upper()} {path} (no operation of the document) answered"
    if response.status_code != expected:
        return f"{where} {response.status_code}, not {expected}"
    content_type = (response.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/problem+json":
        return f"{where} {expected} as {content_type or '(none)'}, not application/problem+json"
    body = json.loads(response.content)  # type: ignore[attr-defined]
    problem_schema = {"$ref": "#/components/schemas/Problem"}
    errors = [e.message for e in _validator(problem_schema).iter_errors(body)]
    if errors:
        return f"{where} a problem that does not match the schema: " + "; ".join(errors[:5])
    if expected == 405 and response.get("Allow") != ", ".join(methods):
        return f"{where} 405 with Allow {response.get('Allow')!r}, not {', '.join(methods)!r}"
    return None


@pytest.fixture(autouse=True)
def _responses_match_the_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wraps django.test.Client.request, which every Client call (get, post, ...) goes
    through, for the duration of each test in api/tests."""
    original = Client.request

    def request(self: Client, **environ: Any) -> Any:
        response = original(self, **environ)
        path = environ["PATH_INFO"]
        if path.startswith("/api/v1/") and path not in NOT_VALIDATED:
            if response.status_code >= 500:
                # Declared on every operation, but no test may ever see one.
                pytest.fail(f"{environ['REQUEST_METHOD']} {path} answered {response.status_code}")
            wrong = mismatch(environ["REQUEST_METHOD"], path, response)
            if wrong:
                pytest.fail(f"API response not as the OpenAPI document says: {wrong}", False)
        return response

    monkeypatch.setattr(Client, "request", request)
