from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from people.documents import DocumentType, username_for


class Person(models.Model):
    """An administrado: someone who filed a procedure with the agency."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuario del buzón"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="person",
    )
    doc_type = models.CharField(_("tipo de documento"), max_length=4, choices=DocumentType.choices)
    doc_number = models.CharField(_("número de documento"), max_length=20)
    doc_country = CountryField(_("país emisor del documento"))
    given_names = models.CharField(_("nombres"), max_length=120)
    first_surname = models.CharField(_("primer apellido"), max_length=80)
    second_surname = models.CharField(_("segundo apellido"), max_length=80, blank=True)
    birth_date = models.DateField(_("fecha de nacimiento"))
    nationality = CountryField(_("nacionalidad"))
    email = models.EmailField(_("correo electrónico"), blank=True)
    email_verified = models.BooleanField(_("correo verificado"), default=False)
    mobile_phone = models.CharField(_("celular"), max_length=20, blank=True)
    mobile_phone_verified = models.BooleanField(_("celular verificado"), default=False)
    # A test mailbox: created by a test API key, for a system's integration tests. Its
    # notifications are marked as tests everywhere and have no legal effect.
    is_test = models.BooleanField(_("casilla de prueba"), default=False)
    created_at = models.DateTimeField(_("registrado el"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado el"), auto_now=True)

    class Meta:
        verbose_name = _("administrado")
        verbose_name_plural = _("administrados")
        constraints = [
            # A test mailbox lives beside the real person with the same document, never in
            # place of them: a test key cannot claim a citizen's document before they come.
            models.UniqueConstraint(
                fields=["doc_type", "doc_number", "is_test"], name="person_unique_document"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.document_label})"

    @property
    def full_name(self) -> str:
        surnames = " ".join(s for s in (self.first_surname, self.second_surname) if s)
        return f"{self.given_names} {surnames}".strip()

    @property
    def document_label(self) -> str:
        return f"{self.doc_type} {self.doc_number}"

    @property
    def username(self) -> str:
        """`CE-000654321`; a test mailbox's is `PRUEBA-CE-000654321`, which the login form
        never produces: nobody signs in to a test mailbox (the API simulates its opening)."""
        username = username_for(self.doc_type, self.doc_number)
        return f"PRUEBA-{username}" if self.is_test else username


class ContactVerification(models.Model):
    """A pending change of alert contact: only a hash of the link token or code is kept."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("correo electrónico")
        SMS = "sms", _("celular")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="verifications")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    value = models.CharField(max_length=254)
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("verificación de contacto")
        verbose_name_plural = _("verificaciones de contacto")

    def __str__(self) -> str:
        return f"{self.channel} {self.value}"
