"""The page layout every Buzón document shares (filing receipts, correction letters, payment
receipts, lapse letters, notification certificates): the look of the constancia de trámite
(procedures/pdf.py), flowing over as many pages as the content needs, with the header band
and a footer with "Página X de Y" on each."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from procedures.pdf import BAND, BODY, INK, LABEL, MUTED, PERU_RED, RULE, SMALL
from procedures.pdf import _header as draw_header

MARGIN = 18 * mm
PAGE_W, PAGE_H = A4
INNER_W = PAGE_W - 2 * MARGIN
LABEL_W = 48 * mm

TITLE = ParagraphStyle(
    "c_title", parent=BODY, fontName="Helvetica-Bold", fontSize=15, leading=19, alignment=TA_CENTER
)
SUBTITLE = ParagraphStyle(
    "c_subtitle", parent=BODY, fontSize=10, leading=13, textColor=MUTED, alignment=TA_CENTER
)
SECTION = ParagraphStyle(
    "c_section", parent=BODY, fontName="Helvetica-Bold", fontSize=9.5, leading=12, textColor=INK
)
STRONG = ParagraphStyle("c_strong", parent=BODY, fontName="Helvetica-Bold")
MONO = ParagraphStyle("c_mono", parent=BODY, fontName="Courier", fontSize=7.6, leading=10)

__all__ = ["BODY", "LABEL", "MONO", "SMALL", "STRONG", "SUBTITLE", "TITLE", "e"]


def e(text: object) -> str:
    """Plain text made safe for reportlab's paragraph markup."""
    return html.escape(str(text), quote=False)


def when(moment: datetime) -> str:
    """Date and time in Lima, to the second."""
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M:%S") + " (" + _("hora de Lima") + ")"


def size_label(size: int) -> str:
    if size < 1024:
        return _("%(n)d bytes") % {"n": size}
    if size < 1_048_576:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1_048_576:.1f} MB"


def section(title: str) -> Table:
    table = Table([[Paragraph(e(title.upper()), SECTION)]], colWidths=[INNER_W])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BAND),
                ("LINEBEFORE", (0, 0), (0, -1), 3.4, PERU_RED),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    table.spaceBefore = 5 * mm
    table.spaceAfter = 1.5 * mm
    table.keepWithNext = True
    return table


def rows(
    pairs: Sequence[tuple[str, str | Flowable | list[Flowable]]], *, label_width: float = LABEL_W
) -> Table:
    """Label and value rows; a string value is plain text (escaped here)."""
    data = [
        [Paragraph(e(label), LABEL), Paragraph(e(value), BODY) if isinstance(value, str) else value]
        for label, value in pairs
    ]
    table = Table(data, colWidths=[label_width, INNER_W - label_width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def furnished(footer: str) -> type[Canvas]:
    """A canvas that draws the header band, the agency line, `footer` and "Página X de Y"."""
    agency = settings.AGENCY

    class FurnishedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furnish(number, total)
                super().showPage()
            super().save()

        def _furnish(self, number: int, total: int) -> None:
            draw_header(self, PAGE_W, PAGE_H - 14 * mm)
            footer_y = 13 * mm
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, footer_y + 5 * mm, PAGE_W - MARGIN, footer_y + 5 * mm)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(MUTED)
            self.drawString(
                MARGIN, footer_y, f"{agency['name']} · {agency['address']} · {agency['website']}"
            )
            self.drawString(MARGIN, footer_y - 3.5 * mm, footer)
            self.drawRightString(
                PAGE_W - MARGIN,
                footer_y - 3.5 * mm,
                _("Página %(n)d de %(total)d") % {"n": number, "total": total},
            )

    return FurnishedCanvas


def build(story: list[Flowable], *, title: str, subject: str, footer: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=32 * mm,
        bottomMargin=24 * mm,
        title=title,
        author=settings.AGENCY["name"],
        subject=subject,
        creator="Buzón",
    )
    doc.build(story, canvasmaker=furnished(footer))
    return buffer.getvalue()
