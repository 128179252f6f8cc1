from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The agency API v1 (/api/v1/): keys per system, scopes, problem+json errors."""

    name = "api"
    verbose_name = _("API para sistemas de la entidad")
    default_auto_field = "django.db.models.BigAutoField"
