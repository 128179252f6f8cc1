"""The record of legally relevant events.

Each row names the acting user and the affected person (style.md: audit records name both).
Rows are only ever appended, through evidence.actions.record(), inside the transaction of the
state change they describe. Issue 4 turns this into a hash-chained, signed registry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    PROCEDURE_REGISTERED = "procedure_registered", _("Trámite registrado")
    CREDENTIALS_ISSUED = "credentials_issued", _("Credenciales emitidas")
    CREDENTIALS_REISSUED = "credentials_reissued", _("Credenciales reemitidas")
    PASSWORD_CHANGED = "password_changed", _("Contraseña cambiada")
    RECEIPT_DOWNLOADED = "receipt_downloaded", _("Constancia descargada")
    NOTIFICATION_DEPOSITED = "notification_deposited", _("Notificación depositada")
    NOTIFICATION_EFFECTIVE = "notification_effective", _("Fecha de efecto determinada")
    NOTIFICATION_OPENED = "notification_opened", _("Acuse de lectura")
    NOTIFICATION_VIEWED = "notification_viewed", _("Notificación consultada")
    ATTACHMENT_DOWNLOADED = "attachment_downloaded", _("Adjunto descargado")
    NOTIFICATION_DEEMED_REJECTED = "notification_rejected", _("Notificación rechazada por plazo")
    DEADLINE_EXPIRED = "deadline_expired", _("Plazo vencido")
    ALERT_SENT = "alert_sent", _("Alerta enviada")
    ALERT_FAILED = "alert_failed", _("Alerta fallida")
    DATES_RECALCULATED = "dates_recalculated", _("Fechas recalculadas por cambio de calendario")
    CONTACT_VERIFIED = "contact_verified", _("Contacto para alertas verificado")
    RECEIPT_CREDENTIALS_PURGED = "receipt_credentials_purged", _("Copia con credenciales eliminada")


class Event(models.Model):
    kind = models.CharField(_("tipo"), max_length=40, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("fecha y hora"), auto_now_add=True, db_index=True)
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
    data = models.JSONField(_("datos"), default=dict, blank=True)

    class Meta:
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M:%S}"
