from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgencyConfig(AppConfig):
    name = "agency"
    verbose_name = _("Agencia Digital y solicitudes de credenciales")
    default_auto_field = "django.db.models.BigAutoField"
