"""The constancia de trámite as a PDF (reportlab), laid out like a Peruvian state document."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

PERU_RED = colors.HexColor("#C8102E")
INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#52606D")
RULE = colors.HexColor("#CBD2D9")
BAND = colors.HexColor("#F0F4F8")

BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=13, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10.5, textColor=MUTED)
LABEL = ParagraphStyle("label", parent=BODY, fontName="Helvetica-Bold", textColor=MUTED)
CENTER = ParagraphStyle("center", parent=BODY, alignment=TA_CENTER)


@dataclass(frozen=True)
class ReceiptContent:
    procedure_number: str
    procedure_type: str
    filing_date: date
    office: str
    office_address: str
    registered_at: datetime
    issued_at: datetime
    person_name: str
    document_label: str
    document_type: str  # the code the login form lists first, e.g. "CPP"
    document_type_name: str
    document_number: str
    nationality: str
    birth_date: date
    verification_code: str
    credentials: str  # procedures.models.Receipt.Credentials
    # None on the record copy, and when the person already had credentials.
    password: str | None = field(default=None, repr=False)

    def without_password(self) -> ReceiptContent:
        return replace(self, password=None)


def _fmt_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _fmt_datetime(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") + " (" + _("hora de Lima") + ")"


def _header(c: Canvas, width: float, top: float) -> float:
    agency = settings.AGENCY
    x = 18 * mm
    h = 11 * mm
    c.setFillColor(PERU_RED)
    c.rect(x, top - h, 20 * mm, h, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont("Helvetica-Bold", 11)
    c.drawCentredString(x + 10 * mm, top - h + 3.8 * mm, "PERÚ")
    c.setFillColor(colors.HexColor("#3E4C59"))
    c.rect(x + 20 * mm, top - h, 42 * mm, h, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont("Helvetica", 8)
    c.drawString(x + 22.5 * mm, top - h + 4 * mm, agency["sector"])
    c.setFillColor(colors.HexColor("#9AA5B1"))
    c.rect(x + 62 * mm, top - h, width - x - 62 * mm - 18 * mm, h, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont("Helvetica-Bold", 8.5)
    c.drawString(x + 64.5 * mm, top - h + 4 * mm, agency["name"])
    return float(top - h)


def _section_title(c: Canvas, text: str, x: float, y: float, width: float) -> float:
    c.setFillColor(BAND)
    c.rect(x, y - 6.5 * mm, width, 6.5 * mm, stroke=0, fill=1)
    c.setFillColor(PERU_RED)
    c.rect(x, y - 6.5 * mm, 1.2 * mm, 6.5 * mm, stroke=0, fill=1)
    c.setFillColor(INK)
    c.setFont("Helvetica-Bold", 9.5)
    c.drawString(x + 3.5 * mm, y - 4.5 * mm, text.upper())
    return float(y - 6.5 * mm)


def _rows(c: Canvas, rows: list[tuple[str, str]], x: float, y: float, width: float) -> float:
    data = [[Paragraph(label, LABEL), Paragraph(value, BODY)] for label, value in rows]
    table = Table(data, colWidths=[52 * mm, width - 52 * mm])
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
    _w, h = table.wrapOn(c, width, 500)
    table.drawOn(c, x, y - h - 2 * mm)
    return float(y - h - 2 * mm)


def _qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code (level M, 4-module quiet zone) as reportlab's flowable, as the constancia de
    notificación draws it: it encodes once and draws straight on the canvas. The widget in a
    Drawing encoded twice and built a shape per module, half of a registration's time."""
    QrCode(url, width=size, height=size, qrLevel="M", qrBorder=4).drawOn(c, x, y)


