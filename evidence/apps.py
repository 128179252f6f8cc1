from typing import Any

from django.apps import AppConfig
from django.db import connections, transaction
from django.db.models.signals import post_migrate


def _after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every migrate: put the triggers back (a SQLite table rebuild drops them), and
    make sure every lane has its head row, created here, outside any business transaction."""
    from evidence import triggers
    from evidence.actions import ensure_heads

    connection = connections[using]
    if "evidence_event" in connection.introspection.table_names():
        with transaction.atomic(using=using):  # never a moment without the triggers
            triggers.install(connection)
        ensure_heads(using=using)


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidencia"

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self)
