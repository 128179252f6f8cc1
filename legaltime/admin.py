"""Days declared non-working by decree.

The admin site is for superusers only (buzon/urls.py), so only they add or change these days.
A change moves legal dates, and Django's admin log records who made it.
"""

from django.contrib import admin

from legaltime.models import NonWorkingDay


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(admin.ModelAdmin[NonWorkingDay]):
    list_display = ["date", "description", "legal_basis", "created_at"]
    search_fields = ["description", "legal_basis"]
    date_hierarchy = "date"
    readonly_fields = ["created_at"]
