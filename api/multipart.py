"""multipart/form-data bodies of the API's deposits, parsed with python-multipart.

Both deposit endpoints take their PDFs as file parts: `POST /notifications` (a `notification`
field and `attachments` files) and `POST /notifications/batch` (a `notifications` field and
`attachments.<index>` files). The parts are kept in memory, within limits checked while the
body is read, before it is all in: the whole body as a JSON body is bounded
(BUZON_API_MAX_BODY_BYTES for a deposit by a key that may deposit), each file by
BUZON_ATTACHMENT_MAX_BYTES, and the number of parts by what a full batch may hold.
python-multipart parses a batch of 200 PDFs about four times faster than Django's parser, which
also writes every file of a body over 2.5 MB to a temporary file first.

The form is parsed once per request and kept on it (`form(request)`), so the idempotency check
and the view read the same parts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

BATCH_MAX_ITEMS = 1000  # notifications in one POST /notifications/batch
READ_SIZE = 1 << 20
# RFC 2046, 5.1.1: 1 to 70 characters of this set, the last one not a space.
BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def max_parts() -> int:
    """A full batch: its JSON field, and every item with as many PDFs as it may have."""
    return 1 + BATCH_MAX_ITEMS * settings.BUZON_ATTACHMENTS_PER_NOTIFICATION


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None  # None: a plain field, not a file
    content: bytes

    def text(self) -> str:
        try:
            return self.content.decode()
        except UnicodeDecodeError:
            raise MultiPartParserError(f"The field {self.name!r} is not UTF-8 text.") from None


@dataclass(frozen=True)
class Form:
    parts: list[Part] = field(default_factory=list)

    def named(self, name: str) -> list[Part]:
        return [p for p in self.parts if p.name == name]

    def digest(self) -> str:
        """The SHA-256 of what was sent, by content, not by bytes: clients pick a new boundary
        on every send. Each part in the order sent (it is the order of the attachments): field
        or file, its name and file name, and the SHA-256 of its content."""
        digest = hashlib.sha256(b"multipart\n")
        for part in self.parts:
            kind = "field" if part.filename is None else "file"
            content_sha = hashlib.sha256(part.content).hexdigest()
            digest.update(f"{kind} {part.name!r} {part.filename!r} {content_sha}\n".encode())
        return digest.hexdigest()


class _Collector:
    """python-multipart's callbacks: builds the parts, refusing what is over a limit."""

    def __init__(self, file_limit: int, part_limit: int) -> None:
        self.file_limit = file_limit
        self.part_limit = part_limit
        self.parts: list[Part] = []
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._field: list[bytes] = []
        self._value: list[bytes] = []
        self._data: list[bytes] = []
        self._size = 0
        self._name = ""
        self._filename: str | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._field.append(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.append(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        if len(self.parts) >= self.part_limit:
            raise TooManyFilesSent(f"The body has more than {self.part_limit} parts.")
        self._headers, self._data, self._size = {}, [], 0

    def header_end(self) -> None:
        self._headers[b"".join(self._field).strip().lower()] = b"".join(self._value).strip()
        self._field, self._value = [], []

    def headers_finished(self) -> None:
        # Django's own parsing of the header: quoted names, and RFC 2231 `filename*`.
        disposition = self._headers.get(b"content-disposition", b"")
        try:
            kind, options = parse_header_parameters(disposition.decode(errors="replace"))
        except ValueError:
            # An RFC 2231 parameter (`name*=`, `filename*=`) in a charset Python does not
            # know, or whose value that charset cannot decode (UnicodeError is a ValueError).
            raise MultiPartParserError(
                _(
                    "La cabecera Content-Disposition de una parte no se puede leer: un "
                    "parámetro RFC 2231 (name*= o filename*=) nombra un juego de caracteres "
                    "desconocido, o su valor no se puede decodificar con él."
                )
            ) from None
        if kind.lower() != "form-data" or not options.get("name"):
            raise MultiPartParserError(
                "Each part needs a Content-Disposition: form-data header with a name."
            )
        self._name = options["name"]
        self._filename = options.get("filename")
        if "\x00" in self._name or "\x00" in (self._filename or ""):
            # As anywhere in a JSON body: no text may hold U+0000 (docs/api.md, Errors).
            raise DjangoValidationError(
                {
                    self._name.replace("\x00", "\\x00"): [
                        _(
                            "El nombre de la parte o el de su archivo contiene el carácter "
                            "NUL (U+0000), que ningún texto puede contener."
                        )
                    ]
                }
            )

    def part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._filename is not None and self._size > self.file_limit:
            raise DjangoValidationError(
                {self._name: [f"{self._filename}: larger than {self.file_limit} bytes."]}
            )
        self._data.append(data[start:end])

    def part_end(self) -> None:
        self.parts.append(Part(self._name, self._filename, b"".join(self._data)))
        self._data = []

    def end(self) -> None:
        self.ended = True


def _boundary(request: HttpRequest) -> bytes:
    # Django parsed the Content-Type's parameters already (as it parses each part's header).
    boundary = (request.content_params or {}).get("boundary", "")
    if not boundary:
        raise MultiPartParserError("The multipart Content-Type has no boundary.")
    if not BOUNDARY.fullmatch(boundary):
        # Also one given the RFC 2231 way (`boundary*=utf-8''%E2%82%AC`) outside ASCII.
        raise MultiPartParserError(
            _(
                "La frontera (boundary) del Content-Type multipart no es válida: debe tener de "
                "1 a 70 caracteres, cada uno una letra o cifra ASCII, un espacio (no al final) "
                "o uno de ' ( ) + _ , - . / : = ? (RFC 2046)."
            )
        )
    return boundary.encode("ascii")


def read_limited(request: HttpRequest, limit: int) -> Iterator[bytes]:
    """The request's body in chunks, refused (RequestDataTooBig) as soon as it passes `limit`
    bytes: by its declared length before anything is read, then by what arrives (a body sent
    without a length, which an ASGI server passes on in full)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise RequestDataTooBig(f"body of {length} bytes")
    received = 0
    while chunk := request.read(READ_SIZE):
        received += len(chunk)
        if received > limit:
            raise RequestDataTooBig(f"body of more than {limit} bytes")
        yield chunk


def form(request: HttpRequest) -> Form:
    """The request's multipart form, parsed on first use (raises MultiPartParserError for a
    malformed body, RequestDataTooBig over the body limit, TooManyFilesSent over max_parts(),
    and a ValidationError naming a file part over BUZON_ATTACHMENT_MAX_BYTES)."""
    cached: Form | None = getattr(request, "_buzon_form", None)
    if cached is not None:
        return cached
    # Set when the key was authenticated (api.v1._read_body): a deposit by a key that may
    # deposit, BUZON_API_MAX_BODY_BYTES; anything else, Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    limit = getattr(request, "_buzon_body_limit", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    collector = _Collector(settings.BUZON_ATTACHMENT_MAX_BYTES, max_parts())
    try:
        parser = MultipartParser(_boundary(request), collector.callbacks())
        for chunk in read_limited(request, limit):
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise MultiPartParserError(f"Malformed multipart body: {exc}") from None
    if not collector.ended:
        raise MultiPartParserError("The multipart body ends before its closing boundary.")
    parsed = Form(collector.parts)
    request._buzon_form = parsed  # type: ignore[attr-defined]
    return parsed
