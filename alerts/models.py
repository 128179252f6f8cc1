"""Alerts: a row in the database first, then a task that sends it (style.md).

An alert says only that a notification is waiting, never its content. Its success or failure
is recorded as evidence and never changes the notification's legal state.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Correo electrónico")
    SMS = "sms", _("SMS")


class Purpose(models.TextChoices):
    DEPOSITED = "deposited", _("Nueva notificación")
    DEADLINE_SOON = "deadline_soon", _("Plazo por vencer")
    UNOPENED_SOON = "unopened_soon", _("Notificación sin abrir")


class Status(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    # A job claimed it and is sending it now (alerts.actions.deliver()).
    SENDING = "sending", _("Enviando")
    SENT = "sent", _("Enviada")
    FAILED = "failed", _("Fallida")
    # A reminder not sent: when its turn came, what it would remind of no longer held (the
    # notification was opened, an answer stopped the deadline...). Why is in last_error.
    SKIPPED = "skipped", _("No enviada: ya no corresponde")


class Alert(models.Model):
    notification = models.ForeignKey(
        "mailbox.Notification", on_delete=models.PROTECT, related_name="alerts"
    )
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("motivo"), max_length=20, choices=Purpose.choices)
    destination = models.CharField(_("destino"), max_length=254)
    # A reminder's date: the deadline or the deemed date it reminds of (alerts/reminders.py);
    # none for a deposit alert. A date that moves gets a reminder of its own.
    about_date = models.DateField(_("fecha que recuerda"), null=True, blank=True)
    status = models.CharField(
        _("estado"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    last_error = models.CharField(_("último error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("creada el"), auto_now_add=True)
    sent_at = models.DateTimeField(_("enviada el"), null=True, blank=True)
    # The last attempt's end: a retry is due a backoff after it (requeue_stale_alerts()).
    last_attempt_at = models.DateTimeField(_("último intento el"), null=True, blank=True)
    # While sending: until when the job that claimed the alert owns it. A claim still held
    # after that is a worker that died mid-attempt; requeue_stale_alerts() takes it back.
    claimed_until = models.DateTimeField(_("reservada hasta"), null=True, blank=True)

    class Meta:
        verbose_name = _("alerta")
        verbose_name_plural = _("alertas")
        ordering = ["id"]
        constraints = [
            # Reruns never alert twice: one deposit alert per notification and channel, and
            # one reminder per notification, channel, purpose and date reminded of.
            models.UniqueConstraint(
                fields=["notification", "channel", "purpose"],
                condition=models.Q(about_date__isnull=True),
                name="alert_once",
            ),
            models.UniqueConstraint(
                fields=["notification", "channel", "purpose", "about_date"],
                condition=models.Q(about_date__isnull=False),
                name="alert_once_per_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose} → {self.destination} ({self.status})"
