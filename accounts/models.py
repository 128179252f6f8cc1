from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Anyone who logs in: a person (administrado) to the buzón, or an officer to /oficina/.

    A person's username is their document type and number ("DNI-45678912"); their identity
    data lives on people.Person. Each kind can log in only through its own door.
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Administrado")
        OFFICER = "officer", _("Servidor")

    # Officer by default: createsuperuser and the admin create officers; persons are created
    # only by accounts.actions.issue_credentials().
    kind = models.CharField(
        _("tipo de usuario"), max_length=10, choices=Kind.choices, default=Kind.OFFICER
    )

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        permissions = [("reissue_credentials", _("Puede reemitir credenciales del buzón"))]

    @property
    def is_person(self) -> bool:
        return self.kind == self.Kind.PERSON

    @property
    def is_officer(self) -> bool:
        return self.kind == self.Kind.OFFICER


class PasswordReset(models.Model):
    """A single-use secret that lets a person choose a new password, sent to one contact.

    Recovery ("¿Olvidaste la contraseña?"): a link by email (30 minutes) or a code by SMS
    (10 minutes) to a verified contact. Agencia Digital: a code (10 minutes) after the identity
    check. Activation: a link (48 hours) to the contact an officer checked on a credential
    request. Only a hash of the secret is kept; it works once."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("correo electrónico")
        SMS = "sms", _("celular")

    class Purpose(models.TextChoices):
        RECOVERY = "recovery", _("¿Olvidaste la contraseña?")
        AGENCY = "agency", _("Agencia Digital")
        ACTIVATION = "activation", _("solicitud de credenciales aprobada")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_resets")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.RECOVERY)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    destination = models.CharField(max_length=254)
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("recuperación de contraseña")
        verbose_name_plural = _("recuperaciones de contraseña")

    def __str__(self) -> str:
        return f"{self.user} {self.channel}"
