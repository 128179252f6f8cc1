"""The constancia de notificación: a signed PDF snapshot of what the evidence log holds about
one notification, as of the moment it is issued.

It prints what was notified (identity, canonical content hash, attachment hashes), to whom, by
whom and when (the timeline of evidence entries, each with its position and hash), and how the
deposit entry is anchored in the log: the latest signed checkpoint and, once the deposit entry
is sealed, its Merkle inclusion proof, so that a court can check it offline. The PDF carries a
verification code and a QR code to /verificar/<code>, and the agency's PAdES signature.

`snapshot()` reads, `draw()` lays out (unsigned), `render_certificate()` does both and signs.
evidence.actions.issue_certificate() is the one place that issues and registers a certificate.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from evidence import pki
from evidence.models import Certificate, Checkpoint, Event, EventKind
from evidence.proofs import InclusionProof, inclusion_proof, sealing_checkpoint
from procedures.pdf import BODY, INK, LABEL, MUTED, PERU_RED, RULE, SMALL

# The constancia de trámite's look: same colours, type and header band.
from ui.pdf import INNER_W, LABEL_W, MARGIN, SUBTITLE, TITLE, e, furnished, section

if TYPE_CHECKING:
    from mailboxes.models import Attachment, Notification, Opening

SIGNATURE_REASON = "Constancia de notificación electrónica"
HASH_PREFIX = 16  # hex characters of an entry's hash shown in the timeline

MONO = ParagraphStyle("mono", parent=BODY, fontName="Courier", fontSize=8, leading=10)
NOTE = ParagraphStyle("note", parent=SMALL, fontSize=7.5, leading=9.5, spaceBefore=1)
MONO_PATH = ParagraphStyle("mono_path", parent=MONO, fontSize=7, leading=8.6)
MONO_CELL = ParagraphStyle("mono_cell", parent=MONO, fontSize=7, leading=10)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=10)
CELL_MUTED = ParagraphStyle("cell_muted", parent=CELL, textColor=MUTED)
CELL_HEAD = ParagraphStyle("cell_head", parent=CELL, fontName="Helvetica-Bold", textColor=MUTED)
CODE = ParagraphStyle(
    "code", parent=BODY, fontName="Courier-Bold", fontSize=17, leading=22, textColor=INK
)


# --- What the certificate says ------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    notification: Notification
    attachments: list[Attachment]
    opening: Opening | None
    events: list[Event]
    deposit: Event | None
    latest: Checkpoint | None
    proof: InclusionProof | None
    """None while the deposit entry is not sealed by any checkpoint yet."""


def latest_checkpoint(as_of: datetime) -> Checkpoint | None:
    """The highest checkpoint made by `as_of`: the one a certificate issued then refers to."""
    return Checkpoint.objects.filter(created_at__lte=as_of).order_by("-number").first()


def snapshot(notification: Notification, *, as_of: datetime) -> Snapshot:
    """Everything a certificate issued at `as_of` shows, read from the database."""
    events = list(
        Event.objects.filter(notification=notification, occurred_at__lte=as_of).order_by(
            "occurred_at", "id"
        )
    )
    deposit = next((x for x in events if x.kind == EventKind.NOTIFICATION_DEPOSITED), None)
    latest = latest_checkpoint(as_of)
    sealed_by = sealing_checkpoint(deposit, latest) if deposit else None
    opening = getattr(notification, "opening", None)
    if opening is not None and opening.opened_at > as_of:
        opening = None
    return Snapshot(
        notification=notification,
        attachments=list(notification.attachments.order_by("id")),
        opening=opening,
        events=events,
        deposit=deposit,
        latest=latest,
        proof=inclusion_proof(deposit, sealed_by) if deposit and sealed_by else None,
    )


# --- Words --------------------------------------------------------------------------------------


def _when(value: datetime) -> str:
    lima = timezone.localtime(value, timezone.get_default_timezone())
    return lima.strftime("%d/%m/%Y %H:%M:%S")


def _day(value: date | str | None) -> str:
    if value is None or value == "None":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def _size(size: int) -> str:
    if size < 1024:
        return ngettext("%(n)d byte", "%(n)d bytes", size) % {"n": size}
    kb = f"{size / 1024:.1f}".replace(".", ",")
    return _("%(kb)s KB (%(n)s bytes)") % {"kb": kb, "n": f"{size:,}".replace(",", ".")}


def mask_destination(destination: str) -> str:
    """An alert's email or phone, recognisable by its owner but not readable by others."""
    if "@" in destination:
        local, _at, domain = destination.partition("@")
        return local[:1] + "*" * max(len(local) - 1, 3) + "@" + domain
    if len(destination) <= 6:
        return "*" * len(destination)
    return destination[:3] + "*" * (len(destination) - 6) + destination[-3:]


