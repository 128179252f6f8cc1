"""Login throttling on top of django-axes.

Axes compares every lockout parameter against one limit. An identity deserves a tight limit
(5 failures), but an IP address does not: mobile carriers in Peru put many people behind one
address (CGNAT), as do the kiosks in an agency's offices. So failures are counted per identity
and per IP, each against its own limit. The check runs in AxesStandaloneBackend, which is the
first authentication backend, so a locked-out request never reaches the password hasher.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def _sum_failures(attempts: QuerySet[AccessAttempt]) -> int:
    total = attempts.aggregate(total=Sum("failures_since_start"))["total"]
    return int(total or 0)


class BuzonAxesHandler(AxesDatabaseHandler):  # type: ignore[misc]
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Failures for this identity; the identity limit if the IP has exceeded its own."""
        by_identity, by_ip = self.get_user_attempts(request, credentials)
        identity_failures = _sum_failures(by_identity)
        if _sum_failures(by_ip) >= settings.BUZON_LOGIN_FAILURES_PER_IP:
            limit: int = settings.AXES_FAILURE_LIMIT
            return max(identity_failures, limit)
        return identity_failures


def minutes_until_unlocked(ip_address: str | None, username: str | None) -> int:
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    latest = AccessAttempt.objects.filter(
        Q(username=username) | Q(ip_address=ip_address),
        attempt_time__gte=timezone.now() - cooloff,
    ).aggregate(latest=Max("attempt_time"))["latest"]
    if latest is None:
        return math.ceil(cooloff.total_seconds() / 60)
    unlock_at: datetime = latest + cooloff
    remaining = (unlock_at - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining / 60))


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    username = (credentials or {}).get("username")
    minutes = minutes_until_unlocked(getattr(request, "axes_ip_address", None), username)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
