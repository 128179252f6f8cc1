from django.contrib import admin

from buzon.admin import ReadOnlyAdminMixin
from people.models import Person


@admin.register(Person)
class PersonAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Person]):
    """Identity and contact data change only through the actions, with evidence."""

    list_display = ["doc_type", "doc_number", "given_names", "first_surname", "nationality"]
    list_filter = ["doc_type"]
    search_fields = ["doc_number", "given_names", "first_surname", "second_surname"]
