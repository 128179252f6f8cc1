"""What is owed (fines, installments, the balance of a lapsed plan) and what was paid.

A Debt is one thing to pay with its own payment code: a fine, one installment of a plan, or the
balance that falls due when a plan lapses. An installment is a Debt with a plan and a number
(no separate table: the schedule is the plan's debts in order). Rows change only through
payments/actions.py, which writes the evidence of each change in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.models import Channel


class Plan(models.Model):
    """An installment plan (fraccionamiento), approved by an INSTALLMENT notification."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Vigente")
        COMPLETED = "completed", _("Pagado")
        LAPSED = "lapsed", _("Perdido")

    notification = models.OneToOneField(
        "mailbox.Notification", on_delete=models.PROTECT, related_name="plan"
    )
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="plans")
    total = models.DecimalField(_("deuda total"), max_digits=12, decimal_places=2)
    installments = models.PositiveSmallIntegerField(_("número de cuotas"))
    status = models.CharField(
        _("estado"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    # Installments past their due date and not paid in full, as of the last check.
    missed = models.PositiveSmallIntegerField(_("cuotas vencidas impagas"), default=0)
    lapsed_at = models.DateTimeField(_("perdido el"), null=True, blank=True)
    # The notification that declared the loss and made the balance fall due.
    lapse_notification = models.OneToOneField(
        "mailbox.Notification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lapsed_plan",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fraccionamiento")
        verbose_name_plural = _("fraccionamientos")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.total} / {self.installments} ({self.status})"


class Flag(models.TextChoices):
    """Why a payment needs an officer's eye."""

    PARTIAL = "partial", _("Pago parcial")
    OVER = "over", _("Pago en exceso")
    CLOSED = "closed", _("Pago a una deuda ya pagada o anulada")
    # Made before its plan lapsed, to an installment the lapse then cancelled, and there is no
    # lapsed balance to credit it to (payments.actions.apply_payment() credits it there).
    PRE_LAPSE = "pre_lapse", _("Pago anterior a la pérdida del fraccionamiento, sin saldo")


class Debt(models.Model):
    class Kind(models.TextChoices):
        FINE = "fine", _("Multa")
        INSTALLMENT = "installment", _("Cuota de fraccionamiento")
        LAPSED_BALANCE = "lapsed_balance", _("Saldo por pérdida del fraccionamiento")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pendiente de pago")
        PARTIAL = "partial", _("Pagada en parte")
        PAID = "paid", _("Pagada")
        OVERPAID = "overpaid", _("Pagada en exceso")
        CANCELLED = "cancelled", _("Anulada por pérdida del fraccionamiento")

    OPEN = (Status.PENDING, Status.PARTIAL)
    SETTLED = (Status.PAID, Status.OVERPAID)

    notification = models.ForeignKey(
        "mailbox.Notification", on_delete=models.PROTECT, related_name="debts"
    )
    # Denormalised from the notification: the person's queries filter on it.
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="debts")
    kind = models.CharField(_("concepto"), max_length=20, choices=Kind.choices)
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="debts"
    )
    number = models.PositiveSmallIntegerField(_("cuota N.°"), null=True, blank=True)
    amount = models.DecimalField(_("monto"), max_digits=12, decimal_places=2)
    paid = models.DecimalField(_("pagado"), max_digits=12, decimal_places=2, default=Decimal(0))
    due_date = models.DateField(_("fecha límite de pago"))
    payment_code = models.CharField(_("código de pago"), max_length=12, unique=True)
    status = models.CharField(
        _("estado"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    # When payments_daily found an installment past its due date and unpaid (recorded once).
    overdue_at = models.DateTimeField(_("marcada vencida el"), null=True, blank=True)
    # A payment an officer has not reviewed yet (partial, over, or to a closed debt).
    flagged = models.BooleanField(_("observada"), default=False)
    flag_reason = models.CharField(_("motivo"), max_length=10, choices=Flag.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deuda")
        verbose_name_plural = _("deudas")
        ordering = ["due_date", "number", "id"]
        # "view_debt" is this app's own permission (backoffice/groups.py), not Django's default.
        default_permissions = ("add", "change", "delete")
        permissions = [
            ("view_debt", _("Ver deudas y pagos")),
            ("resolve_payment", _("Resolver pagos observados")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="debt_amount_positive"),
            models.UniqueConstraint(
                fields=["plan", "number"],
                condition=models.Q(kind="installment"),
                name="debt_installment_once",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "status"], name="debt_person_status"),
            models.Index(fields=["status", "due_date"], name="debt_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_code} {self.amount} ({self.status})"

    @property
    def balance(self) -> Decimal:
        """What is still owed (zero once paid; a cancelled debt owes nothing here)."""
        if self.status == self.Status.CANCELLED:
            return Decimal("0.00")
        return max(self.amount - self.paid, Decimal("0.00"))

    @property
    def excess(self) -> Decimal:
        return max(self.paid - self.amount, Decimal("0.00"))

    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_overdue(self, today: date, *, cutoff: date | None = None) -> bool:
        """Open and past the day it could be paid on time (payments.due: a due date on a
        non-working day is carried over to the next business day). `cutoff`:
        `overdue_before(today)`, computed once by a caller that tests many debts. A lapsed
        plan's balance is never overdue: its date is the day it became payable ("exigible
        desde"), not a deadline."""
        from payments.due import overdue_before

        return (
            self.kind != self.Kind.LAPSED_BALANCE
            and self.is_open()
            and self.due_date < (cutoff or overdue_before(today))
        )


def receipt_path(instance: Payment, filename: str) -> str:
    # Server-generated, one folder per day of receipt.
    return f"payments/{instance.received_at:%Y/%m/%d}/{uuid.uuid4().hex}.pdf"


SOURCE_PATTERN = r"[a-z0-9-]{1,30}"


class Payment(models.Model):
    """A payment confirmed by a payment system; at most one per channel and transaction id
    (test payments apart from real ones)."""

    class Outcome(models.TextChoices):
        EXACT = "exact", _("Exacto")
        PARTIAL = "partial", _("Parcial")
        OVER = "over", _("En exceso")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The payment system's channel, a short id such as "bn" or "pagalo" (SOURCE_PATTERN), and
    # its operation number. Two channels may both issue "000123", so the pair identifies a
    # confirmation: the database makes it unique, so one received twice, even at the same
    # instant, counts once.
    source = models.CharField(_("canal"), max_length=30)
    transaction_id = models.CharField(_("N.° de operación"), max_length=100)
    # Confirmed through a test API key. Test payments number their operations in a space of
    # their own: a test system that uses "bn"/"000777" for its test fine must not make the
    # bank's real "bn"/"000777" for a citizen's fine a conflict.
    is_test = models.BooleanField(_("de prueba"), default=False)
    # The debt this payment is credited to.
    debt = models.ForeignKey(Debt, on_delete=models.PROTECT, related_name="payments")
    # The installment whose payment code was used, when that is not `debt`: a payment made
    # before its plan lapsed, to an installment the lapse cancelled, is credited to the plan's
    # lapsed balance.
    redirected_from = models.ForeignKey(
        Debt,
        verbose_name=_("pagado con el código de"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redirected_payments",
    )
    amount = models.DecimalField(_("monto"), max_digits=12, decimal_places=2)
    paid_at = models.DateTimeField(_("pagado el"))
    received_at = models.DateTimeField(_("recibido el"))
    outcome = models.CharField(_("resultado"), max_length=10, choices=Outcome.choices)
    # What the debt still owed when this payment arrived.
    owed_before = models.DecimalField(_("adeudado antes"), max_digits=12, decimal_places=2)
    flag = models.CharField(_("observación"), max_length=10, choices=Flag.choices, blank=True)
    reviewed_at = models.DateTimeField(_("revisado el"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revisado por"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_note = models.TextField(_("nota de revisión"), blank=True)
    receipt = models.FileField(_("constancia de pago"), upload_to=receipt_path, max_length=200)
    receipt_sha256 = models.CharField(_("SHA-256 de la constancia"), max_length=64)

    class Meta:
        verbose_name = _("pago")
        verbose_name_plural = _("pagos")
        ordering = ["paid_at", "id"]
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["source", "transaction_id", "is_test"], name="payment_once_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.transaction_id} {self.amount} → {self.debt_id}"

    @property
    def code_used(self) -> str:
        """The payment code the person paid with (the credited debt's, unless redirected)."""
        return (self.redirected_from or self.debt).payment_code

    @property
    def needs_review(self) -> bool:
        return bool(self.flag) and self.reviewed_at is None


class ReminderStatus(models.TextChoices):
    """The alerts app's statuses (alerts.models.Status, same values, so its helpers serve both):
    a job claims a pending reminder (`sending`, with a lease in `claimed_until`) before sending
    it, so of two jobs for the same reminder only one sends (payments/reminders.py). Skipped
    here means: not sent because, when its turn came, the installment was no longer open or its
    plan no longer active."""

    PENDING = "pending", _("Pendiente")
    # A job claimed it and is sending it now (payments.reminders.deliver()).
    SENDING = "sending", _("Enviando")
    SENT = "sent", _("Enviada")
    FAILED = "failed", _("Fallida")
    SKIPPED = "skipped", _("Omitida: la cuota ya no estaba pendiente")


class Reminder(models.Model):
    """A reminder that an installment falls due soon: one per installment and channel.

    The alerts app's rows are one per notification, channel, purpose and date, and a plan has one
    notification for many installments; these rows follow the same pattern per installment.
    """

    debt = models.ForeignKey(Debt, on_delete=models.PROTECT, related_name="reminders")
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    destination = models.CharField(_("destino"), max_length=254)
    status = models.CharField(
        _("estado"),
        max_length=10,
        choices=ReminderStatus.choices,
        default=ReminderStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    last_error = models.CharField(_("último error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)
    sent_at = models.DateTimeField(_("enviado el"), null=True, blank=True)
    # The last attempt's end: a retry is due a backoff after it (requeue_stale()).
    last_attempt_at = models.DateTimeField(_("último intento el"), null=True, blank=True)
    # While sending: until when the job that claimed the reminder owns it. A claim still held
    # after that is a worker that died mid-attempt; requeue_stale() takes it back.
    claimed_until = models.DateTimeField(_("reservado hasta"), null=True, blank=True)

    class Meta:
        verbose_name = _("recordatorio de cuota")
        verbose_name_plural = _("recordatorios de cuotas")
        ordering = ["id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["debt", "channel"], name="payment_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.destination} ({self.status})"
