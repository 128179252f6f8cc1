from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The agency API v1 (/api/v1/): keys per system, scopes, problem+json errors, webhooks."""

    name = "api"
    verbose_name = _("API para sistemas de la entidad")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.webhooks import on_events_recorded
        from evidence.signals import events_recorded

        events_recorded.connect(on_events_recorded, dispatch_uid="api-webhooks")
