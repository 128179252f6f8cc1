"""Superusers create officer accounts here and put them in groups (backoffice/groups.py).

Person accounts are created and changed only by the actions (issue_credentials,
change_password), so here they are read-only: editing a username or password in the admin would
bypass the evidence record.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from accounts.models import User


@admin.register(User)
class BuzonUserAdmin(UserAdmin[User]):
    list_display = ["username", "kind", "first_name", "last_name", "is_active", "last_login"]
    list_filter = ["kind", "is_active", "groups"]
    fieldsets = (
        (None, {"fields": ("username", "password", "kind")}),
        ("Datos", {"fields": ("first_name", "last_name", "email")}),
        ("Permisos", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Fechas", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("Datos", {"fields": ("first_name", "last_name", "email", "groups")}),
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.kind == User.Kind.PERSON:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are deactivated, never deleted: evidence points at them
