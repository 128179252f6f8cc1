from django.apps import AppConfig


class BuzonConfig(AppConfig):
    """The project package as an app: set-up that belongs to no domain app."""

    name = "buzon"
    verbose_name = "Buzón"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from buzon.bulk import register_adapters

        connection_created.connect(register_adapters, dispatch_uid="buzon.bulk.register_adapters")
