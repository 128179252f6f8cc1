"""Notifications deposited in a person's casilla, their attachments and their opening."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IssuingUnit(models.Model):
    """A unit of the agency that issues notifications; officers belong to one or more."""

    code = models.CharField(_("código"), max_length=20, unique=True)
    name = models.CharField(_("unidad"), max_length=200)
    authority = models.CharField(_("autoridad que emite"), max_length=200)
    address = models.CharField(_("dirección"), max_length=250)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("servidores"), blank=True, related_name="units"
    )

    class Meta:
        verbose_name = _("unidad emisora")
        verbose_name_plural = _("unidades emisoras")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Kind(models.TextChoices):
    APPROVAL = "approval", _("Aprobación")
    RESOLUTION = "resolution", _("Resolución")
    CORRECTION = "correction", _("Subsanación")
    FINE = "fine", _("Multa")
    INSTALLMENT = "installment", _("Fraccionamiento")
    OTHER = "other", _("Comunicación")


class State(models.TextChoices):
    DEPOSITED = "deposited", _("Depositada")
    OPENED = "opened", _("Leída")
    DEEMED = "deemed", _("Notificada por plazo vencido")
    REJECTED = "rejected", _("Rechazada por no abrirse")


class Notification(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    procedure = models.ForeignKey(
        "procedures.Procedure",
        verbose_name=_("trámite"),
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    # Denormalised from the procedure: every inbox query filters on it.
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="notifications"
    )
    unit = models.ForeignKey(
        IssuingUnit, verbose_name=_("unidad emisora"), on_delete=models.PROTECT
    )
    # As notified (TUO Ley 27444 art. 24.1): a later edit of the unit changes nothing here.
    authority = models.CharField(_("autoridad que emite"), max_length=200)
    authority_address = models.CharField(_("dirección de la autoridad"), max_length=250)
    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    subject = models.CharField(_("asunto"), max_length=200)
    body_markdown = models.TextField(_("texto"))
    body_html = models.TextField()  # rendered and sanitised once, at deposit
    # TUO Ley 27444 art. 24.1 (resolutions)
    ends_administrative_route = models.BooleanField(
        _("agota la vía administrativa"), null=True, blank=True
    )
    appeals = models.JSONField(_("recursos"), default=list, blank=True)
    response_business_days = models.PositiveSmallIntegerField(
        _("plazo de respuesta (días hábiles)"), null=True, blank=True
    )
    # Legal time (legaltime.policies), fixed at deposit and settled as time passes.
    policy = models.CharField(_("regla de efecto"), max_length=60)
    deposited_at = models.DateTimeField(_("depositada el"), db_index=True)
    deposited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("depositada por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    effective_date = models.DateField(_("surte efecto el"), null=True, blank=True)
    effect_rule = models.CharField(_("fundamento del efecto"), max_length=300, blank=True)
    deadline_date = models.DateField(_("vence el"), null=True, blank=True)
    # When settle() recorded that the deadline ran out (once).
    deadline_expired_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(_("abierta el"), null=True, blank=True)
    # Opening-based policies: the date an unopened notification is deemed served (or rejected).
    # Indexed, so the hourly settling and reminders read only the rows that are due.
    pending_until = models.DateField(null=True, blank=True, db_index=True)
    state = models.CharField(
        _("estado"), max_length=12, choices=State.choices, default=State.DEPOSITED
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # What the key was first used for: the same key with other content is a conflict.
    idempotency_digest = models.CharField(max_length=64, blank=True)
    # SHA-256 of the canonical content (mailboxes.actions.content_sha256), fixed at deposit;
    # every evidence entry about the notification carries it.
    content_sha256 = models.CharField(_("SHA-256 del contenido"), max_length=64)
    # What a kind carries beyond the text (mailboxes/kinds.py): the observed items of a
    # correction request, the amount and payment code of a fine, an installment schedule.
    # Checked at deposit and part of the canonical content.
    details = models.JSONField(_("detalles"), default=dict, blank=True)
    # The agency system that deposited it through the API (None: an officer or a command).
    api_client = models.ForeignKey(
        "api.ApiClient",
        verbose_name=_("sistema que la depositó"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # When the person's answer stopped the deadline (art. 136.3); no expiry after that.
    deadline_stopped_at = models.DateTimeField(_("plazo detenido el"), null=True, blank=True)

    class Meta:
        verbose_name = _("notificación")
        verbose_name_plural = _("notificaciones")
        ordering = ["-deposited_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-deposited_at"], name="notif_inbox"),
            models.Index(
                fields=["person"],
                condition=models.Q(opened_at__isnull=True),
                name="notif_unread",
            ),
            models.Index(fields=["unit", "-deposited_at"], name="notif_unit"),
            models.Index(
                fields=["deadline_date"],
                condition=models.Q(deadline_expired_at__isnull=True),
                name="notif_deadline_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.procedure_id})"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Server-generated: the original name is kept in a column, never used as a path. One folder
    # per deposit day (not per notification) keeps bulk deposits from creating a folder each.
    day = instance.notification.deposited_at
    return f"notifications/{day:%Y/%m/%d}/{uuid.uuid4().hex}.pdf"


class Attachment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("nombre original"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("tamaño en bytes"))

    class Meta:
        verbose_name = _("adjunto")
        verbose_name_plural = _("adjuntos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class Opening(models.Model):
    """The acuse de lectura: the first opening, recorded exactly once (one-to-one)."""

    notification = models.OneToOneField(
        Notification, on_delete=models.PROTECT, related_name="opening"
    )
    opened_at = models.DateTimeField(_("abierta el"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True)
    user_agent = models.CharField(_("navegador"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("acuse de lectura")
        verbose_name_plural = _("acuses de lectura")

    def __str__(self) -> str:
        return f"{self.notification_id} @ {self.opened_at:%Y-%m-%d %H:%M:%S}"
