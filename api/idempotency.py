"""`Idempotency-Key` on every POST: the same key and body return the first answer; the same
key with another body (or path) is a 409. Kept per client."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Schema

from api.errors import problem
from api.models import ApiKey, IdempotentRequest

HEADER = "Idempotency-Key"


def idempotent(view: Callable[..., tuple[int, Schema]]) -> Callable[..., HttpResponse]:
    """Wrap a ninja POST view that returns (status, schema). The answer is rendered here and
    stored, so a replay is byte for byte the same. An error raised by the view (refused
    input) is not stored: the same key may be retried."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key_header = (request.headers.get(HEADER) or "").strip()
        if not key_header or len(key_header) > 255 or not key_header.isprintable():
            return problem(
                400,
                "idempotency-key-required",
                "Idempotency-Key required",
                "Every POST needs an Idempotency-Key header (1 to 255 printable characters).",
            )
        api_key: ApiKey = request.auth  # type: ignore[attr-defined]
        digest = hashlib.sha256(request.body).hexdigest()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    client=api_key.client, key=key_header, path=request.path, body_sha256=digest
                )
        except IntegrityError:
            earlier = IdempotentRequest.objects.get(client=api_key.client, key=key_header)
            if earlier.path != request.path or earlier.body_sha256 != digest:
                return problem(
                    409,
                    "idempotency-key-reused",
                    "Idempotency-Key reused",
                    "This Idempotency-Key was used with another request body or path.",
                )
            if earlier.status == 0:
                response = problem(
                    409,
                    "request-in-progress",
                    "Request in progress",
                    "A request with this Idempotency-Key is still being processed; retry.",
                )
                response["Retry-After"] = "1"
                return response
            replay = HttpResponse(
                bytes(earlier.body), status=earlier.status, content_type=earlier.content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
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
