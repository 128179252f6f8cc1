from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorrectionsConfig(AppConfig):
    """Correction requests (subsanación): observed items, answers, review, expiry."""

    name = "corrections"
    verbose_name = _("Subsanaciones")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from corrections import panel, rules
        from mailboxes.kinds import KindRules, register
        from mailboxes.models import Kind

        register(
            Kind.CORRECTION,
            KindRules(
                check=rules.check,
                materialize=rules.materialize,
                deadline_expired=rules.deadline_expired,
                deadline_reopened=rules.deadline_reopened,
                panel=panel.panel,
            ),
        )
