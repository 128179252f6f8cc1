"""Days declared non-working by decree.

The admin site is for superusers only (buzon/urls.py). Saving or deleting a day goes through
legaltime.actions, which moves the legal dates it reaches, with evidence for each.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.models import User
from legaltime.actions import declare_non_working_day, withdraw_non_working_day
from legaltime.models import NonWorkingDay


def _recalculated(moved: int) -> str:
    return ngettext(
        "Se recalcularon las fechas de %(n)d notificación.",
        "Se recalcularon las fechas de %(n)d notificaciones.",
        moved,
    ) % {"n": moved}


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(admin.ModelAdmin[NonWorkingDay]):
    list_display = ["date", "description", "legal_basis", "created_at"]
    search_fields = ["description", "legal_basis"]
    date_hierarchy = "date"
    readonly_fields = ["created_at"]
    actions = None  # no bulk delete: each withdrawal recalculates dates

    def save_model(self, request: HttpRequest, obj: NonWorkingDay, form: Any, change: bool) -> None:
        if change and "date" in form.changed_data:
            old = NonWorkingDay.objects.get(pk=obj.pk)
            withdraw_non_working_day(old, actor=_actor(request))
            obj.pk = None
        declared, moved = declare_non_working_day(
            obj.date,
            description=obj.description,
            legal_basis=obj.legal_basis,
            actor=_actor(request),
        )
        obj.pk = declared.pk
        messages.info(request, _recalculated(moved))

    def delete_model(self, request: HttpRequest, obj: NonWorkingDay) -> None:
        moved = withdraw_non_working_day(obj, actor=_actor(request))
        messages.info(request, _recalculated(moved))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[NonWorkingDay]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
