"""The WSGI application itself: a Content-Type header Django cannot read is no 500."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from api.tests.test_keys_and_errors import key_for
from buzon.wsgi import application

pytestmark = pytest.mark.django_db

# An RFC 2231 parameter naming a charset that does not exist: Django raises while it reads the
# header, before any middleware runs.
UNREADABLE = "multipart/form-data; boundary*=bogus''x"


def call(
    method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": UNREADABLE,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    } | {f"HTTP_{name.upper()}": value for name, value in headers.items()}
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None, /) -> Any:
        started.append((status, headers))
        return lambda data: None

    # As Django's test client does: the test's own database connection stays open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        content = b"".join(chunks)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, response_headers = started[0]
    return int(status.split()[0]), dict(response_headers), content


def test_a_page_asked_with_an_unreadable_content_type_is_served():
    status, _headers, content = call("GET", "/verificar/")
    assert status == 200
    assert "Verificar un documento" in content.decode()


def test_an_api_request_with_an_unreadable_content_type_gets_a_problem():
    _key, plaintext = key_for("procedures:write")
    status, headers, content = call(
        "POST", "/api/v1/procedures", b"--x--", AUTHORIZATION=f"Bearer {plaintext}"
    )
    assert 400 <= status < 500
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(content)["detail"]
