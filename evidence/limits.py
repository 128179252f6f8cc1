"""Per-account limits on what writes evidence on request: issuing certificates and exports.

Each certificate is a signed PDF plus a permanent entry and row; each export signs one per
notification and seals the log. A script with a stolen session must not be able to fill the
log or keep the signer busy. Counted per user with django-ratelimit in the shared cache, in
hourly windows; a broken cache lets the request through (and logs it), since the limit is a
second line of defence behind the login.
"""

from __future__ import annotations

import logging
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

log = logging.getLogger(__name__)

Kind = Literal["certificate", "export"]


def over_limit(request: HttpRequest, kind: Kind) -> bool:
    """Count one certificate or export for this user; True when it is over the limit."""
    per_hour = (
        settings.BUZON_CERTIFICATES_PER_HOUR
        if kind == "certificate"
        else settings.BUZON_EXPORTS_PER_HOUR
    )
    try:
        return bool(
            is_ratelimited(
                request,
                group=f"evidence.{kind}",
                key="user",
                rate=f"{per_hour}/h",
                increment=True,
            )
        )
    except Exception:
        log.exception("evidence rate limit not applied: the cache failed")
        return False
