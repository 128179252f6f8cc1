from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Oficina"

    def ready(self) -> None:
        from backoffice.groups import ensure_officer_groups

        post_migrate.connect(ensure_officer_groups, sender=self)
