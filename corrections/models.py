"""Correction requests (subsanación, TUO Ley 27444 art. 136): what was observed, the person's
answer with its files and filing receipt, and the officer's review of each observation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Pendiente de respuesta")
    ANSWERED = "answered", _("Respondida: en revisión")
    ACCEPTED = "accepted", _("Subsanada")
    PARTIALLY_MET = "partially_met", _("Con observaciones pendientes: nueva solicitud")
    EXPIRED = "expired", _("Vencida: trámite no presentado")


class Outcome(models.TextChoices):
    PENDING = "pending", _("Por revisar")
    MET = "met", _("Subsanada")
    NOT_MET = "not_met", _("No subsanada")


class CorrectionRequest(models.Model):
    """One per correction notification, created in the deposit's transaction."""

    notification = models.OneToOneField(
        "mailbox.Notification",
        verbose_name=_("notificación"),
        on_delete=models.PROTECT,
        related_name="correction",
    )
    status = models.CharField(
        _("estado"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    # Deposited without listed items: the answer is one general upload (a single implicit
    # item described by the notification's subject).
    general = models.BooleanField(_("sin observaciones detalladas"), default=False)
    reviewed_at = models.DateTimeField(_("revisada el"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revisada por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The new correction request deposited for the observations that were not met.
    follow_up = models.ForeignKey(
        "mailbox.Notification",
        verbose_name=_("nueva subsanación"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expired_at = models.DateTimeField(_("vencida el"), null=True, blank=True)

    class Meta:
        verbose_name = _("solicitud de subsanación")
        verbose_name_plural = _("solicitudes de subsanación")
        ordering = ["-id"]
        permissions = [("review_answer", "Revisar respuestas a subsanaciones")]
        indexes = [models.Index(fields=["status"], name="correction_status")]

    def __str__(self) -> str:
        return f"{self.notification_id} · {self.status}"

    @property
    def deadline(self) -> date | None:
        return self.notification.deadline_date

    def deadline_passed(self, today: date | None = None) -> bool:
        """The deadline day counts whole (Lima time); after it, no answer is accepted."""
        deadline = self.notification.deadline_date
        return deadline is not None and deadline < (today or timezone.localdate())


class CorrectionItem(models.Model):
    request = models.ForeignKey(CorrectionRequest, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveSmallIntegerField(_("número"))
    description = models.CharField(_("observación"), max_length=500)
    document_kind = models.CharField(_("documento que la subsana"), max_length=120, blank=True)
    outcome = models.CharField(
        _("resultado"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    comment = models.TextField(_("comentario del revisor"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("observación")
        verbose_name_plural = _("observaciones")
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="correction_item_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description[:60]}"


def answer_path(instance: Any, filename: str) -> str:
    # Server-generated: the person's file name is kept in a column, never used as a path.
    return f"answers/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Answer(models.Model):
    """The person's answer: one per request (the one-to-one makes a double submit fail)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.OneToOneField(
        CorrectionRequest, on_delete=models.PROTECT, related_name="answer"
    )
    filed_at = models.DateTimeField(_("presentada el"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("nota"), max_length=2000, blank=True)
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True, blank=True)
    user_agent = models.CharField(_("navegador"), max_length=300, blank=True)
    # The cargo de presentación, as handed to the person; its hash is in the evidence.
    receipt = models.FileField(upload_to=answer_path, max_length=200, blank=True)
    receipt_sha256 = models.CharField(_("SHA-256 del cargo"), max_length=64, blank=True)
    receipt_size = models.PositiveIntegerField(_("tamaño del cargo en bytes"), default=0)

    class Meta:
        verbose_name = _("respuesta a una subsanación")
        verbose_name_plural = _("respuestas a subsanaciones")
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.request_id} @ {self.filed_at:%Y-%m-%d %H:%M:%S}"


class AnswerFile(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="files")
    item = models.ForeignKey(CorrectionItem, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to=answer_path, max_length=200)
    original_name = models.CharField(_("nombre original"), max_length=200)
    content_type = models.CharField(_("tipo"), max_length=50)
    size = models.PositiveIntegerField(_("tamaño en bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)

    class Meta:
        verbose_name = _("archivo de la respuesta")
        verbose_name_plural = _("archivos de la respuesta")
        ordering = ["item__position", "id"]

    def __str__(self) -> str:
        return self.original_name
