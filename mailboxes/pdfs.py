"""Attachment checks: a real PDF by its first bytes and by a parse, within the size limit."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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
        # qpdf (through pikepdf) reads the cross-reference table, the trailer and the page tree,
        # repairing what it can as a PDF viewer would; the content streams are not decoded.
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
    return CheckedPdf(content, label, hashlib.sha256(content).hexdigest(), len(content))
