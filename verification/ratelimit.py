"""Rate limits of the public verification page, and the cache they count in.

Counting is django-ratelimit's (fixed windows in the cache, keyed by client address through
RATELIMIT_IP_META_KEY = accounts.throttling.client_ip, so BUZON_TRUSTED_PROXY_COUNT is
honoured, and IPv6 clients are grouped by /64). The cache must be shared by every web process:
Redis when REDIS_URL is set, otherwise the database, through AtomicDatabaseCache below.
"""

from __future__ import annotations

import base64
import logging
import pickle
from typing import Any, Literal

from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

Kind = Literal["lookup", "upload"]


def _rate(kind: Kind) -> str:
    count: int = (
        settings.BUZON_VERIFY_LOOKUPS_PER_IP
        if kind == "lookup"
        else settings.BUZON_VERIFY_UPLOADS_PER_IP
    )
    return f"{count}/{settings.BUZON_VERIFY_WINDOW_MINUTES}m"


def limited(request: HttpRequest, kind: Kind) -> bool:
    """Count one lookup or upload from this client; True when it is over the limit.

    A broken cache must not take the page down: the limit is a second line of defence (codes
    are 80 bits), so the request goes through and the failure is logged.
    """
    try:
        return bool(
            is_ratelimited(
                request,
                group=f"verification.{kind}",
                key="ip",
                rate=_rate(kind),
                increment=True,
            )
        )
    except Exception:
        logger.exception("verification rate limit not applied: the cache failed")
        return False


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache with an atomic incr() that keeps the entry's expiry.

    The stock incr() reads, adds and writes in separate statements, so concurrent requests
    lose counts (django-ratelimit refuses DatabaseCache for that reason), and it rewrites the
    expiry with the default timeout, which would end a 10-minute window after 5. Here the row
    is locked for the increment: SELECT ... FOR UPDATE on PostgreSQL; on SQLite our
    transactions are IMMEDIATE, so the transaction itself holds the write lock.
    """

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self.cache_model_class._meta.db_table)
        key_column, value_column = quote("cache_key"), quote("value")
        full_key = self.make_and_validate_key(key, version=version)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {key_column} FROM {table} WHERE {key_column} = %s{lock}",  # noqa: S608
                [full_key],
            )
            missing = object()
            value = self.get(key, missing, version=version)  # drops an expired row
            if value is missing:
                raise ValueError(f"Key '{key}' not found")
            value += delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_column} = %s WHERE {key_column} = %s",  # noqa: S608
                [encoded, full_key],
            )
        return value
