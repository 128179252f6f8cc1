from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Fines and installment plans: what is owed, payment codes, payments received."""

    name = "payments"
    verbose_name = _("Multas y fraccionamientos")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments import kinds

        kinds.install()