def _policy_label(text: str) -> str:
    from legaltime.policies import Policy

    try:
        return Policy.parse(text).label
    except ValueError:
        return text


INSTALLMENT_DUE = gettext_lazy("cuota por vencer")  # payments.Reminder's purpose


def heading(event: Event) -> str:
    """The entry's title: its kind, except for an alert attempt whose job stopped midway, which
    is not called failed (it may have been delivered)."""
    from alerts.actions import was_interrupted

    data = event.data if isinstance(event.data, dict) else {}
    if event.kind in (EventKind.ALERT_ATTEMPTED, EventKind.ALERT_FAILED) and was_interrupted(
        data.get("error")
    ):
        if event.kind == EventKind.ALERT_FAILED:
            return _("Alerta sin confirmar en el último intento")
        return _("Intento de alerta interrumpido; se reintentará")
    return str(event.get_kind_display())


def describe(event: Event) -> str:
    """What an entry says, in a line of Spanish (reportlab Paragraph markup)."""
    data: dict[str, Any] = event.data
    kind = event.kind
    if kind == EventKind.NOTIFICATION_DEPOSITED:
        count = len(data.get("attachments", []))
        return e(
            ngettext(
                "Depositada en la casilla electrónica con %(n)d documento adjunto. %(rule)s.",
                "Depositada en la casilla electrónica con %(n)d documentos adjuntos. %(rule)s.",
                count,
            )
            % {"n": count, "rule": _policy_label(data.get("policy", ""))}
        )
    if kind in (EventKind.NOTIFICATION_EFFECTIVE, EventKind.NOTIFICATION_DEEMED_REJECTED):
        text = (
            _("Se entiende rechazada el %(day)s.")
            if kind == EventKind.NOTIFICATION_DEEMED_REJECTED
            else _("Surte efecto el %(day)s.")
        ) % {"day": _day(data.get("effective_date"))}
        if data.get("rule"):
            text += " " + _("Fundamento: %(rule)s.") % {"rule": data["rule"].rstrip(".")}
        if data.get("deadline_date"):
            text += " " + _("El plazo para responder vence el %(day)s.") % {
                "day": _day(data["deadline_date"])
            }
        return e(text)
    if kind in (EventKind.ALERT_SENT, EventKind.ALERT_ATTEMPTED, EventKind.ALERT_FAILED):
        from alerts.actions import was_interrupted
        from alerts.models import Channel, Purpose

        channel = data.get("channel", "")
        purpose = data.get("purpose", "")
        text = _("%(channel)s a %(destination)s (%(purpose)s), intento %(attempt)s.") % {
            "channel": Channel(channel).label if channel in Channel.values else channel,
            "destination": mask_destination(data.get("destination", "")),
            "purpose": Purpose(purpose).label
            if purpose in Purpose.values
            else INSTALLMENT_DUE
            if purpose == "installment_due"
            else purpose,
            "attempt": data.get("attempt", "—"),
        }
        if kind != EventKind.ALERT_SENT:
            # The error itself is not printed: a mail server's message can name the address.
            text += " " + (
                _(
                    "Entrega no confirmada: el envío se interrumpió antes de registrar su "
                    "resultado, así que pudo llegar o no; la notificación es válida igualmente."
                )
                if was_interrupted(data.get("error"))
                else _("No se pudo entregar; la notificación es válida igualmente.")
            )
        return e(text)
    if kind == EventKind.NOTIFICATION_OPENED:
        return e(_("Abierta por primera vez desde la IP %(ip)s.") % {"ip": data.get("ip")}) + (
            f'<br/><font size="7" color="#52606D">{e(data.get("user_agent") or "")}</font>'
        )
    if kind == EventKind.NOTIFICATION_VIEWED:
        return e(_("Consultada de nuevo desde la IP %(ip)s.") % {"ip": data.get("ip")})
    if kind == EventKind.ATTACHMENT_DOWNLOADED:
        return e(
            _("Descargó «%(name)s» desde la IP %(ip)s.")
            % {"name": data.get("attachment", ""), "ip": data.get("ip")}
        )
    if kind == EventKind.DEADLINE_EXPIRED:
        return e(
            _("Venció el plazo para responder (%(day)s).")
            % {"day": _day(data.get("deadline_date"))}
        )
    if kind == EventKind.DATES_RECALCULATED:
        effect = data.get("effective_date") or ["None", "None"]
        deadline = data.get("deadline_date") or ["None", "None"]
        return e(
            _(
                "%(reason)s. Fecha de efecto: antes %(e0)s, ahora %(e1)s. Vencimiento del "
                "plazo: antes %(d0)s, ahora %(d1)s."
            )
            % {
                "reason": str(data.get("reason", "")).rstrip("."),
                "e0": _day(effect[0]),
                "e1": _day(effect[1]),
                "d0": _day(deadline[0]),
                "d1": _day(deadline[1]),
            }
        )
    if kind == EventKind.NOTIFICATION_ANSWERED:
        count = len(data.get("files", []))
        return e(
            ngettext(
                "Respuesta presentada con %(n)d archivo; el plazo se detuvo (art. 136.3). "
                "SHA-256 del cargo: %(hash)s…",
                "Respuesta presentada con %(n)d archivos; el plazo se detuvo (art. 136.3). "
                "SHA-256 del cargo: %(hash)s…",
                count,
            )
            % {"n": count, "hash": str(data.get("receipt_sha256", ""))[:HASH_PREFIX]}
            + (
                " "
                + _(
                    "Llegó dentro del plazo: queda sin efecto el vencimiento registrado "
                    "mientras se revisaban sus archivos."
                )
                if data.get("deadline_expired") == [True, False]
                else ""
            )
        )
    if kind == EventKind.ANSWER_REVIEWED:
        items = data.get("items", [])
        met = sum(1 for item in items if item.get("outcome") == "met")
        return e(
            _("Respuesta revisada: %(met)d de %(total)d observaciones subsanadas.")
            % {"met": met, "total": len(items)}
            + (" " + _("Se notificó una nueva subsanación.") if data.get("follow_up") else "")
        )
    if kind == EventKind.CORRECTION_EXPIRED:
        return e(
            _("Venció el plazo sin respuesta: el trámite se tiene por no presentado (art. 136.4).")
        )
    if kind == EventKind.CORRECTION_REOPENED:
        return e(
            _(
                "Un día declarado no laborable amplió el plazo hasta el %(day)s: la subsanación "
                "vuelve a estar pendiente (arts. 136 y 145)."
            )
            % {"day": _day(data.get("deadline_date"))}
        )
    if kind == EventKind.PAYMENT_RECEIVED:
        return e(
            _("Pago de S/ %(amount)s recibido (operación %(id)s).")
            % {"amount": data.get("amount", ""), "id": data.get("transaction_id", "")}
        )
    if kind == EventKind.INSTALLMENT_OVERDUE:
        return e(
            _("Cuota %(n)s vencida el %(day)s sin pagar (S/ %(amount)s).")
            % {
                "n": data.get("installment", ""),
                "day": _day(data.get("due_date")),
                "amount": data.get("amount", ""),
            }
        )
    if kind == EventKind.PLAN_LAPSED:
        return e(
            _(
                "Fraccionamiento perdido por cuotas impagas; el saldo de S/ %(balance)s se "
                "notificó y vence en una sola deuda."
            )
            % {"balance": data.get("balance", "")}
        )
    if kind == EventKind.PAYMENT_REVIEWED:
        return e(
            _("Pago observado revisado (operación %(id)s): %(note)s")
            % {"id": data.get("transaction_id", ""), "note": data.get("note", "")}
        )
    if kind == EventKind.CERTIFICATE_ISSUED:
        # Not the code: it is semi-secret and belongs to whoever holds that copy.
        return e(
            _("SHA-256 del PDF: %(hash)s…") % {"hash": str(data.get("sha256", ""))[:HASH_PREFIX]}
        )
    return ""


