"""What a person may upload with an answer: a PDF, JPEG or PNG, recognised by its content (its
first bytes, then a parse), within the size limit, under a sanitised display name; and, where
ClamAV is configured, scanned by clamd before anything is written."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pikepdf
from clamdpy import ClamdNetworkSocket, ClamdUnixSocket
from clamdpy.exceptions import ClamdException
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

# A photo of a document needs far fewer; this keeps a small file that declares a huge canvas
# (a decompression bomb) from being decoded.
IMAGE_MAX_PIXELS = 40_000_000
# All the files of one answer together, by the sizes they declare, before any is read: they are
# held in memory together while they are checked and scanned (without it, 20 observations with
# 5 files of 10 MB each would be 1 GB).
ANSWER_MAX_TOTAL_BYTES = 50 * 1024 * 1024
CLAMD_TIMEOUT_SECONDS = 30
CLAMD_CHUNK_BYTES = 64 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
_IMAGE_MAGIC = {b"\xff\xd8\xff": ("JPEG", JPEG), b"\x89PNG\r\n\x1a\n": ("PNG", PNG)}
_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+", re.UNICODE)


@dataclass(frozen=True)
class UploadInput:
    """A file as received: its name as the person's device gave it, its declared size, and how
    to read it (not read at all when it is over the size limit)."""

    name: str
    size: int
    read: Callable[[], bytes] = field(repr=False)

    @classmethod
    def of(cls, name: str, content: bytes) -> UploadInput:
        return cls(name, len(content), lambda: content)


@dataclass(frozen=True)
class CheckedUpload:
    content: bytes = field(repr=False)
    name: str  # sanitised, with the extension of what the content really is
    content_type: str
    sha256: str
    size: int


class ScannerUnavailableError(Exception):
    """clamd is configured but did not answer: the upload is refused (fail closed)."""


def safe_name(name: str, content_type: str) -> str:
    """A display name: no path, no control or unusual characters, at most 120 characters, and
    the extension of the detected type (a JPEG named "carta.pdf" is shown as "carta.jpg")."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" ._") or "documento"
    stem, dot, extension = base.rpartition(".")
    if dot and extension.lower() in {"pdf", "jpg", "jpeg", "png"}:
        base = stem.strip(" ._") or "documento"
    suffix = EXTENSIONS[content_type]
    return base[: 120 - len(suffix)] + suffix


