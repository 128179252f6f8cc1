"""RFC 9457 problem details, and the problem+json answers for a path or a method the API does
not have (in place of the site's HTML 404 and ninja's text/html 405)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic_core import from_json

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


class MalformedJSONError(ValueError):
    """A body, or a multipart field, that is no JSON at all: a 400 problem (api.v1), the same
    whichever parser met it (ninja's json.loads, or pydantic's for the deposits)."""

    def __init__(self, raw: bytes | str, field: str = "") -> None:
        empty = not raw.strip()
        if field:
            detail = (
                _("El campo «%(field)s» está vacío; se espera JSON.")
                if empty
                else _("El campo «%(field)s» no es JSON válido.")
            ) % {"field": field}
        elif empty:
            detail = _("El cuerpo de la solicitud está vacío; se espera JSON.")
        else:
            detail = _("El cuerpo de la solicitud no es JSON válido.")
        position = None if empty else _json_error_position(raw)
        if position is not None:
            where = _("El error está en la línea %(line)s, columna %(column)s.")
            detail += " " + where % {"line": position[0], "column": position[1]}
        super().__init__(detail)
        self.field = field
        self.detail = detail


_POSITION = re.compile(r"at line (\d+) column (\d+)")


def _json_error_position(raw: bytes | str) -> tuple[int, int] | None:
    """Where pydantic's parser stops on `raw` (line, column), asked again only for a body
    already refused, so that both parsers' refusals read the same."""
    try:
        from_json(raw)
    except ValueError as error:
        found = _POSITION.search(str(error))
        return (int(found[1]), int(found[2])) if found else None
    return None  # json.loads refused what pydantic takes (they differ at the edges)


def malformed_json(exc: MalformedJSONError) -> HttpResponse:
    return problem(
        400,
        "malformed-json",
        "Malformed JSON",
        exc.detail,
        errors=[{"field": exc.field, "detail": exc.detail}],
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