# --- Layout -------------------------------------------------------------------------------------


def _qr(url: str, size: float) -> Flowable:
    """The constancia de trámite's QR code (same encoder, level M, 4-module quiet zone), as
    reportlab's flowable: it encodes once and draws straight on the canvas, about three times
    faster than the widget in a Drawing."""
    return QrCode(url, width=size, height=size, qrLevel="M", qrBorder=4)


def _value(value: str | Flowable | tuple[str, str]) -> Flowable | list[Flowable]:
    """A row's value: markup, a Flowable, or (markup, a note in small type below it)."""
    if isinstance(value, tuple):
        markup, note = value
        return [Paragraph(markup, BODY), Paragraph(note, NOTE)] if note else Paragraph(markup, BODY)
    return value if isinstance(value, Flowable) else Paragraph(value, BODY)


def _rows(rows: list[tuple[str, Any]]) -> Table:
    """Label and value rows, as on the constancia de trámite (values as in _value())."""
    data = [[Paragraph(e(label), LABEL), _value(value)] for label, value in rows]
    table = Table(data, colWidths=[LABEL_W, INNER_W - LABEL_W])
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


def _grid(head: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
    data = [[Paragraph(e(h), CELL_HEAD) for h in head], *rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, MUTED),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _mono(text: str, style: ParagraphStyle = MONO) -> Paragraph:
    return Paragraph(e(text), style)


def verification_url(code: str) -> str:
    """Where the QR code leads, as on the constancia de trámite."""
    return f"{settings.PUBLIC_BASE_URL}/verificar/{code}"


def _verification_box(code: str, issued_at: datetime) -> Table:
    qr_size = 30 * mm
    text_w = INNER_W - qr_size - 10 * mm
    left = [
        Paragraph(e(_("Código de verificación").upper()), LABEL),
        Spacer(1, 1 * mm),
        Paragraph(e(code), CODE),
        Spacer(1, 1.5 * mm),
        Paragraph(
            _(
                "Cualquier persona o entidad puede comprobar la autenticidad de esta constancia "
                "escaneando el código QR o ingresando el código en <b>%(url)s</b>. Emitida el "
                "%(when)s (hora de Lima)."
            )
            % {
                "url": e(f"{settings.PUBLIC_BASE_URL}/verificar/"),
                "when": _when(issued_at),
            },
            SMALL,
        ),
    ]
    table = Table([[left, _qr(verification_url(code), qr_size)]], colWidths=[text_w, None])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, PERU_RED),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    table.spaceBefore = 4 * mm
    return table


