"""RFC 9457 problem details, and the problem+json answers for a path or a method the API does
not have (in place of the site's HTML 404 and ninja's text/html 405)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

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


@csrf_exempt  # a POST to a wrong path is a 404, not the site's CSRF page
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Every path under /api/v1/ that is no endpoint. A trailing slash, the usual slip (the
    endpoints have none), is named when the path without it is an endpoint."""
    bare = request.path_info.rstrip("/")
    if bare != request.path_info and _is_endpoint(bare):
        detail = _(
            "La API no tiene la ruta %(path)s: sus rutas no terminan en barra. Use %(bare)s."
        ) % {"path": request.path, "bare": request.path.rstrip("/")}
    else:
        detail = _("La API no tiene la ruta %(path)s. Sus rutas se describen en %(docs)s.") % {
            "path": request.path,
            "docs": "/api/v1/openapi.json",
        }
    return problem(404, "not-found", "Not found", detail)


def _is_endpoint(path_info: str) -> bool:
    try:
        match = resolve(path_info)
    except Resolver404:
        return False
    return match.func is not unknown_path


def method_not_allowed_as_problem(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wraps an endpoint's view: ninja answers a method the path does not take with a text/html
    405; this one is problem+json, with the Allow header every 405 carries."""

    @functools.wraps(view)  # keeps ninja's csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = ", ".join(sorted(m.strip() for m in response["Allow"].split(",") if m.strip()))
        answer = problem(
            405,
            "method-not-allowed",
            "Method not allowed",
            _("La ruta %(path)s no admite el método %(method)s; admite: %(allowed)s.")
            % {"path": request.path, "method": request.method, "allowed": allowed},
        )
        answer["Allow"] = allowed
        return answer

    return wrapper
