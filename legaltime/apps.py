from django.apps import AppConfig


class LegaltimeConfig(AppConfig):
    name = "legaltime"
    verbose_name = "Tiempo legal"