def _notification_rows(s: Snapshot) -> Table:
    n = s.notification
    person = n.person
    effect: tuple[str, str]
    if n.effective_date:
        effect = (_day(n.effective_date), e(n.effect_rule))
    else:
        effect = (e(_("Aún no surte efecto.")), e(_policy_label(n.policy)))
    if n.deadline_date:
        deadline = e(
            ngettext(
                "%(day)s (%(n)d día hábil)",
                "%(day)s (%(n)d días hábiles)",
                n.response_business_days or 0,
            )
            % {"day": _day(n.deadline_date), "n": n.response_business_days or 0}
        )
    elif n.response_business_days:
        deadline = e(
            ngettext(
                "%(n)d día hábil desde el día hábil siguiente a la notificación",
                "%(n)d días hábiles desde el día hábil siguiente a la notificación",
                n.response_business_days,
            )
            % {"n": n.response_business_days}
        )
    else:
        deadline = e(_("No aplica"))
    state = e(n.get_state_display())
    if n.deadline_expired_at:
        state += "<br/>" + e(
            _("Plazo vencido; registrado el %(when)s.") % {"when": _when(n.deadline_expired_at)}
        )
    if s.opening is not None:
        opening = (
            e(
                _("%(when)s desde la IP %(ip)s")
                % {"when": _when(s.opening.opened_at), "ip": s.opening.ip_address or "—"}
            ),
            e(s.opening.user_agent),
        )
    else:
        opening = (e(_("Sin abrir a la fecha de emisión de esta constancia.")), "")
    procedure = n.procedure
    return _rows(
        [
            (_("Identificador"), _mono(str(n.public_id))),
            (
                _("Número de trámite"),
                f"<b>{e(procedure.number)}</b> · {e(procedure.procedure_type.name)}",
            ),
            (_("Administrado"), e(person.full_name)),
            (_("Documento de identidad"), e(person.document_label)),
            (_("Unidad que emite"), e(n.unit.name)),
            (_("Autoridad que emite"), e(n.authority)),
            (_("Dirección de la autoridad"), e(n.authority_address)),
            (_("Tipo de notificación"), e(n.get_kind_display())),
            (_("Asunto"), e(n.subject)),
            (_("Depositada el"), e(_when(n.deposited_at))),
            (_("Surte efecto el"), effect),
            (_("Plazo para responder"), deadline),
            (_("Estado"), state),
            (_("Acuse de lectura"), opening),
        ]
    )


