"""The evidence log: an append-only, hash-chained record of every legal event.

Each row names the acting user and the affected person (style.md: audit records name both).
Rows are only ever appended, through evidence.actions.record_many(), inside the transaction of
the state change they describe; database triggers refuse UPDATE and DELETE. `canonical` holds
the entry's canonical JSON and `hash` its SHA-256; the other columns mirror it for queries and
are checked against it by verify_evidence. docs/evidence.md explains the chain, the lanes and
the checkpoints.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    PROCEDURE_REGISTERED = "procedure_registered", _("Trámite registrado")
    CREDENTIALS_ISSUED = "credentials_issued", _("Credenciales emitidas")
    CREDENTIALS_REISSUED = "credentials_reissued", _("Credenciales reemitidas")
    PASSWORD_CHANGED = "password_changed", _("Contraseña cambiada")
    PASSWORD_RESET = "password_reset", _("Contraseña restablecida con un enlace o código")
    RECEIPT_DOWNLOADED = "receipt_downloaded", _("Constancia descargada")
    NOTIFICATION_DEPOSITED = "notification_deposited", _("Notificación depositada")
    NOTIFICATION_EFFECTIVE = "notification_effective", _("Fecha de efecto determinada")
    NOTIFICATION_OPENED = "notification_opened", _("Acuse de lectura")
    NOTIFICATION_VIEWED = "notification_viewed", _("Notificación consultada")
    ATTACHMENT_DOWNLOADED = "attachment_downloaded", _("Adjunto descargado")
    NOTIFICATION_DEEMED_REJECTED = "notification_rejected", _("Notificación rechazada por plazo")
    DEADLINE_EXPIRED = "deadline_expired", _("Plazo vencido")
    ALERT_ATTEMPTED = "alert_attempted", _("Intento de alerta fallido; se reintentará")
    ALERT_SENT = "alert_sent", _("Alerta enviada")
    ALERT_FAILED = "alert_failed", _("Alerta fallida")
    NOTIFICATION_ANSWERED = "notification_answered", _("Respuesta presentada")
    DATES_RECALCULATED = "dates_recalculated", _("Fechas recalculadas por cambio de calendario")
    CONTACT_VERIFIED = "contact_verified", _("Contacto para alertas verificado")
    RECEIPT_CREDENTIALS_PURGED = "receipt_credentials_purged", _("Copia con credenciales eliminada")
    CERTIFICATE_ISSUED = "certificate_issued", _("Constancia de notificación emitida")
    IDENTITY_VERIFIED = "identity_verified", _("Identidad verificada en la Agencia Digital")
    CREDENTIAL_REQUEST_RECEIVED = "request_received", _("Solicitud de credenciales recibida")
    CREDENTIAL_REQUEST_MERGED = "request_merged", _("Copia de una solicitud fusionada")
    CREDENTIAL_REQUEST_APPROVED = "request_approved", _("Solicitud de credenciales aprobada")
    CREDENTIAL_REQUEST_REJECTED = "request_rejected", _("Solicitud de credenciales rechazada")
    ANSWER_REVIEWED = "answer_reviewed", _("Respuesta a la subsanación revisada")
    CORRECTION_EXPIRED = "correction_expired", _("Subsanación vencida: trámite no presentado")
    CORRECTION_REOPENED = (
        "correction_reopened",
        _("Subsanación reabierta: el calendario amplió su plazo"),
    )
    PAYMENT_RECEIVED = "payment_received", _("Pago recibido")
    INSTALLMENT_OVERDUE = "installment_overdue", _("Cuota vencida")
    PLAN_LAPSED = "plan_lapsed", _("Fraccionamiento perdido")
    PAYMENT_REVIEWED = "payment_reviewed", _("Pago observado revisado")
    RECEIPT_ISSUED = "receipt_issued", _("Constancia de trámite emitida")


class Event(models.Model):
    kind = models.CharField(_("tipo"), max_length=40, choices=EventKind.choices)
    lane = models.PositiveSmallIntegerField(_("carril"))
    seq = models.PositiveBigIntegerField(_("número de secuencia"))
    occurred_at = models.DateTimeField(_("fecha y hora"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("persona afectada"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    procedure = models.ForeignKey(
        "procedures.Procedure",
        verbose_name=_("trámite"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    notification = models.ForeignKey(
        "mailbox.Notification",
        verbose_name=_("notificación"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    canonical = models.TextField(_("entrada canónica (JSON)"))
    prev_hash = models.CharField(_("hash de la entrada anterior"), max_length=64)
    hash = models.CharField(_("hash (SHA-256)"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["lane", "seq"], name="evidence_event_lane_seq"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="evidence_event_seq_1"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    @cached_property
    def entry(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.canonical)
        return parsed

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.entry["data"]
        return data

    @property
    def position(self) -> str:
        """Where the entry sits in the log: lane and sequence number, e.g. "0:1042"."""
        return f"{self.lane}:{self.seq}"


class ChainHead(models.Model):
    """The last entry of each lane. A transaction that appends locks one lane's head row, so
    concurrent transactions append to different lanes instead of waiting for each other."""

    lane = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # The time of the lane's last entry: a lane's times never go back, even if the clocks of
    # two application hosts disagree (verify_evidence checks it).
    at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cabeza de carril")
        verbose_name_plural = _("cabezas de carril")

    def __str__(self) -> str:
        return f"{self.lane}:{self.seq}"


class Checkpoint(models.Model):
    """A signed seal over the log: the Merkle root of the entries since the previous
    checkpoint, and every lane's head, signed with the agency's Ed25519 key."""

    number = models.PositiveIntegerField(_("número"), unique=True)
    created_at = models.DateTimeField(_("fecha y hora"))
    statement = models.TextField(_("declaración firmada (JSON canónico)"))
    hash = models.CharField(_("hash de la declaración"), max_length=64, unique=True)
    merkle_root = models.CharField(_("raíz de Merkle"), max_length=64)
    entries = models.PositiveBigIntegerField(_("entradas selladas"))
    key_id = models.CharField(_("clave"), max_length=32)
    signature = models.CharField(_("firma Ed25519 (hex)"), max_length=128)
    timestamp_token = models.BinaryField(_("sello de tiempo RFC 3161"), null=True, blank=True)

    class Meta:
        verbose_name = _("punto de control")
        verbose_name_plural = _("puntos de control")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"#{self.number} {self.merkle_root[:12]}"

    @cached_property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.statement)
        return parsed


class Certificate(models.Model):
    """A constancia de notificación that was issued: what a verification code, or an uploaded
    copy of the PDF, is checked against. The PDF itself is not kept (it holds personal data
    and can be issued again); its hash is. Rows are append-only (evidence/triggers.py)."""

    code = models.CharField(_("código de verificación"), max_length=19, unique=True)
    notification = models.ForeignKey(
        "mailbox.Notification",
        verbose_name=_("notificación"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issued_at = models.DateTimeField(_("emitida el"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("solicitada por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sha256 = models.CharField(_("SHA-256 del PDF firmado"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("tamaño en bytes"))
    # The latest checkpoint when it was issued (None before the first seal).
    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("punto de control"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("constancia de notificación")
        verbose_name_plural = _("constancias de notificación")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.code
