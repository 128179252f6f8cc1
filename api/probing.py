"""A limit on identity mismatches per API client: the control against finding a person's birth
date (or names) by registering a procedure for their document with one guess after another.

`POST /procedures` for a document Buzón already holds, with identity data that differ, is
refused without naming the field; a right guess registers. Answering every guess would still
give the birth date away in a few thousand requests, so `register_procedure()` counts, for a
client (`ApiClient`), the refusals on each document and on all documents together:

- `BUZON_API_MISMATCHES_PER_DOCUMENT` (5) on one document: that client may not register that
  document for `BUZON_API_MISMATCH_DOCUMENT_HOURS` (24) from the lock-out;
- `BUZON_API_MISMATCHES_PER_CLIENT` (20) on any documents within
  `BUZON_API_MISMATCH_CLIENT_MINUTES` (60): that client may not register any document Buzón
  holds for that long.

While locked, every registration of a held document is refused, the ones with the right data
too (otherwise the lock-out would still say which guess was right). A new document registers as
always. Other clients, and the officers' desk, are not affected.

The counts live in the shared cache (Redis in production), as the API's rate limit, under a
keyed hash of the document (no document number is written to the cache). Unlike the rate
limit, they are exact under concurrency on one document: a request for a held document takes
a place in the document's count before its data are compared (an atomic `add` + `incr`), and
gives it back unless it was a mismatch, so N parallel guesses get at most the limit's answers.
The count across documents is checked before and counted after, so parallel requests may pass
it by as many as are in flight at once. If the cache cannot be reached, a registration of a
held document is refused (`IdentityCheckUnavailableError`: fail closed); a new document still
registers.

Each lock-out is logged at WARNING (client, key prefix, never the document or the data) and
kept in the cache for a day, listed on the client's card in /oficina/integraciones/
(`recent_lockouts()`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from api.models import ApiClient

log = logging.getLogger(__name__)

Scope = Literal["document", "client"]
LOCKOUTS_KEPT = 20  # per client, in the list officers see
LOCKOUTS_SECONDS = 24 * 3600  # how long that list is kept after its last lock-out


class IdentityAttemptsExceededError(Exception):
    """This client is locked out of registering this (held) document: 429 in the API."""

    def __init__(self, scope: Scope, retry_after: float) -> None:
        self.scope = scope
        self.retry_after = max(1, math.ceil(retry_after))
        if scope == "document":
            detail = _(
                "Este sistema envió demasiadas veces datos de identidad que no coinciden con "
                "los registrados para este documento. Por seguridad, no podrá registrar "
                "trámites de este documento durante %(hours)s horas; si los datos son "
                "correctos, registre el trámite en la oficina con el documento a la vista."
            ) % {"hours": settings.BUZON_API_MISMATCH_DOCUMENT_HOURS}
        else:
            detail = _(
                "Este sistema envió demasiadas veces datos de identidad que no coinciden con "
                "los registrados para documentos ya inscritos. Por seguridad, no podrá "
                "registrar trámites de personas ya inscritas durante %(minutes)s minutos; las "
                "personas nuevas se registran con normalidad."
            ) % {"minutes": settings.BUZON_API_MISMATCH_CLIENT_MINUTES}
        self.detail = detail
        super().__init__(detail)


class IdentityCheckUnavailableError(Exception):
    """The counts cannot be read or written (the cache is down): 503 in the API."""

    retry_after = 60

    def __init__(self) -> None:
        self.detail = _(
            "No se pudo comprobar el límite de intentos de identidad. Los trámites de personas "
            "ya inscritas no se registran hasta que se restablezca; vuelva a intentarlo en "
            "unos minutos. Las personas nuevas se registran con normalidad."
        )
        super().__init__(self.detail)


@dataclass(frozen=True)
class Lockout:
    at: float  # seconds since the epoch, as the cache keeps them
    until: float
    scope: Scope
    key_prefix: str

    @property
    def started(self) -> datetime:
        return datetime.fromtimestamp(self.at, tz=UTC)

    @property
    def ends(self) -> datetime:
        return datetime.fromtimestamp(self.until, tz=UTC)

    @property
    def active(self) -> bool:
        return self.until > time.time()


def _document_windows() -> int:
    return int(settings.BUZON_API_MISMATCH_DOCUMENT_HOURS) * 3600


def _client_window() -> int:
    return int(settings.BUZON_API_MISMATCH_CLIENT_MINUTES) * 60


def _count(name: str, timeout: int) -> int:
    """Add one to a count that starts when first counted and ends `timeout` seconds later.
    Atomic: Redis INCR, or AtomicDatabaseCache's row lock. Raises if the cache fails."""
    for _attempt in range(3):
        cache.add(name, 0, timeout=timeout)
        try:
            return int(cache.incr(name))
        except ValueError:  # expired between add() and incr(): start it again
            continue
    raise RuntimeError(f"could not count {name}")


def _lockouts_key(client_id: int) -> str:
    return f"api-probing:lockouts:{client_id}"