def _content_block(s: Snapshot) -> list[Flowable]:
    flow: list[Flowable] = [
        _rows([(_("SHA-256 del contenido"), _mono(s.notification.content_sha256))]),
        Spacer(1, 1.5 * mm),
        Paragraph(
            e(
                _(
                    "Huella del contenido canónico de la notificación: texto completo del acto, "
                    "trámite, destinatario, unidad y autoridad que emiten, tipo, asunto y "
                    "recursos. Cada entrada del registro de evidencias sobre esta notificación "
                    "lleva esta huella y las de sus documentos."
                )
            ),
            SMALL,
        ),
        Spacer(1, 2.5 * mm),
    ]
    if s.attachments:
        rows = [
            [
                Paragraph(str(i), CELL),
                [
                    Paragraph(e(a.original_name), CELL),
                    Paragraph(f'SHA-256 <font name="Courier">{e(a.sha256)}</font>', CELL_MUTED),
                ],
                Paragraph(e(_size(a.size)), CELL),
            ]
            for i, a in enumerate(s.attachments, start=1)
        ]
        flow.append(
            _grid(
                ["N.°", _("Documento adjunto y su SHA-256"), _("Tamaño")],
                rows,
                [9 * mm, INNER_W - 9 * mm - 32 * mm, 32 * mm],
            )
        )
    else:
        flow.append(Paragraph(e(_("La notificación no tiene documentos adjuntos.")), BODY))
    return flow


def _timeline(s: Snapshot) -> list[Flowable]:
    intro = Paragraph(
        e(
            _(
                "Entradas del registro de evidencias sobre esta notificación, en orden. "
                "Posición: carril y número de secuencia en el registro. Hash: primeros "
                "%(n)d caracteres del SHA-256 de la entrada."
            )
            % {"n": HASH_PREFIX}
        ),
        SMALL,
    )
    rows = [
        [
            Paragraph(e(_when(entry.occurred_at)), CELL),
            Paragraph(f"<b>{e(heading(entry))}</b><br/>{describe(entry)}", CELL),
            Paragraph(e(entry.position), CELL),
            _mono(entry.hash[:HASH_PREFIX], MONO_CELL),
        ]
        for entry in s.events
    ]
    widths = [31 * mm, INNER_W - 31 * mm - 18 * mm - 32 * mm, 18 * mm, 32 * mm]
    table = _grid([_("Fecha y hora"), _("Evento"), _("Posición"), _("Hash")], rows, widths)
    return [intro, Spacer(1, 2 * mm), table]


