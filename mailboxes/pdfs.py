"""Attachment checks: a real PDF by its first bytes and by a parse, within the size limit."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PyPdfError

_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+", re.UNICODE)


@dataclass(frozen=True)
class CheckedPdf:
    content: bytes | None  # None: read again from `source` when written
    original_name: str
    sha256: str
    size: int
    source: Path | None = None

    def without_content(self, source: Path) -> CheckedPdf:
        return CheckedPdf(None, self.original_name, self.sha256, self.size, source)

    def loaded(self) -> CheckedPdf:
        """With its content, re-read from disk if needed; refused if it changed since the
        check (the file on disk must be the one that was validated)."""
        if self.content is not None:
            return self
        assert self.source is not None
        changed = ValidationError(
            _("El archivo «%(name)s» cambió después de revisarlo; vuelva a intentarlo.")
            % {"name": self.original_name},
            code="changed",
        )
        try:
            content = self.source.read_bytes()
        except OSError:
            raise changed from None
        if hashlib.sha256(content).hexdigest() != self.sha256:
            raise changed
        return CheckedPdf(content, self.original_name, self.sha256, self.size, self.source)


def safe_name(name: str) -> str:
    """A display name: no path, no control characters, ends in .pdf, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" ._") or "documento"
    if not base.lower().endswith(".pdf"):
        base += ".pdf"
    return base[-120:]


def check_pdf(content: bytes, name: str) -> CheckedPdf:
    label = safe_name(name)
    limit = settings.BUZON_ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise ValidationError(
            _("El archivo «%(name)s» pesa %(size)s MB; el máximo es %(max)s MB.")
            % {
                "name": label,
                "size": f"{len(content) / 1_048_576:.1f}",
                "max": f"{limit / 1_048_576:.0f}",
            },
            code="too_large",
        )
    if not content.startswith(b"%PDF-"):
        raise ValidationError(
            _("El archivo «%(name)s» no es un PDF.") % {"name": label}, code="not_pdf"
        )
    try:
        # pypdf logs warnings for damaged-but-readable files; a refusal is what matters here.
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _("El archivo «%(name)s» está protegido con contraseña.") % {"name": label},
                code="encrypted_pdf",
            )
        # The catalogue's page count: a parse of the document structure that does not build
        # the whole page list (which costs as much again on long documents).
        catalog: Any = reader.trailer["/Root"]
        pages = catalog["/Pages"].get("/Count", 0)
        if not isinstance(pages, int) or pages < 1:
            raise PyPdfError("no pages")
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, RecursionError):
        raise ValidationError(
            _("El archivo «%(name)s» está dañado o no se puede leer como PDF.") % {"name": label},
            code="broken_pdf",
        ) from None
    return CheckedPdf(content, label, hashlib.sha256(content).hexdigest(), len(content))
