"""The agency API v1 at /api/v1/ (django-ninja). OpenAPI at /api/v1/openapi.json, a docs page
at /api/v1/docs. Every error is RFC 9457 problem+json with a specific `detail` and, for bad
input, a field-level `errors` list. Endpoints call the same actions as the web pages."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from api.errors import ScopeError, problem
from api.keys import authenticate
from api.models import ApiKey, Scope
from api.ratelimit import RateLimitedError, take
from procedures.models import Procedure

log = logging.getLogger(__name__)


class KeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = authenticate(token)
        if key is not None:
            take(key.pk)  # raises RateLimitedError: 429 with Retry-After
            request.api_key = key  # type: ignore[attr-defined]
        return key


api = NinjaAPI(
    title="Buzón API",
    version="1.0.0",
    description=(
        "API for the agency's systems: register procedures, deposit notifications, follow "
        "them and confirm payments. Authenticate with `Authorization: Bearer <key>`."
    ),
    urls_namespace="api-v1",
    auth=KeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def require(request: HttpRequest, scope: Scope) -> ApiKey:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    if scope.value not in key.scopes:
        raise ScopeError(scope.value)
    return key


# --- Errors, all as problem+json ------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = problem(
        401,
        "unauthenticated",
        "Authentication required",
        "Send a valid, unrevoked API key as `Authorization: Bearer <key>`.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="buzon"'
    return response


@api.exception_handler(RateLimitedError)
def _too_many(request: HttpRequest, exc: RateLimitedError) -> HttpResponse:
    response = problem(
        429,
        "rate-limited",
        "Too many requests",
        f"This key sent more than {settings.BUZON_API_REQUESTS_PER_MINUTE} requests in a "
        f"minute. Retry after {exc.retry_after} s.",
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ScopeError)
def _forbidden(request: HttpRequest, exc: ScopeError) -> HttpResponse:
    return problem(
        403, "insufficient-scope", "Insufficient scope", f"This key lacks the scope {exc.scope}."
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part != "body"),
            "detail": str(error.get("msg", "")),
        }
        for error in exc.errors
    ]
    return problem(
        422, "invalid-request", "Invalid request", "Some fields are invalid.", errors=errors
    )


@api.exception_handler(DjangoValidationError)
def _refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": field, "detail": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"field": "", "detail": message} for message in exc.messages]
    return problem(
        422, "refused", "Refused", errors[0]["detail"] if errors else "Refused.", errors=errors
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(404, "not-found", "Not found", str(exc) or "No such resource.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, "error", "Error", str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unexpected API error")
    return problem(500, "internal-error", "Internal error", "Something failed on our side.")


# --- Endpoints --------------------------------------------------------------------------------


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str


class Me(Schema):
    client: str
    key: str
    test: bool
    scopes: list[str]
    last_used_at: datetime | None


@api.get("/me", response={200: Me, 401: Problem}, summary="The calling key", tags=["keys"])
def me(request: HttpRequest) -> dict[str, Any]:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return {
        "client": key.client.name,
        "key": key.name,
        "test": key.is_test,
        "scopes": key.scopes,
        "last_used_at": key.last_used_at,
    }


class ProcedureOut(Schema):
    number: str
    status: str
    procedure_type: str
    office: str
    filing_date: date
    doc_type: str
    doc_number: str
    credentials_issued: bool


@api.get(
    "/procedures/{number}",
    response={200: ProcedureOut, 401: Problem, 403: Problem, 404: Problem},
    summary="A registered procedure",
    tags=["procedures"],
)
def get_procedure(request: HttpRequest, number: str) -> dict[str, Any]:
    require(request, Scope.PROCEDURES_WRITE)
    procedure = (
        Procedure.objects.select_related("procedure_type", "office", "person")
        .filter(number=number.strip().upper()[:20])
        .first()
    )
    if procedure is None:
        raise Http404("No procedure with that number.")
    person = procedure.person
    return {
        "number": procedure.number,
        "status": procedure.status,
        "procedure_type": procedure.procedure_type.code,
        "office": procedure.office.code,
        "filing_date": procedure.filing_date,
        "doc_type": person.doc_type,
        "doc_number": person.doc_number,
        "credentials_issued": person.user_id is not None,
    }
