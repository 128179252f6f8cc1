"""PDFs of this app (reportlab), with the look of the constancia de trámite: the receipt of a
payment (constancia de pago) and the letter that declares a plan lapsed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from payments.schedule import soles
from procedures.pdf import BODY, MUTED, PERU_RED, RULE, SMALL
from ui.pdf import INNER_W, build, e, rows, section

LABEL_W = 52 * mm

TITLE = ParagraphStyle(
    "pay_title", parent=BODY, fontName="Helvetica-Bold", fontSize=16, leading=20,
    alignment=TA_CENTER,
)  # fmt: skip
SUBTITLE = ParagraphStyle(
    "pay_subtitle", parent=BODY, fontSize=10.5, leading=14, textColor=MUTED, alignment=TA_CENTER
)
CODE = ParagraphStyle("pay_code", parent=BODY, fontName="Courier-Bold", fontSize=15, leading=18)
MONO = ParagraphStyle("pay_mono", parent=BODY, fontName="Courier", fontSize=9, leading=12)
AMOUNT = ParagraphStyle(
    "pay_amount", parent=BODY, fontName="Helvetica-Bold", fontSize=13, leading=16
)
CELL = ParagraphStyle("pay_cell", parent=BODY, fontSize=8.5, leading=11)
CELL_HEAD = ParagraphStyle("pay_cell_head", parent=CELL, fontName="Helvetica-Bold", textColor=MUTED)


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") + " (" + _("hora de Lima") + ")"


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _rows(pairs: list[tuple[str, Flowable | str]]) -> Table:
    """Rows whose string values are already paragraph markup (escaped by the caller)."""
    return rows(
        [(label, v if isinstance(v, Flowable) else Paragraph(v, BODY)) for label, v in pairs],
        label_width=LABEL_W,
    )


def _box(paragraphs: list[Paragraph], color: Any = PERU_RED) -> Table:
    table = Table([[p] for p in paragraphs], colWidths=[INNER_W])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, color),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    table.spaceBefore = 4 * mm
    return table


# --- Constancia de pago -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptContent:
    receipt_id: str
    person_name: str
    document_label: str
    procedure_number: str
    notification_subject: str
    concept: str  # "Multa", "Cuota 2 de 12 del fraccionamiento"...
    payment_code: str
    debt_amount: Decimal
    due_date: date
    amount: Decimal
    paid_at: datetime
    source: str
    transaction_id: str
    received_at: datetime
    outcome: str  # Payment.Outcome
    flag: str  # Flag, or ""
    owed_before: Decimal
    paid_total: Decimal  # on the debt, this payment included
    # A payment made before its plan lapsed, with the code of an installment the lapse then
    # cancelled, is credited to the lapsed balance: its code, the installment, the lapse.
    applied_to: str = ""
    installment: int | None = None
    lapsed_at: datetime | None = None


def _applied_text(c: ReceiptContent) -> str:
    return _(
        "Este pago se hizo el %(paid)s con el código de la cuota %(n)s, antes de que el "
        "fraccionamiento se perdiera el %(lapsed)s; esa cuota quedó anulada por la pérdida. Por "
        "eso el pago <b>se aplicó al saldo por pérdida del fraccionamiento</b>, cuyo código de "
        "pago es <b>%(code)s</b>."
    ) % {
        "paid": _when(c.paid_at),
        "n": c.installment or "",
        "lapsed": _day(timezone.localdate(c.lapsed_at)) if c.lapsed_at else "",
        "code": e(c.applied_to),
    }


def _outcome_text(c: ReceiptContent) -> str:
    balance = max(c.owed_before - c.amount, Decimal("0.00"))
    if c.flag == "pre_lapse":
        return _(
            "Este pago se hizo antes de que el fraccionamiento se perdiera, con el código de una "
            "cuota que la pérdida anuló. %(agency)s lo revisará y le informará cómo se aplica."
        ) % {"agency": settings.AGENCY["short_name"]}
    if c.flag == "closed":
        return _(
            "Esta deuda ya estaba pagada o anulada cuando se recibió el pago. %(agency)s lo "
            "revisará y le informará qué corresponde."
        ) % {"agency": settings.AGENCY["short_name"]}
    if c.outcome == "partial" and c.applied_to:
        return _(
            "<b>Pago parcial.</b> Queda un saldo pendiente de <b>%(balance)s</b>, que puede "
            "pagar con el código de pago %(code)s."
        ) % {"balance": soles(balance), "code": e(c.applied_to)}
    if c.outcome == "partial":
        return _(
            "<b>Pago parcial.</b> Queda un saldo pendiente de <b>%(balance)s</b>, que puede "
            "pagar con el mismo código de pago."
        ) % {"balance": soles(balance)}
    if c.outcome == "over":
        return _(
            "<b>Pago en exceso.</b> Se pagaron <b>%(excess)s</b> más de lo adeudado. La deuda "
            "queda pagada y %(agency)s revisará el exceso."
        ) % {"excess": soles(c.amount - c.owed_before), "agency": settings.AGENCY["short_name"]}
    return _("<b>Pago completo.</b> Esta deuda queda pagada.")


def draw_receipt(c: ReceiptContent) -> bytes:
    story: list[Flowable] = [
        Paragraph(e(_("Constancia de pago").upper()), TITLE),
        Spacer(1, 1.5 * mm),
        Paragraph(e(_("Operación N.° %(id)s") % {"id": c.transaction_id}), SUBTITLE),
        section(_("El pago")),
        _rows(
            [
                (_("Código de pago"), Paragraph(e(c.payment_code), CODE)),
                (_("Monto pagado"), Paragraph(e(soles(c.amount)), AMOUNT)),
                (_("Pagado el"), e(_when(c.paid_at))),
                (_("Canal"), e(c.source)),
                (_("N.° de operación"), Paragraph(e(c.transaction_id), MONO)),
                (_("Registrado en el Buzón el"), e(_when(c.received_at))),
            ]
        ),
        _box(
            ([Paragraph(_applied_text(c), BODY)] if c.applied_to else [])
            + [Paragraph(_outcome_text(c), BODY)]
        ),
        section(_("Lo que se paga")),
        _rows(
            ([(_("Código de pago de la deuda"), e(c.applied_to))] if c.applied_to else [])
            + [
                (_("Concepto"), e(c.concept)),
                (_("Notificación"), e(c.notification_subject)),
                (_("Trámite"), e(c.procedure_number)),
                (_("Monto de la deuda"), e(soles(c.debt_amount))),
                (_("Fecha límite de pago"), e(_day(c.due_date))),
                (_("Total pagado a la fecha"), e(soles(c.paid_total))),
            ]
        ),
        section(_("Administrado")),
        _rows(
            [
                (_("Nombres y apellidos"), e(c.person_name)),
                (_("Documento de identidad"), e(c.document_label)),
            ]
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            e(
                _(
                    "Esta constancia registra la confirmación de pago recibida del sistema de "
                    "pagos. Su huella SHA-256 queda en el registro de evidencias de %(agency)s. "
                    "Constancia N.° %(id)s."
                )
                % {"agency": settings.AGENCY["name"], "id": c.receipt_id}
            ),
            SMALL,
        ),
    ]
    return build(
        story,
        title=_("Constancia de pago %(code)s") % {"code": c.payment_code},
        subject=_("Constancia de pago"),
        footer=_("Documento emitido electrónicamente el %(when)s") % {"when": _when(c.received_at)},
    )


def render_receipt(content: ReceiptContent) -> bytes:
    """In the agency's language, whatever the request's."""
    with translation.override(settings.LANGUAGE_CODE):
        return draw_receipt(content)


# --- Pérdida del fraccionamiento ----------------------------------------------------------------


@dataclass(frozen=True)
class LapseContent:
    person_name: str
    document_label: str
    procedure_number: str
    authority: str
    plan_subject: str
    plan_deposited_at: datetime
    total: Decimal
    installments: int
    # The installments cancelled: number, due date, amount unpaid, overdue or not.
    cancelled: list[tuple[int, date, Decimal, bool]]
    missed: int
    threshold: int
    balance: Decimal
    payment_code: str
    due_date: date
    legal_basis: str
    issued_at: datetime


def draw_lapse_letter(c: LapseContent) -> bytes:
    grid = Table(
        [
            [
                Paragraph(e(_("Cuota")), CELL_HEAD),
                Paragraph(e(_("Vencimiento")), CELL_HEAD),
                Paragraph(e(_("Sin pagar")), CELL_HEAD),
                Paragraph(e(_("Situación")), CELL_HEAD),
            ],
            *[
                [
                    Paragraph(str(number), CELL),
                    Paragraph(_day(due), CELL),
                    Paragraph(e(soles(unpaid)), CELL),
                    Paragraph(e(_("Vencida") if overdue else _("Por vencer")), CELL),
                ]
                for number, due, unpaid, overdue in c.cancelled
            ],
            [
                Paragraph(e(_("Saldo")), CELL_HEAD),
                Paragraph("", CELL),
                Paragraph(f"<b>{e(soles(c.balance))}</b>", CELL),
                Paragraph("", CELL),
            ],
        ],
        colWidths=[22 * mm, 35 * mm, 40 * mm, 35 * mm],
        hAlign="LEFT",
    )
    grid.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, MUTED),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
            ]
        )
    )
    story: list[Flowable] = [
        Paragraph(e(_("Pérdida del fraccionamiento").upper()), TITLE),
        Spacer(1, 1.5 * mm),
        Paragraph(e(_("Trámite N.° %(number)s") % {"number": c.procedure_number}), SUBTITLE),
        Spacer(1, 5 * mm),
        Paragraph(
            e(
                _(
                    "%(authority)s comunica a %(name)s (%(document)s) que el fraccionamiento "
                    "aprobado mediante la notificación «%(subject)s», depositada en su Buzón "
                    "Electrónico el %(when)s, por una deuda de %(total)s en %(count)d cuotas, "
                    "se ha perdido porque %(missed)d cuotas vencieron sin pagarse por completo "
                    "(se pierde al llegar a %(threshold)d cuotas vencidas e impagas). Las cuotas "
                    "pendientes se anulan y su saldo se vuelve exigible."
                )
                % {
                    "authority": c.authority,
                    "name": c.person_name,
                    "document": c.document_label,
                    "subject": c.plan_subject,
                    "when": _when(c.plan_deposited_at),
                    "total": soles(c.total),
                    "count": c.installments,
                    "missed": c.missed,
                    "threshold": c.threshold,
                }
            ),
            BODY,
        ),
        section(_("Cuotas que se anulan")),
        grid,
        section(_("Saldo exigible")),
        _rows(
            [
                (_("Saldo"), Paragraph(e(soles(c.balance)), AMOUNT)),
                (_("Código de pago"), Paragraph(e(c.payment_code), CODE)),
                (_("Exigible desde"), e(_day(c.due_date))),
                (_("Base legal"), e(c.legal_basis)),
            ]
        ),
        _box(
            [
                Paragraph(
                    e(
                        _(
                            "Las cuotas pendientes del fraccionamiento quedan anuladas y sus "
                            "códigos de pago ya no deben usarse. Pague el saldo con el código "
                            "de pago indicado arriba."
                        )
                    ),
                    BODY,
                ),
                Paragraph(e(settings.BUZON_PAYMENT_INSTRUCTIONS), BODY),
            ]
        ),
    ]
    return build(
        story,
        title=_("Pérdida del fraccionamiento %(number)s") % {"number": c.procedure_number},
        subject=_("Pérdida del fraccionamiento"),
        footer=_("Documento emitido electrónicamente el %(when)s") % {"when": _when(c.issued_at)},
    )


def render_lapse_letter(content: LapseContent) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        return draw_lapse_letter(content)
