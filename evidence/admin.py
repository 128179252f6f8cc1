from django.contrib import admin
from django.http import HttpRequest

from evidence.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["id", "occurred_at", "kind", "actor", "person", "procedure"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "occurred_at", "actor", "person", "procedure", "data"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
