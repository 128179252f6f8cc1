"""The follow-up correction request, when a review finds observations not met: its subject, its
text (Markdown) and its PDF letter (every notification carries at least one PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from ui.pdf import BODY, SMALL, STRONG, SUBTITLE, TITLE, build, e, rows, section, when


@dataclass(frozen=True)
class Unmet:
    position: int  # in the new request
    description: str
    document_kind: str
    comment: str


@dataclass(frozen=True)
class FollowUp:
    procedure_number: str
    procedure_type: str
    person_name: str
    document_label: str
    unit: str
    authority: str
    original_subject: str
    answered_at: datetime
    reviewed_at: datetime
    business_days: int
    items: list[Unmet]


def subject(content: FollowUp) -> str:
    text = _("Nueva subsanación: observaciones no subsanadas de «%(subject)s»") % {
        "subject": content.original_subject
    }
    return text if len(text) <= 200 else text[:199] + "…"


def body(content: FollowUp) -> str:
    """The notification's text, in Markdown (rendered and sanitised at deposit)."""
    lines = [
        ngettext(
            "Revisada su respuesta del %(when)s a la solicitud de subsanación «%(subject)s», "
            "la siguiente observación **no quedó subsanada**:",
            "Revisada su respuesta del %(when)s a la solicitud de subsanación «%(subject)s», "
            "las siguientes observaciones **no quedaron subsanadas**:",
            len(content.items),
        )
        % {"when": when(content.answered_at), "subject": _md(content.original_subject)},
        "",
    ]
    for item in content.items:
        lines.append(
            f"{item.position}. **{_md(item.description)}** — "
            + _("Documento: %(kind)s.") % {"kind": _md(item.document_kind)}
            + " "
            + _("Motivo: %(comment)s") % {"comment": _md(item.comment)}
        )
    lines += [
        "",
        ngettext(
            "Tiene %(days)d día hábil para subsanar lo indicado, contado desde el día hábil "
            "siguiente a esta notificación.",
            "Tiene %(days)d días hábiles para subsanar lo indicado, contados desde el día hábil "
            "siguiente a esta notificación.",
            content.business_days,
        )
        % {"days": content.business_days}
        + " "
        + _("Responda desde esta misma notificación, adjuntando los documentos indicados."),
        "",
        _(
            "Si no subsana en el plazo, el trámite se considerará no presentado (artículo 136.4 "
            "del TUO de la Ley N.° 27444)."
        ),
    ]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text shown as typed: Markdown's special characters escaped."""
    special = "\\`*_[]<>"
    return "".join("\\" + ch if ch in special else ch for ch in " ".join(text.split()))


def letter_pdf(content: FollowUp) -> bytes:
    story: list[Flowable] = [
        Paragraph(e(_("Solicitud de subsanación").upper()), TITLE),
        Spacer(1, 1.5 * mm),
        Paragraph(
            e(_("Observaciones no subsanadas · Trámite N.° %(number)s"))
            % {"number": e(content.procedure_number)},
            SUBTITLE,
        ),
        section(_("Datos")),
        rows(
            [
                (_("Administrado"), f"{content.person_name} · {content.document_label}"),
                (_("Trámite"), f"{content.procedure_number} · {content.procedure_type}"),
                (
                    _("Emite"),
                    content.authority
                    if content.authority == content.unit
                    else f"{content.authority} · {content.unit}",
                ),
                (_("Solicitud anterior"), content.original_subject),
                (_("Respuesta presentada el"), when(content.answered_at)),
                (_("Revisada el"), when(content.reviewed_at)),
            ]
        ),
        section(_("Observaciones no subsanadas")),
    ]
    for item in content.items:
        story.append(
            KeepTogether(
                [
                    Paragraph(e(f"{item.position}. {item.description}"), STRONG),
                    Paragraph(
                        e(_("Documento que la subsana: %(kind)s") % {"kind": item.document_kind}),
                        BODY,
                    ),
                    Paragraph(e(_("Motivo: %(comment)s") % {"comment": item.comment}), BODY),
                    Spacer(1, 3 * mm),
                ]
            )
        )
    story += [
        section(_("Plazo")),
        Paragraph(
            e(
                ngettext(
                    "Tiene %(days)d día hábil para subsanar lo indicado, contado desde el día "
                    "hábil siguiente a la notificación de esta solicitud en su Buzón Electrónico "
                    "(artículo 136 del TUO de la Ley N.° 27444).",
                    "Tiene %(days)d días hábiles para subsanar lo indicado, contados desde el día "
                    "hábil siguiente a la notificación de esta solicitud en su Buzón Electrónico "
                    "(artículo 136 del TUO de la Ley N.° 27444).",
                    content.business_days,
                )
                % {"days": content.business_days}
                + " "
                + _(
                    "Si no subsana en el plazo, el trámite se considerará no presentado "
                    "(artículo 136.4)."
                )
            ),
            BODY,
        ),
        Spacer(1, 3 * mm),
        Paragraph(
            e(
                _("Responda desde su Buzón Electrónico: %(url)s")
                % {"url": f"{settings.PUBLIC_BASE_URL}/buzon/"}
            ),
            SMALL,
        ),
    ]
    return build(
        story,
        title=_("Solicitud de subsanación %(number)s") % {"number": content.procedure_number},
        subject=_("Solicitud de subsanación"),
        footer=_("Solicitud de subsanación · trámite %(number)s · emitida el %(when)s")
        % {"number": content.procedure_number, "when": when(content.reviewed_at)},
    )
