from django.contrib import admin

from people.models import Person


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ["doc_type", "doc_number", "given_names", "first_surname", "nationality"]
    list_filter = ["doc_type"]
    search_fields = ["doc_number", "given_names", "first_surname", "second_surname"]
    readonly_fields = ["user", "created_at", "updated_at"]
