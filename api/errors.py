"""RFC 9457 problem details."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

PROBLEM_BASE = "https://buzon.example/problems/"  # documented in docs/api.md


class ScopeError(Exception):
    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> HttpResponse:
    body = {"type": PROBLEM_BASE + kind, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/problem+json",
    )
