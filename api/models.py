"""API clients (an agency system: procedures, fines, payments) and their keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    PROCEDURES_WRITE = "procedures:write", _("registrar trámites")
    NOTIFICATIONS_WRITE = "notifications:write", _("depositar notificaciones")
    NOTIFICATIONS_READ = "notifications:read", _("consultar notificaciones")
    PAYMENTS_WRITE = "payments:write", _("confirmar pagos")


class ApiClient(models.Model):
    """A system of the agency that talks to the buzón. Test clients act only on test
    mailboxes (issue 7; enforced when the deposit endpoints arrive)."""

    name = models.CharField(_("nombre"), max_length=100, unique=True)
    is_test = models.BooleanField(_("de prueba"), default=False)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("sistema cliente de la API")
        verbose_name_plural = _("sistemas clientes de la API")

    def __str__(self) -> str:
        return f"{self.name} (prueba)" if self.is_test else self.name


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
    path = models.CharField(max_length=300)
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
