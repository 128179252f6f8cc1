"""A token bucket per API key (GCRA: the same limit and burst as a bucket of `rate` tokens
refilled over a minute, with one timestamp per key in the shared cache).

On Redis or the database cache this is read-modify-write, so two processes racing at the same
instant may both pass the last token: the limit can be overshot by the number of concurrent
requests, never more. That is acceptable for a fairness limit (it is not a security control).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache


class RateLimitedError(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, math.ceil(retry_after))


def take(key_id: int, *, now: float | None = None) -> None:
    """Spend one token of this key, or raise RateLimitedError with the seconds to wait."""
    rate = settings.BUZON_API_REQUESTS_PER_MINUTE
    interval = 60.0 / rate  # one token comes back every `interval` seconds
    burst = 60.0  # a full bucket: `rate` requests at once
    now = time.time() if now is None else now
    name = f"api-bucket:{key_id}"
    try:
        tat = float(cache.get(name) or now)  # theoretical arrival time
    except Exception:  # the cache is down: let the request through rather than fail it
        return
    new_tat = max(tat, now) + interval
    if new_tat - now > burst:
        raise RateLimitedError(new_tat - burst - now)
    try:
        cache.set(name, new_tat, timeout=int(burst) + 1)
    except Exception:
        return