def _seal_block(s: Snapshot) -> list[Flowable]:
    flow: list[Flowable] = []
    if s.deposit is not None:
        flow.append(
            _rows(
                [
                    (
                        _("Entrada de depósito"),
                        _("Posición <b>%(position)s</b> · hash (SHA-256):")
                        % {"position": e(s.deposit.position)}
                        + f'<br/><font name="Courier" size="8">{e(s.deposit.hash)}</font>',
                    ),
                ]
            )
        )
    latest = s.latest
    if latest is None:
        flow.append(Spacer(1, 2 * mm))
        flow.append(
            Paragraph(
                e(
                    _(
                        "Aún no hay puntos de control: el primero sellará esta entrada. Vuelva a "
                        "descargar la constancia más adelante para obtener la prueba de inclusión."
                    )
                ),
                BODY,
            )
        )
        return flow
    flow.append(
        _rows(
            [
                (
                    _("Último punto de control"),
                    e(
                        _("N.° %(number)d, del %(when)s; %(entries)s entradas selladas")
                        % {
                            "number": latest.number,
                            "when": _when(latest.created_at),
                            "entries": f"{latest.entries:,}".replace(",", "."),
                        }
                    ),
                ),
                (_("Raíz de Merkle"), _mono(latest.merkle_root)),
                (_("Hash de la declaración"), _mono(latest.hash)),
                (_("Clave de firma (Ed25519)"), _mono(latest.key_id)),
            ]
        )
    )
    proof = s.proof
    if proof is None:
        flow.append(Spacer(1, 2 * mm))
        flow.append(
            Paragraph(
                e(
                    _(
                        "La entrada de depósito aún no está sellada por un punto de control: el "
                        "próximo la incluirá. Vuelva a descargar la constancia más adelante para "
                        "obtener la prueba de inclusión."
                    )
                ),
                BODY,
            )
        )
        return flow
    sealer = proof.checkpoint
    sealed_by = _rows(
        [
            (
                _("Sellada por"),
                e(
                    _("el punto de control N.° %(number)d, del %(when)s")
                    % {"number": sealer.number, "when": _when(sealer.created_at)}
                ),
            ),
        ]
    )
    proof_flow: list[Flowable] = [
        sealed_by,
        Spacer(1, 3 * mm),
        Paragraph(f"<b>{e(_('Prueba de inclusión de la entrada de depósito'))}</b>", BODY),
        Spacer(1, 1 * mm),
        _mono(
            _("Punto de control N.° %(number)d · índice %(index)d · tamaño %(size)d")
            % {"number": sealer.number, "index": proof.index, "size": proof.size},
            MONO_PATH,
        ),
        _mono(_("Raíz %(root)s") % {"root": sealer.merkle_root}, MONO_PATH),
        _mono(_("Ruta de auditoría, de la hoja a la raíz:"), MONO_PATH),
    ]
    proof_flow += [_mono(f"{i:02d} {h}", MONO_PATH) for i, h in enumerate(proof.path, start=1)]
    if not proof.path:
        proof_flow.append(_mono(_("(vacía: es la única entrada del punto de control)"), MONO_PATH))
    proof_flow += [
        Spacer(1, 1.5 * mm),
        Paragraph(
            e(
                _(
                    "Cómo comprobarla sin conexión (algoritmo de RFC 9162, sección 2.1.3.2): la "
                    "hoja es el hash de la entrada y cada nodo es SHA-256(0x01 || izquierdo || "
                    "derecho). Con el índice, el tamaño y la ruta se recalcula la raíz, que debe "
                    "ser igual a la raíz firmada del punto de control."
                )
            ),
            SMALL,
        ),
    ]
    flow.append(KeepTogether(proof_flow))
    return flow


