from __future__ import annotations

from functools import cache
from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from accounts.models import User
from mailboxes.models import Notification
from people.models import Person


def unread(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the casilla shell, counted (once) only if a template shows it."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_person:
        return {}

    @cache
    def unread_count() -> int:
        return Notification.objects.filter(person__user=user, opened_at__isnull=True).count()

    @cache
    def alerts_off() -> bool:
        return (
            not Person.objects.filter(user=user)
            .filter(Q(email_verified=True) | Q(mobile_phone_verified=True))
            .exists()
        )

    return {"unread_count": unread_count, "alerts_off": alerts_off}
