"""Login throttling on top of django-axes.

Axes compares every lockout parameter against one limit. An identity deserves a tight limit
(5 failures), but an IP address does not: mobile carriers in Peru put many people behind one
address (CGNAT), as do the kiosks in an agency's offices. So failures are counted per identity
and per IP, each against its own limit. The check runs in AxesStandaloneBackend, which is the
first authentication backend, so a locked-out request never reaches the password hasher.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

_TABLE = AccessAttempt._meta.db_table
_FAILURES_SQL = f"""
    SELECT SUM(CASE WHEN username = %s THEN failures_since_start ELSE 0 END),
           SUM(CASE WHEN ip_address = %s THEN failures_since_start ELSE 0 END)
    FROM {_TABLE}
    WHERE (username = %s OR ip_address = %s) AND attempt_time >= %s
"""  # noqa: S608  (the table name is ours; every value is a parameter)


def _threshold(request: HttpRequest) -> datetime:
    threshold: datetime = get_cool_off_threshold(request)
    return threshold


class BuzonAxesHandler(AxesDatabaseHandler):  # type: ignore[misc]
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Failures for this identity; the identity limit if the IP has exceeded its own.

        This runs before every login, so it is one parameterised query with two conditional
        sums (building the same through the ORM cost more than the query itself).
        """
        username = get_client_username(request, credentials)
        ip_address = request.axes_ip_address  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute(
                _FAILURES_SQL, [username, ip_address, username, ip_address, _threshold(request)]
            )
            identity_total, ip_total = cursor.fetchone()
        identity_failures = int(identity_total or 0)
        if int(ip_total or 0) >= settings.BUZON_LOGIN_FAILURES_PER_IP:
            limit: int = settings.AXES_FAILURE_LIMIT
            return max(identity_failures, limit)
        return identity_failures

    def clean_expired_user_attempts(
        self, request: HttpRequest | None = None, credentials: dict[str, Any] | None = None
    ) -> int:
        """Skip the DELETE on successful logins; failures still clean up expired attempts.

        Expired attempts never count (get_failures filters by the cool-off threshold), so
        deleting them on every successful login only adds a write to the hottest path.
        """
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return 0
        return int(super().clean_expired_user_attempts(request, credentials))


def client_ip(request: HttpRequest) -> str:
    """The client's address, for throttling.

    Each of our BUZON_TRUSTED_PROXY_COUNT proxies appends the address it received the request
    from to X-Forwarded-For, so the client is that many entries from the right; anything to
    the left of it was written by the client and is not trusted. Without proxies, or when the
    header is shorter than it must be, the socket's address is used.
    (django-ipware 8 answers None for a plain one-proxy header, which would put every client
    in one bucket; this rule is small enough to own and test.)
    """
    remote = str(request.META.get("REMOTE_ADDR") or "0.0.0.0")  # noqa: S104
    proxies: int = settings.BUZON_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [a for a in chain if a]
    if len(chain) < proxies:
        return remote
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


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