def _closing(agency: dict[str, str]) -> Paragraph:
    return Paragraph(
        e(
            _(
                "Esta constancia refleja el registro de evidencias de %(agency)s a la fecha y hora "
                "de su emisión. Está firmada digitalmente por %(agency)s (firma PAdES): cualquier "
                "cambio en el documento invalida la firma. Todas las horas son de Lima (UTC-5)."
            )
            % {"agency": agency["name"]}
        ),
        SMALL,
    )


def _page_furniture(code: str, issued_at: datetime) -> type[Canvas]:
    """A canvas that draws the header band and a footer with "página X de Y" on every page."""
    return furnished(
        _("Constancia de notificación · código %(code)s · emitida el %(when)s")
        % {"code": code, "when": _when(issued_at)}
    )


def _test_notice(n: Notification) -> list[Flowable]:
    """A test mailbox's notification (a system's integration tests) says so at the top."""
    if not n.person.is_test:
        return []
    notice = _(
        "PRUEBA: casilla de prueba. Esta notificación se depositó para probar un sistema y no "
        "tiene efectos legales."
    )
    return [
        Paragraph(
            f"<b>{e(notice)}</b>",
            ParagraphStyle("test", parent=BODY, textColor=colors.HexColor("#7a4b00")),
        ),
        Spacer(1, 2 * mm),
    ]


def draw(s: Snapshot, *, code: str, issued_at: datetime) -> bytes:
    """The certificate as an unsigned PDF."""
    n = s.notification
    agency = settings.AGENCY
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=32 * mm,
        bottomMargin=24 * mm,
        title=_("Constancia de notificación electrónica %(number)s")
        % {"number": n.procedure.number},
        author=agency["name"],
        subject=_("Constancia de notificación electrónica"),
        creator="Buzón",
    )
    story: list[Flowable] = [
        Paragraph(e(_("Constancia de notificación electrónica").upper()), TITLE),
        Spacer(1, 1.5 * mm),
        Paragraph(
            e(
                _("Trámite N.° %(number)s · %(kind)s")
                % {"number": n.procedure.number, "kind": n.get_kind_display()}
            ),
            SUBTITLE,
        ),
        _verification_box(code, issued_at),
        Spacer(1, 3 * mm),
        *_test_notice(n),
        Paragraph(
            e(
                _(
                    "%(agency)s hace constar que la notificación descrita a continuación fue "
                    "depositada en la casilla electrónica del administrado, y lo que su registro "
                    "de evidencias contiene sobre ella a la fecha de emisión."
                )
                % {"agency": agency["name"]}
            ),
            BODY,
        ),
        section(_("1. La notificación")),
        _notification_rows(s),
        KeepTogether([section(_("2. Integridad del contenido")), *_content_block(s)]),
        section(_("3. Línea de tiempo")),
        *_timeline(s),
        section(_("4. Sellado en el registro de evidencias")),
        *_seal_block(s),
        Spacer(1, 5 * mm),
        _closing(agency),
    ]
    doc.build(story, canvasmaker=_page_furniture(code, issued_at))
    return buffer.getvalue()


def render_certificate(notification: Notification, *, code: str, issued_at: datetime) -> bytes:
    """The signed constancia de notificación, as of `issued_at`, in the agency's language."""
    with translation.override(settings.LANGUAGE_CODE):
        pdf = draw(snapshot(notification, as_of=issued_at), code=code, issued_at=issued_at)
    return pki.sign_pdf(pdf, reason=SIGNATURE_REASON)


def filename(procedure_number: str, code: str) -> str:
    """The download name: constancia-<procedure>-<code>.pdf, in safe characters only."""
    safe = re.sub(r"[^A-Za-z0-9-]", "", f"{procedure_number}-{code}")
    return f"constancia-{safe}.pdf"


def download_response(
    notification: Notification, certificate: Certificate, pdf: bytes
) -> HttpResponse:
    """The PDF as a download that no cache keeps (it holds personal data)."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename(notification.procedure.number, certificate.code)
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
