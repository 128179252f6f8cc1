from django.contrib import admin

from buzon.admin import ReadOnlyAdminMixin
from evidence.models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Event]):
    list_display = ["id", "occurred_at", "kind", "actor", "person", "procedure"]
    list_filter = ["kind"]
