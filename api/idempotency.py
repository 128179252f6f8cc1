"""`Idempotency-Key` on every POST: the same key and body return the first answer; the same
key with another body (or path) is a 409. Kept per client."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Schema

from api import multipart
from api.errors import ScopeError, problem
from api.models import ApiKey, IdempotentRequest, Scope

HEADER = "Idempotency-Key"
# A request still "in progress" after this long lost its worker; its key may run again.
ABANDONED = timedelta(minutes=10)


View = Callable[..., tuple[int, Schema]]


def idempotent(scope: Scope) -> Callable[[View], Callable[..., HttpResponse]]:
    """Wrap a ninja POST view that returns (status, schema) and needs `scope`. The answer is
    rendered here and stored, so a replay is byte for byte the same. An error raised by the
    view (refused input) is not stored: the same key may be retried. The scope is checked
    before anything else: a stored answer is replayed only to a key that may make the request
    (another key of the same client may lack the scope)."""

    def decorate(view: View) -> Callable[..., HttpResponse]:
        return _idempotent(view, scope)

    return decorate


def _idempotent(view: View, scope: Scope) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if scope.value not in request.auth.scopes:  # type: ignore[attr-defined]
            raise ScopeError(scope.value)
        key_header = (request.headers.get(HEADER) or "").strip()
        if not key_header or len(key_header) > 255 or not key_header.isprintable():
            return problem(
                400,
                "idempotency-key-required",
                "Idempotency-Key required",
                "Every POST needs an Idempotency-Key header (1 to 255 printable characters).",
            )
        api_key: ApiKey = request.auth  # type: ignore[attr-defined]
        digest = body_digest(request)
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(
                        client=api_key.client,
                        key=key_header,
                        path=request.path,
                        body_sha256=digest,
                    )
                break
            except IntegrityError:
                earlier = IdempotentRequest.objects.filter(
                    client=api_key.client, key=key_header
                ).first()
                if earlier is None:
                    continue  # the first request failed and let its key go a moment ago
                if earlier.path != request.path or earlier.body_sha256 != digest:
                    return _reused()  # also when the first one was abandoned
                if earlier.status == 0 and earlier.created_at < timezone.now() - ABANDONED:
                    # Its worker died (a timeout, a restart): run the same request again. The
                    # actions beneath are idempotent by a business key derived from this key,
                    # so nothing happens twice.
                    IdempotentRequest.objects.filter(pk=earlier.pk, status=0).delete()
                    continue
                return _answer_to_repeat(earlier)
        else:
            return _in_progress()
        try:
            status, body = view(request, *args, **kwargs)
        except BaseException:
            record.delete()  # nothing was done: the same key may be retried
            raise
        content = body.model_dump_json().encode()
        IdempotentRequest.objects.filter(pk=record.pk).update(
            status=status, content_type="application/json", body=content
        )
        return HttpResponse(content, status=status, content_type="application/json")

    return wrapper


def body_digest(request: HttpRequest) -> str:
    """The SHA-256 of what was sent; multipart by its content (api.multipart.Form.digest)."""
    if request.content_type == "multipart/form-data":
        return multipart.form(request).digest()
    return hashlib.sha256(request.body).hexdigest()


def _in_progress() -> HttpResponse:
    response = problem(
        409,
        "request-in-progress",
        "Request in progress",
        "A request with this Idempotency-Key is still being processed; retry.",
    )
    response["Retry-After"] = "1"
    return response


def _reused() -> HttpResponse:
    return problem(
        409,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        "This Idempotency-Key was used with another request body or path.",
    )


def _answer_to_repeat(earlier: IdempotentRequest) -> HttpResponse:
    """The same request again: the first answer, or 409 while it is still running."""
    if earlier.status == 0:
        return _in_progress()
    replay = HttpResponse(
        bytes(earlier.body), status=earlier.status, content_type=earlier.content_type
    )
    replay["Idempotent-Replayed"] = "true"
    return replay
