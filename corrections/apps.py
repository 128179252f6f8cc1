from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorrectionsConfig(AppConfig):
    """Correction requests (subsanación): observed items, answers, review, expiry."""

    name = "corrections"
    verbose_name = _("Subsanaciones")
    default_auto_field = "django.db.models.BigAutoField"
