"""Getting in without credentials: Agencia Digital checks and credential requests (cases)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.reasons import label
from people.documents import DocumentType


class IdentityCheck(models.Model):
    """One press of "Verificar" in the Agencia Digital, matched or not (the audit trail of
    attempts). What was typed is kept only as far as needed to follow an attack: the document
    and the procedure number, never the answers."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("coincide")
        MISMATCH = "mismatch", _("no coincide")
        THROTTLED = "throttled", _("bloqueado por exceso de intentos")

    created_at = models.DateTimeField(_("fecha y hora"), auto_now_add=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True, blank=True)
    doc_type = models.CharField(_("tipo de documento"), max_length=4)
    doc_number = models.CharField(_("número de documento"), max_length=30)
    procedure_number = models.CharField(_("número de trámite"), max_length=30, blank=True)
    outcome = models.CharField(_("resultado"), max_length=10, choices=Outcome.choices)
    # The person the document names, when there is one, matched or not: an officer looking at
    # that person sees the attempts against their buzón.
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("persona"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="identity_checks",
    )

    class Meta:
        verbose_name = _("verificación en la Agencia Digital")
        verbose_name_plural = _("verificaciones en la Agencia Digital")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.doc_type} {self.doc_number} {self.outcome}"


def _upload_path(instance: CredentialRequest, filename: str) -> str:
    # Server-generated: the requester's filename is kept in a field, never used as a path.
    return f"solicitudes/{instance.received_at:%Y/%m}/{instance.public_id}-document"


def _raw_path(instance: InboundMessage, filename: str) -> str:
    return f"correos/{instance.received_at:%Y/%m}/{instance.sha256}.eml"


class CredentialRequest(models.Model):
    """A case: someone asks for credentials to their buzón, by the web form or by email."""

    class Channel(models.TextChoices):
        WEB = "web", _("formulario web")
        EMAIL = "email", _("correo electrónico")

    class Status(models.TextChoices):
        RECEIVED = "received", _("recibida")
        REVIEW = "review", _("requiere revisión manual")
        APPROVED = "approved", _("aprobada")
        REJECTED = "rejected", _("rechazada")

    class Delivery(models.TextChoices):
        LINK = "link", _("enlace de activación al contacto verificado")
        COUNTER = "counter", _("constancia nueva en una sede")

    OPEN = (Status.RECEIVED, Status.REVIEW)

    public_id = models.UUIDField(unique=True, editable=False)
    number = models.CharField(_("número de caso"), max_length=20, unique=True)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices)
    review_reasons = models.JSONField(_("motivos de revisión"), default=list, blank=True)
    received_at = models.DateTimeField(_("recibida el"), db_index=True)

    # What the requester says; nothing here is trusted until an officer checks it.
    doc_type = models.CharField(
        _("tipo de documento"), max_length=4, choices=DocumentType.choices, blank=True
    )
    doc_number = models.CharField(_("número de documento"), max_length=30, blank=True)
    given_names = models.CharField(_("nombres"), max_length=120, blank=True)
    surnames = models.CharField(_("apellidos"), max_length=160, blank=True)
    birth_date = models.DateField(_("fecha de nacimiento"), null=True, blank=True)
    nationality = models.CharField(_("nacionalidad"), max_length=80, blank=True)
    procedure_number = models.CharField(_("número de trámite"), max_length=30, blank=True)
    contact_email = models.EmailField(_("correo de contacto"), blank=True)
    phone = models.CharField(_("teléfono"), max_length=30, blank=True)
    message = models.TextField(_("mensaje"), blank=True)
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True, blank=True)

    # The identity document the requester attached to the web form (image or PDF).
    document_file = models.FileField(
        _("documento de identidad"), upload_to=_upload_path, blank=True
    )
    document_name = models.CharField(_("nombre del archivo"), max_length=200, blank=True)
    document_type = models.CharField(_("tipo de archivo"), max_length=40, blank=True)
    document_sha256 = models.CharField(_("SHA-256 del archivo"), max_length=64, blank=True)

    # Email requests: what identifies duplicates of the message (each copy as received is an
    # InboundMessage).
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    attachments = models.JSONField(_("adjuntos del correo"), default=list, blank=True)

    # False for a message recognised as something else (spam): filed, never answered.
    ack_wanted = models.BooleanField(_("requiere acuse"), default=True)
    ack_sent_at = models.DateTimeField(_("acuse enviado el"), null=True, blank=True)

    # The officer's decision.
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("administrado"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credential_requests",
    )
    decided_at = models.DateTimeField(_("resuelta el"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resuelta por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivery = models.CharField(
        _("entrega de credenciales"), max_length=10, choices=Delivery.choices, blank=True
    )
    delivered_to = models.CharField(_("enviado a"), max_length=254, blank=True)
    reason = models.TextField(_("motivo"), blank=True)

    class Meta:
        verbose_name = _("solicitud de credenciales")
        verbose_name_plural = _("solicitudes de credenciales")
        ordering = ["received_at"]
        permissions = [("handle_credentialrequest", _("Atender solicitudes de credenciales"))]
        constraints = [
            # Copies of one message merge into its open case, even when they arrive at once.
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(status__in=["received", "review"]) & ~models.Q(fingerprint=""),
                name="credentialrequest_one_open_case_per_message",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "rejected"])
                | models.Q(decided_at__isnull=False),
                name="credentialrequest_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def answer_to(self) -> str:
        return self.contact_email

    @property
    def review_reason_labels(self) -> list[str]:
        """Why the case needs review, in the officer's language (agency/reasons.py)."""
        return [label(str(reason)) for reason in self.review_reasons or ()]


class InboundMessage(models.Model):
    """Every message the SMTP receiver accepted, linked to its case. A duplicate (the same
    message delivered again) gets a row here too, so nothing that arrived is ever lost."""

    received_at = models.DateTimeField()
    raw = models.FileField(_("mensaje original"), upload_to=_raw_path)
    fingerprint = models.CharField(max_length=64, db_index=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    mail_from = models.CharField(max_length=998, blank=True)
    peer = models.CharField(max_length=100, blank=True)
    request = models.ForeignKey(
        CredentialRequest, on_delete=models.PROTECT, related_name="inbound_messages"
    )

    class Meta:
        verbose_name = _("correo recibido")
        verbose_name_plural = _("correos recibidos")

    def __str__(self) -> str:
        return f"{self.request.number} {self.sha256[:12]}"
