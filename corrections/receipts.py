"""The cargo de presentación: what the person filed in answer to a correction request, when,
and the SHA-256 of every file, so that either side can later prove what was received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from ui.pdf import (
    BODY,
    MONO,
    SMALL,
    STRONG,
    SUBTITLE,
    TITLE,
    build,
    e,
    rows,
    section,
    size_label,
    when,
)


@dataclass(frozen=True)
class ReceiptFile:
    item: int
    item_description: str
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ReceiptContent:
    answer_id: str
    procedure_number: str
    procedure_type: str
    person_name: str
    document_label: str
    notification_subject: str
    notification_id: str
    deposited_at: datetime
    deadline_date: date | None
    unit: str
    filed_at: datetime
    files: list[ReceiptFile]
    has_note: bool


def _file_block(number: int, file: ReceiptFile) -> Flowable:
    return KeepTogether(
        [
            Paragraph(
                e(
                    _("%(n)d. %(name)s (%(size)s) · observación %(item)d")
                    % {
                        "n": number,
                        "name": file.name,
                        "size": size_label(file.size),
                        "item": file.item,
                    }
                ),
                STRONG,
            ),
            Paragraph(e(file.item_description), SMALL),
            Paragraph(e(f"SHA-256: {file.sha256}"), MONO),
            Spacer(1, 2.5 * mm),
        ]
    )


def render_receipt(content: ReceiptContent) -> bytes:
    """The cargo as a PDF, always in the agency's language (it is a record, like the act)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _render(content)


def _render(content: ReceiptContent) -> bytes:
    agency = settings.AGENCY
    story: list[Flowable] = [
        Paragraph(e(_("Cargo de presentación").upper()), TITLE),
        Spacer(1, 1.5 * mm),
        Paragraph(
            e(_("Respuesta a una solicitud de subsanación · Trámite N.° %(number)s"))
            % {"number": e(content.procedure_number)},
            SUBTITLE,
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            e(
                _(
                    "%(agency)s deja constancia de que recibió, por su Buzón Electrónico, la "
                    "respuesta descrita a continuación."
                )
                % {"agency": agency["name"]}
            ),
            BODY,
        ),
        section(_("Presentación")),
        rows(
            [
                (_("Presentada el"), when(content.filed_at)),
                (_("Administrado"), f"{content.person_name} · {content.document_label}"),
                (_("Trámite"), f"{content.procedure_number} · {content.procedure_type}"),
                (_("Notificación que responde"), content.notification_subject),
                (_("Unidad"), content.unit),
                (_("Depositada el"), when(content.deposited_at)),
                (
                    _("Plazo para subsanar"),
                    _("hasta el %(date)s") % {"date": content.deadline_date.strftime("%d/%m/%Y")}
                    if content.deadline_date
                    else "—",
                ),
                (
                    _("Nota del administrado"),
                    _("Sí, presentada con la respuesta") if content.has_note else _("No"),
                ),
                (_("Código de la respuesta"), content.answer_id),
            ]
        ),
        section(_("Archivos presentados (%(n)d)") % {"n": len(content.files)}),
        Paragraph(
            e(
                _(
                    "El SHA-256 es la huella digital de cada archivo: si el archivo cambia en un "
                    "solo byte, su huella es otra."
                )
            ),
            SMALL,
        ),
        Spacer(1, 2 * mm),
    ]
    story += [_file_block(n, f) for n, f in enumerate(content.files, start=1)]
    story += [
        section(_("Efecto de la presentación")),
        Paragraph(
            e(
                _(
                    "Con esta presentación el plazo para subsanar queda detenido (artículo 136.3 "
                    "del TUO de la Ley N.° 27444). La unidad revisará cada observación; si alguna "
                    "no queda subsanada, recibirá una nueva notificación en su Buzón Electrónico."
                )
            ),
            BODY,
        ),
    ]
    return build(
        story,
        title=_("Cargo de presentación %(number)s") % {"number": content.procedure_number},
        subject=_("Cargo de presentación de una subsanación"),
        footer=_("Cargo de presentación · respuesta %(id)s · presentada el %(when)s")
        % {"id": content.answer_id, "when": when(content.filed_at)},
    )
