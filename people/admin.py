from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from people.models import Person


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    """Read-only: identity and contact data change only through the actions, with evidence."""

    list_display = ["doc_type", "doc_number", "given_names", "first_surname", "nationality"]
    list_filter = ["doc_type"]
    search_fields = ["doc_number", "given_names", "first_surname", "second_surname"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