def _credentials_box(c: Canvas, content: ReceiptContent, x: float, y: float, width: float) -> None:
    """The boxed 'Credenciales de acceso' at the bottom of the page; y is the box's bottom."""
    login_url = f"{settings.PUBLIC_BASE_URL}/buzon/ingresar/"
    inner_x = x + 4 * mm
    inner_w = width - 8 * mm
    rows: list[tuple[str, str, str]] = []
    if content.password is not None:
        rows = [
            (_("Tipo de documento"), content.document_type, content.document_type_name),
            (_("Número de documento"), content.document_number, ""),
            (_("Contraseña"), content.password, ""),
        ]
        intro = ""
        if content.credentials == "reissued":
            intro = (
                _("Estas credenciales reemplazan a las anteriores, que ya no son válidas.") + " "
            )
        text = intro + _(
            "Sus credenciales son <b>personales, intransferibles y permanentes</b>: le servirán "
            "durante toda su vida migratoria en el Perú. Guárdelas en un lugar seguro y no las "
            "comparta con nadie. Ingrese en <b>%(url)s</b> eligiendo su tipo de documento, su "
            "número y la contraseña. Puede cambiar su contraseña desde el buzón."
        ) % {"url": login_url}
    elif content.credentials in ("new", "reissued"):
        text = _(
            "Las credenciales de acceso se entregaron en el original de esta constancia, el "
            "%(when)s. Por seguridad, esta copia de archivo no las muestra. Si la persona no "
            "las tiene, %(agency)s puede emitirle credenciales nuevas tras verificar su identidad."
        ) % {"when": _fmt_datetime(content.issued_at), "agency": settings.AGENCY["short_name"]}
    else:
        text = _(
            "Usted ya tiene credenciales de acceso a su Buzón Electrónico: use las mismas que "
            "recibió con su primer trámite (usuario: <b>%(doc)s</b>). Las notificaciones de este "
            "trámite llegarán a ese mismo buzón, en <b>%(url)s</b>. Si no recuerda su contraseña, "
            "acérquese a cualquier sede de %(agency)s para solicitar nuevas credenciales."
        ) % {
            "doc": content.document_label,
            "url": login_url,
            "agency": settings.AGENCY["short_name"],
        }
    para = Paragraph(text, BODY)
    _w, para_h = para.wrapOn(c, inner_w, 200)
    title_h = 8 * mm
    rows_h = len(rows) * 6.5 * mm
    height = title_h + 5 * mm + rows_h + para_h + 4 * mm

    c.setStrokeColor(PERU_RED)
    c.setLineWidth(1.4)
    c.setDash(4, 2)
    c.rect(x, y, width, height, stroke=1, fill=0)
    c.setDash()
    c.setFillColor(PERU_RED)
    c.rect(x, y + height - title_h, width, title_h, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont("Helvetica-Bold", 10.5)
    c.drawString(inner_x, y + height - 5.5 * mm, _("Credenciales de acceso a su Buzón Electrónico"))

    line_y = y + height - title_h - 7 * mm
    c.setFillColor(INK)
    value_x = inner_x + 45 * mm
    for label, value, note in rows:
        c.setFont("Helvetica", 9.5)
        c.setFillColor(INK)
        c.drawString(inner_x, line_y, f"{label}:")
        c.setFont("Courier-Bold", 13)
        c.drawString(value_x, line_y, value)
        if note:
            # Long names ("Carné de Permiso Temporal de Permanencia") go beside the code in
            # small type, shrunk if needed so nothing crosses the box.
            note_x = value_x + stringWidth(value, "Courier-Bold", 13) + 3 * mm
            size = 8.5
            while size > 6 and stringWidth(note, "Helvetica", size) > x + width - 4 * mm - note_x:
                size -= 0.25
            c.setFont("Helvetica", size)
            c.setFillColor(MUTED)
            c.drawString(note_x, line_y, f"({note})")
        line_y -= 6.5 * mm
    para.drawOn(c, inner_x, y + 4 * mm)


def render_receipt(content: ReceiptContent) -> bytes:
    buffer = io.BytesIO()
    width, height = A4
    c = Canvas(buffer, pagesize=A4, invariant=False)
    agency = settings.AGENCY
    c.setTitle(_("Constancia de trámite %(number)s") % {"number": content.procedure_number})
    c.setAuthor(agency["name"])
    c.setSubject(_("Constancia de trámite"))
    c.setCreator("Buzón")

    margin = 18 * mm
    inner = width - 2 * margin
    y = _header(c, width, height - 14 * mm)

    y -= 12 * mm
    c.setFillColor(INK)
    c.setFont("Helvetica-Bold", 16)
    c.drawCentredString(width / 2, y, _("CONSTANCIA DE TRÁMITE"))
    y -= 6.5 * mm
    c.setFont("Helvetica", 11)
    c.setFillColor(MUTED)
    c.drawCentredString(width / 2, y, _("N.° %(number)s") % {"number": content.procedure_number})

    y -= 8 * mm
    y = _section_title(c, _("Datos del trámite"), margin, y, inner)
    office = content.office + (f" — {content.office_address}" if content.office_address else "")
    y = _rows(
        c,
        [
            (_("Número de trámite"), content.procedure_number),
            (_("Tipo de trámite"), content.procedure_type),
            (_("Fecha de presentación"), _fmt_date(content.filing_date)),
            (_("Sede"), office),
            (_("Registrado el"), _fmt_datetime(content.registered_at)),
        ],
        margin,
        y,
        inner,
    )
    y -= 5 * mm
    y = _section_title(c, _("Datos del administrado"), margin, y, inner)
    y = _rows(
        c,
        [
            (_("Nombres y apellidos"), content.person_name),
            (_("Documento de identidad"), content.document_label),
            (_("Nacionalidad"), content.nationality),
            (_("Fecha de nacimiento"), _fmt_date(content.birth_date)),
        ],
        margin,
        y,
        inner,
    )

    # Verification: QR code and the code in words.
    y -= 6 * mm
    qr_size = 30 * mm
    verify_url = f"{settings.PUBLIC_BASE_URL}/verificar/{content.verification_code}"
    _qr(c, verify_url, width - margin - qr_size, y - qr_size, qr_size)
    text_w = inner - qr_size - 6 * mm
    c.setFillColor(INK)
    c.setFont("Helvetica-Bold", 9.5)
    c.drawString(margin, y - 4 * mm, _("Código de verificación"))
    c.setFont("Courier-Bold", 14)
    c.drawString(margin, y - 11 * mm, content.verification_code)
    note = Paragraph(
        _(
            "Cualquier persona o entidad puede comprobar la autenticidad de esta constancia "
            "escaneando el código QR o ingresando el código en <b>%(url)s</b>."
        )
        % {"url": f"{settings.PUBLIC_BASE_URL}/verificar/"},
        SMALL,
    )
    _w, h = note.wrapOn(c, text_w, 100)
    note.drawOn(c, margin, y - 14 * mm - h)

    y -= qr_size + 6 * mm
    notice = Paragraph(
        _(
            "Las notificaciones sobre este trámite se depositarán en su <b>Buzón Electrónico</b> "
            "y surten efecto conforme al Texto Único Ordenado de la Ley N.° 27444, Ley del "
            "Procedimiento Administrativo General (artículo 20.4). Revise su buzón con "
            "frecuencia: los plazos empiezan a correr desde la notificación."
        ),
        BODY,
    )
    _w, h = notice.wrapOn(c, inner, 100)
    notice.drawOn(c, margin, y - h)

    # Footer, then the credentials box right above it.
    footer_y = 13 * mm
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(margin, footer_y + 5 * mm, width - margin, footer_y + 5 * mm)
    c.setFont("Helvetica", 7.5)
    c.setFillColor(MUTED)
    c.drawString(margin, footer_y, f"{agency['name']} · {agency['address']} · {agency['website']}")
    c.drawString(
        margin,
        footer_y - 3.5 * mm,
        _("Documento emitido electrónicamente el %(when)s")
        % {"when": _fmt_datetime(content.issued_at)},
    )
    _credentials_box(c, content, margin, footer_y + 9 * mm, inner)

    c.showPage()
    c.save()
    return buffer.getvalue()
