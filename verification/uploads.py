"""Hashing an uploaded PDF as it arrives, without keeping any of it.

The upload handler sees the request body in chunks while Django parses it: it feeds them to
SHA-256, remembers the first five bytes (a PDF starts with %PDF-) and counts the size. Nothing
is written to memory or disk, and a file over the limit stops the parse at that point.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest
from django.utils.translation import gettext as _

FIELD = "archivo"
_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Upload:
    sha256: str
    size: int
    is_pdf: bool


class HashingUploadHandler(FileUploadHandler):
    """Hashes the first file sent in FIELD; every other file part is skipped."""

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.http_request = request
        self.max_bytes = max_bytes
        self.upload: Upload | None = None
        self.too_big = False
        self._digest: Any = None
        self._head = b""
        self._size = 0

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != FIELD or self._digest is not None or self.upload is not None:
            raise SkipFile
        self._digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self.too_big = True
            raise StopUpload(connection_reset=False)
        if len(self._head) < len(_MAGIC):
            self._head += raw_data[: len(_MAGIC) - len(self._head)]
        self._digest.update(raw_data)
        return None  # consumed here: no later handler stores it

    def file_complete(self, file_size: int) -> None:
        if self._digest is not None and self.upload is None:
            self.upload = Upload(self._digest.hexdigest(), self._size, self._head == _MAGIC)
        # Returning no file object keeps request.FILES empty: the result is self.upload.


def size_label(size: int) -> str:
    if size >= 1_048_576:
        return f"{size / 1_048_576:.0f} MB"
    return f"{max(1, size // 1024)} KB"


def upload_error(handler: HashingUploadHandler) -> str | None:
    """What is wrong with the upload, in the visitor's language, or None."""
    # Parse the body through the handler, unless the CSRF check has done it already.
    handler.http_request.FILES  # noqa: B018
    if handler.too_big:
        return _("El archivo pesa más de %(max)s, el máximo que se puede comprobar.") % {
            "max": size_label(handler.max_bytes)
        }
    if handler.upload is None:
        return _("Elija el archivo PDF que quiere comprobar.")
    if not handler.upload.is_pdf:
        return _("El archivo no es un PDF. Elija el documento PDF tal como lo recibió.")
    return None
