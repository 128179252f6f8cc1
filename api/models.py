"""API clients (an agency system: procedures, fines, payments) and their keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from buzon import secretbox


class Scope(models.TextChoices):
    PROCEDURES_WRITE = "procedures:write", _("registrar trámites")
    NOTIFICATIONS_WRITE = "notifications:write", _("depositar notificaciones")
    NOTIFICATIONS_READ = "notifications:read", _("consultar notificaciones")
    PAYMENTS_WRITE = "payments:write", _("confirmar pagos")


class ApiClient(models.Model):
    """A system of the agency that talks to the buzón. A test client registers only test
    persons and deposits only into test mailboxes (Person.is_test)."""

    name = models.CharField(_("nombre"), max_length=100, unique=True)
    is_test = models.BooleanField(_("de prueba"), default=False)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)
    # Webhooks: signed POSTs of this client's events (api/webhooks.py). The secret must be
    # readable to sign, so it is kept encrypted, not hashed (buzon/secretbox.py): a database
    # dump alone does not give it away. It is shown only in /oficina/.
    callback_url = models.URLField(_("URL de notificación (webhook)"), max_length=500, blank=True)
    sealed_callback_secret = models.BinaryField(blank=True, default=b"", editable=False)
    # The issuing units it may act for, as an officer's units: it deposits only in their name
    # and reads (and gets the events of) only their notifications. None: it can do neither.
    units = models.ManyToManyField(
        "mailbox.IssuingUnit",
        verbose_name=_("unidades emisoras"),
        blank=True,
        related_name="api_clients",
    )

    class Meta:
        verbose_name = _("sistema cliente de la API")
        verbose_name_plural = _("sistemas clientes de la API")

    def __str__(self) -> str:
        return f"{self.name} (prueba)" if self.is_test else self.name

    @property
    def callback_secret(self) -> str:
        """The signing secret ("" if there is none); secretbox.UnreadableError if it was sealed
        under another BUZON_FILE_ENCRYPTION_KEY."""
        if not self.sealed_callback_secret:
            return ""
        return secretbox.unseal(secretbox.WEBHOOK_SECRETS, self.sealed_callback_secret).decode()

    @callback_secret.setter
    def callback_secret(self, value: str) -> None:
        self.sealed_callback_secret = (
            secretbox.seal(secretbox.WEBHOOK_SECRETS, value.encode()) if value else b""
        )


class ApiKey(models.Model):
    """A key: `buzon_<live|test>_<prefix>_<secret>`. Only the SHA-256 of the whole key is
    kept (it has 256 random bits, so a slow hash adds nothing); the prefix finds the row."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="keys")
    name = models.CharField(_("nombre"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("permisos"), default=list)
    created_at = models.DateTimeField(_("creada el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revocada el"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("clave de la API")
        verbose_name_plural = _("claves de la API")

    def __str__(self) -> str:
        return f"{self.client.name}: {self.name} ({self.prefix}…)"

    @property
    def is_test(self) -> bool:
        return self.client.is_test


class IdempotentRequest(models.Model):
    """The first answer to a POST with a given Idempotency-Key, per client: the same key with
    the same body gets it again; with another body, 409. A row with status 0 is a request
    still being processed."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    path = models.TextField()  # as long as the URL the server took: no limit of its own
    body_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_once")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"


class WebhookType(models.TextChoices):
    DEPOSITED = "deposited", _("depositada")
    EFFECTIVE = "effective", _("surtió efecto")
    OPENED = "opened", _("abierta")
    ANSWERED = "answered", _("respondida")
    EXPIRED = "expired", _("plazo vencido")
    DEEMED_REJECTED = "deemed_rejected", _("rechazada por plazo")
    ALERT_FAILED = "alert_failed", _("alerta fallida")
    PAYMENT_RECEIVED = "payment_received", _("pago recibido")


class WebhookEvent(models.Model):
    """One event of a client's notification, written in the transaction of the evidence entry
    it mirrors (an outbox). `cursor` is given after commit, in commit order, by
    api.webhooks.assign_cursors(): a client that reads `cursor > n` never misses an event that
    committed late."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="events")
    cursor = models.BigIntegerField(null=True, blank=True, unique=True)
    type = models.CharField(_("evento"), max_length=20, choices=WebhookType.choices)
    notification = models.ForeignKey(
        "mailbox.Notification", on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.ForeignKey("evidence.Event", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(_("ocurrió el"))
    payload = models.JSONField()

    class Meta:
        verbose_name = _("evento para webhooks")
        verbose_name_plural = _("eventos para webhooks")
        indexes = [
            models.Index(fields=["client", "cursor"], name="api_event_client_cursor"),
            models.Index(
                fields=["id"], condition=models.Q(cursor__isnull=True), name="api_event_unsequenced"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.cursor or '…'}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("pendiente")
    DELIVERED = "delivered", _("entregado")
    FAILED = "failed", _("fallido")


class WebhookDelivery(models.Model):
    """Sending one event to the client's callback URL: retried with backoff, the last answer
    kept for the delivery log in /oficina/."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    url = models.URLField(max_length=500)
    state = models.CharField(
        _("estado"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    last_attempt_at = models.DateTimeField(_("último intento"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("última respuesta"), null=True)
    last_error = models.CharField(_("último error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("entregado el"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("entrega de webhook")
        verbose_name_plural = _("entregas de webhooks")

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.state})"


class WebhookSequence(models.Model):
    """One row: the last cursor given. Locked while cursors are assigned."""

    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last)
