from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

PROCEDURE_NUMBER_PATTERN = r"^[A-Z]{2}[0-9]{9}$"  # office code, 2-digit year, 7-digit sequence
# The 7-digit sequence of a test procedure starts here: LM269000001 is a test procedure's.
TEST_NUMBERS_FROM = 9_000_000


class ProcedureType(models.Model):
    """A catalogue entry (TUPA procedure), seeded by a data migration."""

    code = models.CharField(_("código"), max_length=10, unique=True)
    name = models.CharField(_("nombre"), max_length=200)
    active = models.BooleanField(_("vigente"), default=True)
    # TUO Ley 27444 art. 136: days to correct a filing; 2 unless the procedure's rules say more.
    correction_business_days = models.PositiveSmallIntegerField(
        _("plazo de subsanación (días hábiles)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        verbose_name = _("tipo de trámite")
        verbose_name_plural = _("tipos de trámite")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Office(models.Model):
    """A sede of the agency where procedures are filed. Its code prefixes procedure numbers."""

    code = models.CharField(_("código"), max_length=2, unique=True)
    name = models.CharField(_("nombre"), max_length=120)
    address = models.CharField(_("dirección"), max_length=200, blank=True)
    active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("sede")
        verbose_name_plural = _("sedes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProcedureStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("En trámite")
    OBSERVED = "observed", _("Observado: subsanación pendiente")
    NOT_FILED = "not_filed", _("No presentado (art. 136.4)")


class Procedure(models.Model):
    number = models.CharField(_("número de trámite"), max_length=11, unique=True)
    # Moved only by corrections.actions (a correction request, its answer, its expiry).
    status = models.CharField(
        _("estado"), max_length=12, choices=ProcedureStatus.choices, default="in_progress"
    )
    procedure_type = models.ForeignKey(
        ProcedureType, verbose_name=_("tipo de trámite"), on_delete=models.PROTECT
    )
    filing_date = models.DateField(_("fecha de presentación"))
    office = models.ForeignKey(Office, verbose_name=_("sede"), on_delete=models.PROTECT)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("administrado"),
        on_delete=models.PROTECT,
        related_name="procedures",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registrado por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_at = models.DateTimeField(_("registrado el"), auto_now_add=True)
    # Set by the caller (a form's submission id, later the API's Idempotency-Key): the same key
    # returns the first registration instead of creating a second procedure.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("trámite")
        verbose_name_plural = _("trámites")
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(number__regex=PROCEDURE_NUMBER_PATTERN),
                name="procedure_number_format",
            )
        ]

    def __str__(self) -> str:
        return self.number


class ProcedureNumberSequence(models.Model):
    """The last sequence number used per office prefix and year (LM26 → LM260000123).

    Test procedures (registered with a test API key) have a sequence of their own per prefix,
    numbered from TEST_NUMBERS_FROM (LM269000001), so they neither use up real numbers nor
    tell a test key how many real procedures there are."""

    prefix = models.CharField(max_length=4)
    is_test = models.BooleanField(default=False)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("secuencia de números de trámite")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "is_test"], name="procedure_sequence_once")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


class Receipt(models.Model):
    """A constancia de trámite: the PDF handed to the person when a procedure is registered.

    Two renderings are kept, both encrypted (procedures.receipts), in the same row and so in
    the same transaction as the registration:
    - the record copy, without any password, kept for the agency's file;
    - when new credentials were issued, the credentials copy, which holds the only plaintext
      copy of the password. Only the officer who issued it may download it, and only until
      `credentials_until`; after that it is purged and every download gets the record copy.
    """

    class Credentials(models.TextChoices):
        NEW = "new", _("Credenciales nuevas")
        REISSUED = "reissued", _("Credenciales reemitidas")
        EXISTING = "existing", _("Usa credenciales existentes")

    procedure = models.ForeignKey(
        Procedure, verbose_name=_("trámite"), on_delete=models.PROTECT, related_name="receipts"
    )
    verification_code = models.CharField(_("código de verificación"), max_length=19, unique=True)
    credentials = models.CharField(_("credenciales"), max_length=10, choices=Credentials.choices)
    issued_at = models.DateTimeField(_("emitida el"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("emitida por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    record_pdf = models.BinaryField(_("copia de archivo (cifrada)"))
    credentials_pdf = models.BinaryField(_("copia con credenciales (cifrada)"), null=True)
    credentials_until = models.DateTimeField(_("credenciales disponibles hasta"), null=True)
    sha256 = models.CharField(_("SHA-256 del PDF entregado"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("tamaño en bytes"))

    class Meta:
        verbose_name = _("constancia de trámite")
        verbose_name_plural = _("constancias de trámite")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.procedure.number} · {self.verification_code}"