def _label(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return (_UNSAFE_NAME.sub("_", base).strip(" ._") or "documento")[:120]


def too_large(label: str, size: int) -> ValidationError:
    limit = settings.BUZON_ANSWER_FILE_MAX_BYTES
    return ValidationError(
        _("El archivo «%(name)s» pesa %(size)s MB; el máximo es %(max)s MB.")
        % {"name": label, "size": f"{size / 1_048_576:.1f}", "max": f"{limit / 1_048_576:.0f}"},
        code="too_large",
    )


def total_too_large(total: int) -> str:
    """The refusal of an answer whose files together weigh more than ANSWER_MAX_TOTAL_BYTES."""
    return _(
        "Los archivos de su respuesta pesan en total %(size)s MB; el máximo por respuesta es "
        "%(max)s MB. Reduzca el tamaño o la cantidad de archivos."
    ) % {
        "size": f"{total / 1_048_576:.1f}",
        "max": f"{ANSWER_MAX_TOTAL_BYTES / 1_048_576:.0f}",
    }


def _check_image(content: bytes, label: str, expected: str) -> None:
    """Open the image (its header only: Image.open() decodes no pixels), refuse it if it
    declares more than IMAGE_MAX_PIXELS, then verify it. The pixel check is what stops a
    decompression bomb; the process-wide warnings filters are left alone (catch_warnings() is
    not thread-safe, and gunicorn runs threads), so Pillow's own DecompressionBombWarning, for
    a canvas between its MAX_IMAGE_PIXELS and twice that, is only logged before the refusal."""
    from PIL import Image

    refused = ValidationError(
        _("El archivo «%(name)s» está dañado o no se puede leer como imagen.") % {"name": label},
        code="broken_image",
    )
    too_many_pixels = ValidationError(
        _("La imagen «%(name)s» es demasiado grande.") % {"name": label},
        code="too_many_pixels",
    )
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            if width * height > IMAGE_MAX_PIXELS:
                raise too_many_pixels
            image.verify()
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        raise too_many_pixels from None
    except Exception:  # Pillow raises many kinds for what is not a readable image
        raise refused from None
    if kind != expected:
        raise refused


def _check_pdf(content: bytes, label: str) -> None:
    """A parse by qpdf (through pikepdf), as mailboxes.pdfs.check_pdf() does it: at least one
    page, no password. Not check_pdf() itself: it applies BUZON_ATTACHMENT_MAX_BYTES, the limit
    of the agency's attachments, and an answer file is limited by BUZON_ANSWER_FILE_MAX_BYTES
    (checked before this)."""
    try:
        # The cross-reference table, the trailer and the page tree, repaired as a viewer would;
        # the content streams are not decoded.
        with pikepdf.open(io.BytesIO(content)) as document:
            pages = document.Root.Pages.get("/Count", 0)
            if document.is_encrypted:
                raise pikepdf.PasswordError("encrypted")
    except pikepdf.PasswordError:
        raise ValidationError(
            _("El archivo «%(name)s» está protegido con contraseña.") % {"name": label},
            code="encrypted_pdf",
        ) from None
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        pages = 0
    if not isinstance(pages, int) or pages < 1:
        raise ValidationError(
            _("El archivo «%(name)s» está dañado o no se puede leer como PDF.") % {"name": label},
            code="broken_pdf",
        )


def check_upload(upload: UploadInput) -> CheckedUpload:
    """Refuse anything that is not really a PDF, JPEG or PNG, whatever its name says."""
    label = _label(upload.name)
    if upload.size > settings.BUZON_ANSWER_FILE_MAX_BYTES:
        raise too_large(label, upload.size)
    content = upload.read()
    if len(content) > settings.BUZON_ANSWER_FILE_MAX_BYTES:
        raise too_large(label, len(content))
    if not content:
        raise ValidationError(
            _("El archivo «%(name)s» está vacío.") % {"name": label}, code="empty"
        )
    if content.startswith(b"%PDF-"):
        _check_pdf(content, label)  # after the size check, which used the answer's own limit
        content_type = PDF
    else:
        for magic, (pillow_format, image_type) in _IMAGE_MAGIC.items():
            if content.startswith(magic):
                _check_image(content, label, pillow_format)
                content_type = image_type
                break
        else:
            raise ValidationError(
                _(
                    "El archivo «%(name)s» no es un PDF, JPG ni PNG. Solo se aceptan esos "
                    "formatos, sea cual sea el nombre del archivo."
                )
                % {"name": label},
                code="not_allowed",
            )
    return CheckedUpload(
        content=content,
        name=safe_name(upload.name, content_type),
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )


# --- ClamAV -----------------------------------------------------------------------------------


def scanner() -> ClamdNetworkSocket | None:
    """A clamd client for settings.BUZON_CLAMD_URL ("unix:///run/clamav/clamd.ctl" or
    "tcp://127.0.0.1:3310"), or None when scanning is off (the setting is empty)."""
    url = (settings.BUZON_CLAMD_URL or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "unix" and parts.path:
        return ClamdUnixSocket(
            parts.path, timeout=CLAMD_TIMEOUT_SECONDS, max_chunk_size=CLAMD_CHUNK_BYTES
        )
    if parts.scheme == "tcp" and parts.hostname:
        return ClamdNetworkSocket(
            parts.hostname,
            parts.port or 3310,
            timeout=CLAMD_TIMEOUT_SECONDS,
            max_chunk_size=CLAMD_CHUNK_BYTES,
        )
    raise ImproperlyConfigured(
        "BUZON_CLAMD_URL must be unix:///path/to/clamd.sock or tcp://host:port"
    )


def scan(uploads: list[CheckedUpload]) -> dict[int, ValidationError]:
    """Scan each file with clamd (INSTREAM). Returns the refusals by index (an infected file);
    raises ScannerUnavailableError when clamd is configured but cannot give an answer."""
    client = scanner()
    if client is None or not uploads:
        return {}
    refused: dict[int, ValidationError] = {}
    for index, upload in enumerate(uploads):
        try:
            result = client.instream(io.BytesIO(upload.content))
        except (ClamdException, OSError) as exc:
            log.error("clamd at %s did not scan an upload: %r", settings.BUZON_CLAMD_URL, exc)
            raise ScannerUnavailableError(str(exc)) from exc
        if result.status == "FOUND":
            log.warning("clamd refused an upload (sha256 %s): %s", upload.sha256, result.reason)
            refused[index] = ValidationError(
                _("El archivo «%(name)s» contiene un virus o un programa malicioso y no se aceptó.")
                % {"name": upload.name},
                code="infected",
            )
        elif result.status != "OK":
            log.error("clamd could not scan an upload: %s", result.reason)
            raise ScannerUnavailableError(result.reason or "ERROR")
    return refused