def recent_lockouts(client_ids: list[int], *, now: float | None = None) -> dict[int, list[Lockout]]:
    """Each client's lock-outs of the last day, newest first ({} for none, or if the cache
    fails: the page that shows them must not break)."""
    now = time.time() if now is None else now
    try:
        found = cache.get_many([_lockouts_key(pk) for pk in client_ids])
    except Exception:
        log.exception("identity lock-outs not shown: the cache failed")
        return {}
    result: dict[int, list[Lockout]] = {}
    for pk in client_ids:
        entries = [
            Lockout(**entry)
            for entry in found.get(_lockouts_key(pk)) or []
            if entry["at"] > now - LOCKOUTS_SECONDS
        ]
        if entries:
            result[pk] = sorted(entries, key=lambda e: e.at, reverse=True)
    return result


class MismatchLimit:
    """One registration by `client` of one document: `reserve()` before its data are
    compared (only for a document Buzón holds), `settle()` after, whatever happened."""

    def __init__(self, client: ApiClient, *, key_prefix: str, document: str) -> None:
        self.client = client
        self.key_prefix = key_prefix
        # A keyed hash: the cache (a Redis dump, a cache table) holds no document number.
        ref = salted_hmac("api.probing", document, algorithm="sha256").hexdigest()[:32]
        self.doc_count = f"api-probing:doc:{client.pk}:{ref}"
        self.doc_lock = f"api-probing:doc-lock:{client.pk}:{ref}"
        self.client_count = f"api-probing:client:{client.pk}"
        self.client_lock = f"api-probing:client-lock:{client.pk}"
        self.reserved: int | None = None  # this request's place in the document's count

    def reserve(self, *, now: float | None = None) -> None:
        """Refuse a locked-out client (IdentityAttemptsExceededError), whatever the data it
        sent; otherwise take a place in the document's count. IdentityCheckUnavailableError
        if the cache fails: without the counts, a right guess could not be told from a locked
        one, so nothing about a held document is answered."""
        now = time.time() if now is None else now
        try:
            locks = cache.get_many([self.client_lock, self.doc_lock])
        except Exception:
            log.exception("identity mismatch limit not checked: the cache failed")
            raise IdentityCheckUnavailableError() from None
        checks: tuple[tuple[Scope, str], ...] = (
            ("client", self.client_lock),
            ("document", self.doc_lock),
        )
        for scope, name in checks:
            until = locks.get(name)
            if until is not None and float(until) > now:
                raise IdentityAttemptsExceededError(scope, float(until) - now)
        limit = int(settings.BUZON_API_MISMATCHES_PER_DOCUMENT)
        try:
            place = _count(self.doc_count, _document_windows())
        except Exception:
            log.exception("identity mismatch limit not checked: the cache failed")
            raise IdentityCheckUnavailableError() from None
        if place > limit:
            # The limit was reached by requests in flight a moment ago (the lock-out is being
            # written): this one is refused too, and its place given back.
            self._give_back()
            raise IdentityAttemptsExceededError("document", _document_windows())
        self.reserved = place

    def settle(self, *, mismatch: bool, now: float | None = None) -> None:
        """After the registration: a mismatch keeps its place in the document's count and
        counts for the client, locking either out at its limit; anything else gives the place
        back. Never raises: the answer is already decided."""
        now = time.time() if now is None else now
        if not mismatch:
            if self.reserved is not None:
                self._give_back()
            return
        try:
            # reserved is None: the document was registered by another request after this one
            # looked, so it had no place yet.
            place = (
                self.reserved
                if self.reserved is not None
                else _count(self.doc_count, _document_windows())
            )
            if place >= int(settings.BUZON_API_MISMATCHES_PER_DOCUMENT):
                self._lock("document", self.doc_lock, now + _document_windows(), now)
            total = _count(self.client_count, _client_window())
            if total >= int(settings.BUZON_API_MISMATCHES_PER_CLIENT):
                self._lock("client", self.client_lock, now + _client_window(), now)
        except Exception:
            log.exception("identity mismatch not counted: the cache failed")
        finally:
            self.reserved = None

    def _give_back(self) -> None:
        try:
            cache.decr(self.doc_count)
        except ValueError:
            pass  # the count's window ended meanwhile
        except Exception:
            log.exception("identity check place not given back: the cache failed")

    def _lock(self, scope: Scope, name: str, until: float, now: float) -> None:
        if not cache.add(name, until, timeout=math.ceil(until - now)):
            return  # already locked out: logged and listed then
        if scope == "document":
            log.warning(
                "API client %s (key %s) locked out of one registered document for %s h: %s "
                "identity data mismatches on it",
                self.client.name,
                self.key_prefix or "?",
                settings.BUZON_API_MISMATCH_DOCUMENT_HOURS,
                settings.BUZON_API_MISMATCHES_PER_DOCUMENT,
            )
        else:
            log.warning(
                "API client %s (key %s) locked out of every registered document for %s min: %s "
                "identity data mismatches within the window",
                self.client.name,
                self.key_prefix or "?",
                settings.BUZON_API_MISMATCH_CLIENT_MINUTES,
                settings.BUZON_API_MISMATCHES_PER_CLIENT,
            )
        self._list(Lockout(at=now, until=until, scope=scope, key_prefix=self.key_prefix))

    def _list(self, lockout: Lockout) -> None:
        """Kept for officers (read, add, write: two lock-outs at the same instant may keep
        one; the log has both)."""
        name = _lockouts_key(self.client.pk)
        entries: list[dict[str, Any]] = cache.get(name) or []
        entries = [*entries, asdict(lockout)][-LOCKOUTS_KEPT:]
        cache.set(name, entries, timeout=LOCKOUTS_SECONDS)
