"""API v1: PDFs sent as multipart files, in a batch and in a single deposit, and the limits and
mistakes of such bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import encode_multipart

from api import multipart
from api.tests.test_keys_and_errors import key_for, notification_body, post, problem_of
from mailboxes.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


def pdf_file(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content or factories.pdf_bytes(), "application/pdf")


def send(
    path: str, key: str, data: dict[str, Any], idempotency_key: str, boundary: str = "frontera"
) -> Any:
    """POST data as multipart/form-data with the given boundary (a client's retry picks a new
    one). Files are read from the start, so the same data can be sent again."""
    for value in data.values():
        for upload in value if isinstance(value, list) else [value]:
            if isinstance(upload, SimpleUploadedFile):
                upload.seek(0)
    return Client().post(
        f"/api/v1{path}",
        encode_multipart(boundary, data),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )


def batch_of(*items: dict[str, Any]) -> str:
    return json.dumps({"notifications": list(items)})


def item(number: str, reference: str, **overrides: Any) -> dict[str, Any]:
    return notification_body(number, reference=reference, attachments=[]) | overrides


def test_a_multipart_batch_deposits_each_items_pdfs_and_refuses_a_bad_one_alone():
    first, second = factories.register(), factories.register()
    _key, plaintext = key_for("notifications:write", "notifications:read")
    with_base64 = notification_body(second.procedure.number, reference="m-2")
    data: dict[str, Any] = {
        "notifications": batch_of(
            item(first.procedure.number, "m-1"),
            with_base64,
            item(second.procedure.number, "m-3"),
        ),
        "attachments.0": [
            pdf_file("resolucion.pdf"),
            # Some clients send a path: only the file's own name is kept, as for any upload.
            pdf_file("C:\\expedientes\\anexo técnico.pdf", factories.pdf_bytes(2)),
        ],
        "attachments.1": [pdf_file("informe.pdf")],
        "attachments.2": [SimpleUploadedFile("foto.pdf", b"\xff\xd8\xff a JPEG", "image/jpeg")],
    }
    response = send("/notifications/batch", plaintext, data, "mp-lote-1")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert [(r["reference"], r["status"]) for r in body["results"]] == [
        ("m-1", "created"),
        ("m-2", "created"),
        ("m-3", "refused"),
    ]
    assert body["results"][2]["errors"][0]["field"] == "attachments"
    assert "no es un PDF" in body["results"][2]["errors"][0]["detail"]
    names = {
        n.procedure.number: [a.original_name for a in n.attachments.all()]  # in deposit order
        for n in Notification.objects.all()
    }
    assert names == {
        first.procedure.number: ["resolucion.pdf", "anexo técnico.pdf"],
        # The base64 PDF of the JSON first, then the file.
        second.procedure.number: ["resolucion.pdf", "informe.pdf"],
    }

    # A retry after a timeout: the client's library picks another boundary; same answer.
    again = send("/notifications/batch", plaintext, data, "mp-lote-1", boundary="otra-frontera")
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == response.content
    # The same key with the files of an item in another order, or another file, is another
    # request (the order is the attachments' order): 409.
    data["attachments.0"].reverse()
    reordered = send("/notifications/batch", plaintext, data, "mp-lote-1", boundary="tercera")
    assert reordered.status_code == 409
    data["attachments.0"].reverse()
    data["attachments.1"] = [pdf_file("informe.pdf", factories.pdf_bytes(3))]
    changed = send("/notifications/batch", plaintext, data, "mp-lote-1", boundary="cuarta")
    assert changed.status_code == 409
    assert Notification.objects.count() == 2


def test_files_a_batch_cannot_place_are_refused_by_name_and_nothing_is_deposited():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    number = registration.procedure.number
    two = batch_of(item(number, "p-1"), item(number, "p-2"))
    cases = {
        "attachments.2": "0 to 1",  # there is no third item
        "attachments": "attachments.<index>",  # no index: whose is it?
        "attachments.01": "attachments.<index>",
        "anexo": "attachments.<index>",
    }
    for index, (name, hint) in enumerate(cases.items()):
        data = {
            "notifications": two,
            "attachments.0": [pdf_file("a.pdf")],
            name: [pdf_file("b.pdf")],
        }
        response = send("/notifications/batch", plaintext, data, f"mp-place-{index}")
        assert response.status_code == 422, name
        errors = problem_of(response)["errors"]
        assert [e["field"] for e in errors] == [name]
        assert hint in errors[0]["detail"]
    # A PDF sent as a plain field, not a file: the size limit and the name are a file's.
    as_field = {"notifications": two, "attachments.1": factories.pdf_bytes().decode("latin-1")}
    response = send("/notifications/batch", plaintext, as_field, "mp-as-field")
    assert response.status_code == 422
    assert "as files (with a file name)" in problem_of(response)["errors"][0]["detail"]
    missing = send("/notifications/batch", plaintext, {"attachments.0": [pdf_file("a.pdf")]}, "m")
    assert missing.status_code == 422
    assert problem_of(missing)["errors"][0]["field"] == "notifications"
    # A field that is no JSON at all: as a JSON body that is none, a 400 (it was a 422 here).
    not_json = send("/notifications/batch", plaintext, {"notifications": "{"}, "mp-bad-json")
    assert not_json.status_code == 400
    assert problem_of(not_json)["detail"] == (
        "El campo «notifications» no es JSON válido. El error está en la línea 1, columna 1."
    )
    assert problem_of(not_json)["errors"][0]["field"] == "notifications"
    assert not Notification.objects.exists()


def test_multipart_limits_give_a_specific_problem_not_a_500(settings, monkeypatch):
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    batch = batch_of(item(registration.procedure.number, "l-1"))
    pdf = factories.pdf_bytes(pad_kb=40)

    settings.BUZON_ATTACHMENT_MAX_BYTES = 20_000
    data = {"notifications": batch, "attachments.0": [pdf_file("grande.pdf", pdf)]}
    too_big_file = send("/notifications/batch", plaintext, data, "mp-limit-1")
    assert too_big_file.status_code == 422
    error = problem_of(too_big_file)["errors"][0]
    assert (error["field"], error["detail"]) == (
        "attachments.0",
        "grande.pdf: larger than 20000 bytes.",
    )

    settings.BUZON_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    settings.BUZON_API_MAX_BODY_BYTES = 30_000
    too_big_body = send("/notifications/batch", plaintext, data, "mp-limit-2")
    assert too_big_body.status_code == 413
    assert "30000 bytes" in problem_of(too_big_body)["detail"]

    settings.BUZON_API_MAX_BODY_BYTES = 64 * 1024 * 1024
    monkeypatch.setattr(multipart, "max_parts", lambda: 2)
    data["attachments.0"] = [pdf_file("a.pdf"), pdf_file("b.pdf")]
    too_many = send("/notifications/batch", plaintext, data, "mp-limit-3")
    assert too_many.status_code == 400
    assert "more than 2 parts" in problem_of(too_many)["detail"]
    assert not Notification.objects.exists()


def test_a_key_that_may_not_deposit_cannot_send_a_large_multipart_body(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    _key, reader = key_for("notifications:read")
    pdf = factories.pdf_bytes(pad_kb=8)
    data = {"notifications": batch_of(), "attachments.0": [pdf_file("a.pdf", pdf)]}
    response = send("/notifications/batch", reader, data, "mp-reader")
    # Refused on its scope before the body is read (it would otherwise be a 413 here).
    assert response.status_code == 403
    assert json.loads(response.content)["type"].endswith("insufficient-scope")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"--frontera\r\nContent-Disposition: form-data; name=\"notifications\"\r\n\r\n[]",
         "ends before its closing boundary"),
        (b"--frontera\r\nContent-Type: text/plain\r\n\r\nx\r\n--frontera--\r\n",
         "Content-Disposition: form-data header with a name"),
        (b"--frontera\r\nContent-Disposition: form-data; name=\"notifications\"\r\n\r\n\xff\xfe"
         b"\r\n--frontera--\r\n", "is not UTF-8 text"),
    ],
)  # fmt: skip
def test_a_malformed_multipart_batch_is_a_400_problem_saying_what_is_wrong(body, detail):
    _key, plaintext = key_for("notifications:write")
    response = Client().post(
        "/api/v1/notifications/batch",
        body,
        content_type="multipart/form-data; boundary=frontera",
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "mp-malformed"},
    )
    assert response.status_code == 400
    assert detail in problem_of(response)["detail"]


def raw_post(path: str, key: str, body: bytes, content_type: str, idempotency_key: str) -> Any:
    return Client().post(
        f"/api/v1{path}",
        body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )


def parts(*fields: tuple[bytes, bytes], boundary: bytes = b"f") -> bytes:
    """A multipart body of (Content-Disposition value, content) parts."""
    body = b"".join(
        b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + content
        + b"\r\n"
        for disposition, content in fields
    )  # fmt: skip
    return body + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize(
    "disposition",
    [
        b"form-data; name=\"attachments\"; filename*=bogus''a.pdf",
        b"form-data; name*=bogus''attachments; filename=\"a.pdf\"",
        b"form-data; name=\"attachments\"; filename*=idna''a.pdf",  # a known codec that fails
    ],
)
def test_a_part_parameter_in_an_unknown_charset_is_a_400_problem_not_a_500(disposition):
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number, attachments=[])
    single = parts(
        (b'form-data; name="notification"', json.dumps(meta).encode()),
        (disposition, factories.pdf_bytes()),
    )
    items = batch_of(item(registration.procedure.number, "c-1")).encode()
    batch = parts(
        (b'form-data; name="notifications"', items),
        (disposition.replace(b"attachments", b"attachments.0"), factories.pdf_bytes()),
    )
    for path, body in (("/notifications", single), ("/notifications/batch", batch)):
        response = raw_post(path, plaintext, body, "multipart/form-data; boundary=f", "mp-cs")
        assert response.status_code == 400, path
        assert "juego de caracteres" in problem_of(response)["detail"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary*=utf-8''%E2%82%AC",  # a euro sign: not even latin-1
        "multipart/form-data; boundary*=utf-8''fronter%C3%A1",  # latin-1, not RFC 2046
        "multipart/form-data; boundary=" + "f" * 71,  # one character too many
        'multipart/form-data; boundary="f "',  # a space at the end
    ],
)
def test_a_boundary_outside_rfc_2046_is_a_400_problem_not_a_500(content_type):
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number)
    body = parts((b'form-data; name="notification"', json.dumps(meta).encode()))
    response = raw_post("/notifications", plaintext, body, content_type, "mp-boundary")
    assert response.status_code == 400
    assert "frontera (boundary)" in problem_of(response)["detail"]
    assert not Notification.objects.exists()


def test_the_longest_boundary_rfc_2046_allows_is_taken():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number)
    boundary = "'()+_,-./:=? " + "x" * 57  # every kind of character allowed, 70 in all
    body = parts(
        (b'form-data; name="notification"', json.dumps(meta).encode()), boundary=boundary.encode()
    )
    content_type = f'multipart/form-data; boundary="{boundary}"'
    response = raw_post("/notifications", plaintext, body, content_type, "mp-long-boundary")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "disposition",
    [
        b'form-data; name="attachments"; filename="acta\x00.pdf"',
        b"form-data; name=\"attachments\"; filename*=utf-8''acta%00.pdf",
    ],
)
def test_a_nul_in_a_file_name_is_refused_as_in_a_json_body(disposition):
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number, attachments=[])
    body = parts(
        (b'form-data; name="notification"', json.dumps(meta).encode()),
        (disposition, factories.pdf_bytes()),
    )
    response = raw_post("/notifications", plaintext, body, "multipart/form-data; boundary=f", "n")
    assert response.status_code == 422
    problem = problem_of(response)
    assert problem["detail"] == (
        "El nombre de la parte o el de su archivo contiene el carácter NUL (U+0000), que "
        "ningún texto puede contener."
    )
    assert problem["errors"][0]["field"] == "attachments"
    # The same PDF with that name as base64 in JSON: refused too.
    meta["attachments"] = [{"name": "acta\x00.pdf", "content_base64": "JVBERi0="}]
    assert post("/notifications", plaintext, meta, "n-json").status_code == 422
    assert not Notification.objects.exists()


def test_a_single_deposit_refuses_parts_it_does_not_take():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    meta = notification_body(registration.procedure.number, attachments=[])
    data = {"notification": json.dumps(meta), "anexos": [pdf_file("a.pdf")]}
    response = send("/notifications", plaintext, data, "mp-single")
    assert response.status_code == 422
    assert [e["field"] for e in problem_of(response)["errors"]] == ["anexos"]
    twice = {"notification": [json.dumps(meta), json.dumps(meta)]}
    assert send("/notifications", plaintext, twice, "mp-single-2").status_code == 422
    assert not Notification.objects.exists()


def test_a_file_name_given_the_rfc_2231_way_is_kept():
    registration = factories.register()
    _key, plaintext = key_for("notifications:write")
    batch = batch_of(item(registration.procedure.number, "n-1")).encode()
    body = (
        b'--f\r\nContent-Disposition: form-data; name="notifications"\r\n\r\n' + batch + b"\r\n"
        b'--f\r\nContent-Disposition: form-data; name="attachments.0"; '
        b"filename*=UTF-8''resoluci%C3%B3n%20final.pdf\r\nContent-Type: application/pdf\r\n\r\n"
        + factories.pdf_bytes()
        + b"\r\n--f--\r\n"
    )
    response = Client().post(
        "/api/v1/notifications/batch",
        body,
        content_type="multipart/form-data; boundary=f",
        headers={"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "mp-2231"},
    )
    assert response.status_code == 200, response.content
    attachment = Notification.objects.get().attachments.get()
    assert attachment.original_name == "resolución final.pdf"


class Chunked:
    """A request whose body comes without a declared length, as an ASGI server passes one on."""

    META: dict[str, str] = {}

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int) -> bytes:
        chunk = b"x" * min(size, self.left)
        self.left -= len(chunk)
        return chunk


def test_a_body_without_a_declared_length_is_refused_once_it_passes_the_limit():
    whole = multipart.read_limited(Chunked(5000), 5000)  # type: ignore[arg-type]
    assert b"".join(whole) == b"x" * 5000
    size = multipart.READ_SIZE
    read = multipart.read_limited(Chunked(3 * size), size + 1)  # type: ignore[arg-type]
    assert len(next(read)) == size
    with pytest.raises(RequestDataTooBig):
        next(read)
