"""The agency API v1 at /api/v1/ (django-ninja). OpenAPI at /api/v1/openapi.json, a docs page
at /api/v1/docs. Every error is RFC 9457 problem+json with a specific `detail` and, for bad
input, a field-level `errors` list. Endpoints call the same actions as the web pages."""

import base64
import binascii
import hashlib
import json
import logging
import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, URLResolver, re_path
from django.urls import path as url_path
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import ValidationError as PydanticValidationError
from pydantic import model_validator

from api import multipart
from api.errors import (
    MalformedJSONError,
    ScopeError,
    malformed_json,
    method_not_allowed_as_problem,
    problem,
    unknown_path,
)
from api.idempotency import idempotent
from api.keys import authenticate
from api.models import ApiKey, Scope, WebhookEvent, WebhookType
from api.probing import IdentityAttemptsExceededError, IdentityCheckUnavailableError
from api.ratelimit import RateLimitedError, take
from api.webhooks import assign_cursors
from evidence.actions import issue_certificate
from evidence.models import Event
from evidence.pki import PdfSignatureError
from evidence.proofs import ProofError
from evidence.tsa import TimestampError
from mailboxes.actions import RequestMeta, deposit_many, deposit_notification, open_notification
from mailboxes.inputs import (
    APPEAL_NAME_MAX_LENGTH,
    APPEAL_WHERE_MAX_LENGTH,
    Appeal,
    AttachmentInput,
    NotificationInput,
)
from mailboxes.models import Notification
from payments.actions import PaymentRefused, apply_payment
from people.documents import normalize_document
from procedures.actions import download_receipt, register_procedure
from procedures.inputs import PersonInput, ProcedureInput
from procedures.models import Procedure, Receipt

log = logging.getLogger(__name__)


class KeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = authenticate(token)
        if key is not None:
            take(key.pk)  # raises RateLimitedError: 429 with Retry-After
            request.api_key = key  # type: ignore[attr-defined]
            if "\x00" in request.path_info or any(
                "\x00" in value for _name, values in request.GET.lists() for value in values
            ):
                raise NinjaValidationError(
                    [{"loc": ("path",), "msg": "The URL may not contain the NUL character."}]
                )
            _read_body(request, key)
        return key


class JSONParser(Parser):
    """ninja's parser (json.loads) for the bodies ninja parses (/procedures, /payments), with
    a body that is no JSON refused as the deposits refuse it (MalformedJSONError). ninja wraps
    whatever this raises in HttpError(400, "Cannot parse request body"), from it:
    _http_error answers with the cause."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError
            raise MalformedJSONError(request.body) from None


LARGE_BODY_PATHS = ("/api/v1/notifications", "/api/v1/notifications/batch")


def _read_body(request: HttpRequest, key: ApiKey) -> None:
    """A key that may deposit can send a deposit (JSON with base64 PDFs, or multipart) of up
    to BUZON_API_MAX_BODY_BYTES. Every other body keeps Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    (2.5 MB), checked when it is read, so a key without that scope cannot make a worker parse
    tens of megabytes. A JSON deposit is read here; a multipart one by api.multipart, which
    checks the same limit (kept on the request) as it reads."""
    large = (
        request.method == "POST"
        and request.path in LARGE_BODY_PATHS
        and Scope.NOTIFICATIONS_WRITE.value in key.scopes
    )
    request._buzon_body_limit = (  # type: ignore[attr-defined]
        settings.BUZON_API_MAX_BODY_BYTES if large else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    if not large or request.content_type == "multipart/form-data":
        return
    if not getattr(request, "_read_started", False):
        request._body = b"".join(multipart.read_limited(request, settings.BUZON_API_MAX_BODY_BYTES))


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "The same key with the same body returns the first answer; with another "
    "body, 409. Kept per client.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


class BuzonAPI(NinjaAPI):
    """Declares, on every operation, the answers any of them may give: 401 (no valid key), 422
    (a NUL in the URL), 429 (rate limit) and 500; on every POST also 400 (no Idempotency-Key),
    409 (key reused or in progress) and 413 (body too large). All are problem+json."""

    COMMON = {
        "401": "No valid key",
        "422": "Invalid request (for any operation: a NUL character in the URL)",
        "429": "Too many requests",
        "500": "Internal error",
    }
    POST = {"400": "Idempotency-Key missing", "409": "Conflict", "413": "Request too large"}

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        """ninja's URLs, each answering a method it does not take with a problem+json 405, then
        a problem+json 404 for every other path under /api/v1/, its root included (ninja's
        root raises Http404: the site's HTML page)."""
        urls = [url for url in super()._get_urls() if getattr(url, "name", "") != "api-root"]
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = method_not_allowed_as_problem(url.callback)
        # "api-root": ninja reverses it to find where the API is mounted.
        return [*urls, url_path("", unknown_path, name="api-root"), re_path(r"^", unknown_path)]

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for path, item in schema["paths"].items():
            if path.endswith(("/openapi.json", "/docs")):
                continue
            for method, operation in item.items():
                parameters = operation.setdefault("parameters", [])
                if method == "post" and IDEMPOTENCY_HEADER not in parameters:
                    parameters.append(IDEMPOTENCY_HEADER)
                # ninja keys responses by int, openapi_extra by str: one key per status, the
                # explicit (str) one winning, or the JSON would repeat a key.
                responses = operation["responses"]
                operation["responses"] = {
                    str(k): v for k, v in responses.items() if isinstance(k, int)
                }
                operation["responses"].update(
                    {k: v for k, v in responses.items() if isinstance(k, str)}
                )
                # ninja declares the endpoints' own error answers (`response={404: Problem}`)
                # as application/json; every error is sent as problem+json (api/errors.py).
                for status, response in operation["responses"].items():
                    content = response.get("content", {})
                    if status[:1] in ("4", "5") and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
                extra = self.COMMON | (self.POST if method == "post" else {})
                for status, description in extra.items():
                    operation["responses"].setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/problem+json": {"schema": problem_ref}},
                        },
                    )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (NotificationIn, BatchIn):  # bodies the views parse themselves
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in body.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(model.__name__, body)
        return schema


api = BuzonAPI(
    title="Buzón API",
    version="1.0.0",
    description=(
        "API for the agency's systems: register procedures, deposit notifications, follow "
        "them and confirm payments. Authenticate with `Authorization: Bearer <key>`."
    ),
    urls_namespace="api-v1",
    auth=KeyAuth(),
    parser=JSONParser(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def require(request: HttpRequest, scope: Scope) -> ApiKey:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    if scope.value not in key.scopes:
        raise ScopeError(scope.value)
    return key


class NoUnitsError(Exception):
    """The client may act for no issuing unit: it can deposit nowhere and read nothing."""


def require_units(request: HttpRequest, scope: Scope) -> ApiKey:
    """require(), for the notification endpoints: a client acts only for its issuing units
    (ApiClient.units), and one with none is told so rather than seeing every notification
    refused or missing. Which unit a given notification may use or be read for is checked
    where the officers' units are: check_notification() for deposits, the queries below
    (`unit__api_clients`) for reads."""
    key = require(request, scope)
    if not key.client.units.exists():
        raise NoUnitsError
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


@api.exception_handler(IdentityAttemptsExceededError)
def _identity_attempts(request: HttpRequest, exc: IdentityAttemptsExceededError) -> HttpResponse:
    response = problem(
        429, "identity-attempts-exceeded", "Too many identity mismatches", exc.detail
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(IdentityCheckUnavailableError)
def _identity_check_unavailable(
    request: HttpRequest, exc: IdentityCheckUnavailableError
) -> HttpResponse:
    response = problem(503, "identity-check-unavailable", "Service unavailable", exc.detail)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ScopeError)
def _forbidden(request: HttpRequest, exc: ScopeError) -> HttpResponse:
    return problem(
        403, "insufficient-scope", "Insufficient scope", f"This key lacks the scope {exc.scope}."
    )


@api.exception_handler(NoUnitsError)
def _no_units(request: HttpRequest, exc: NoUnitsError) -> HttpResponse:
    return problem(
        403,
        "no-units",
        "No issuing units",
        "This system may act for no issuing unit, so it can neither deposit nor read "
        "notifications. An officer assigns its units in /oficina/ (Integraciones).",
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    if [(e.get("type"), tuple(e.get("loc", ()))) for e in exc.errors] == [
        ("missing", ("body", "payload"))
    ]:
        # No body at all, where ninja parses it (it never reaches JSONParser): as for the
        # deposits, which parse theirs themselves (_parse).
        return malformed_json(MalformedJSONError(b""))
    errors = [
        {
            # ninja's loc is ("body", <parameter>, field...): keep the field's own path.
            "field": ".".join(
                str(part) for part in error.get("loc", ()) if part not in ("body", "payload")
            ),
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
    if isinstance(exc.__cause__, MalformedJSONError):  # ninja's wrapping of JSONParser's
        return malformed_json(exc.__cause__)
    return problem(exc.status_code, "error", "Error", str(exc))


@api.exception_handler(MalformedJSONError)
def _malformed_json(request: HttpRequest, exc: MalformedJSONError) -> HttpResponse:
    return malformed_json(exc)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(
        413,
        "too-large",
        "Request too large",
        f"The request body is too large: deposits take up to "
        f"{settings.BUZON_API_MAX_BODY_BYTES} bytes (JSON or multipart), every other "
        f"request {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
    )


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(400, "bad-multipart", "Malformed multipart body", str(exc) or "Malformed.")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Too many fields or files in a form, a malformed header: the client's fault, never a 500.
    return problem(400, "bad-request", "Bad request", str(exc) or "The request was refused.")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unexpected API error")
    return problem(500, "internal-error", "Internal error", "Something failed on our side.")


PDF_RESPONSE = {
    "responses": {
        "200": {
            "description": "The PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}

# --- Endpoints --------------------------------------------------------------------------------


def _refuse_nul(value: Any, path: str = "") -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{path or 'a value'}: text may not contain the NUL character (U+0000)")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{path}.{index}" if path else str(index))


class In(Schema):
    """A request body: no text anywhere in it may hold U+0000, which no field means and
    PostgreSQL cannot store or compare."""

    @model_validator(mode="before")
    @classmethod
    def no_nul_text(cls, data: Any) -> Any:
        _refuse_nul(getattr(data, "_obj", data))  # ninja hands the data in a DjangoGetter
        return data


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
    units: list[str] = Field(
        description="the codes of the issuing units this system deposits for and reads"
    )
    last_used_at: datetime | None


@api.get("/me", response={200: Me, 401: Problem}, summary="The calling key", tags=["keys"])
def me(request: HttpRequest) -> dict[str, Any]:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return {
        "client": key.client.name,
        "key": key.name,
        "test": key.is_test,
        "scopes": key.scopes,
        "units": sorted(key.client.units.values_list("code", flat=True)),
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
    test: bool = Field(description="a test mailbox: no legal effect")


@api.get(
    "/procedures/{number}",
    response={200: ProcedureOut, 401: Problem, 403: Problem, 404: Problem},
    summary="A registered procedure",
    tags=["procedures"],
)
def get_procedure(request: HttpRequest, number: str) -> dict[str, Any]:
    key = require(request, Scope.PROCEDURES_WRITE)
    procedure = (
        Procedure.objects.select_related("procedure_type", "office", "person")
        .filter(number=number.strip().upper()[:20])
        .first()
    )
    if procedure is None or (key.is_test and not procedure.person.is_test):
        raise Http404("No procedure with that number.")  # a test key sees test mailboxes only
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
        "test": person.is_test,
    }


class PersonIn(In):
    doc_type: str = Field(description="DNI, CE, CPP, PTP, PAS or OTRO")
    doc_number: str = Field(max_length=30)
    doc_country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2, for PAS/OTRO")
    given_names: str = Field(max_length=120)
    first_surname: str = Field(max_length=80)
    second_surname: str = Field("", max_length=80)
    birth_date: date
    nationality: str = Field(max_length=2, description="ISO 3166-1 alpha-2")
    email: str = Field("", max_length=254)
    mobile_phone: str = Field("", max_length=30)


class ProcedureIn(In):
    procedure_type: str = Field(max_length=10, description="a code of the catalogue")
    office: str = Field(max_length=2, description="the office's code, e.g. LM")
    filing_date: date
    number: str = Field("", max_length=20, description="blank: the office's next number")


class RegistrationIn(In):
    person: PersonIn
    procedure: ProcedureIn


class RegistrationOut(Schema):
    number: str
    created: bool
    person_created: bool
    credentials_issued: bool
    username: str
    constancia_url: str
    constancia_verification_code: str
    constancia_sha256: str
    test: bool = Field(description="a test mailbox: no legal effect")


@api.post(
    "/procedures",
    response={
        200: RegistrationOut,
        201: RegistrationOut,
        400: Problem,
        401: Problem,
        403: Problem,
        409: Problem,
        422: Problem,
        503: Problem,
    },
    summary="Register a person and a procedure",
    description=(
        "Creates the person the first time (and their credentials, printed on the "
        "constancia), then the procedure. Needs `Idempotency-Key`. 201 when registered now, "
        "200 when the same procedure was already registered. A document already registered "
        "with other identity data is a 422 that names no field; after too many of those, "
        "429 (`identity-attempts-exceeded`, with `Retry-After`) for every registration of "
        "documents already registered, right data included; 503 when that limit cannot be "
        "checked. New documents are not held back."
    ),
    tags=["procedures"],
)
@idempotent(Scope.PROCEDURES_WRITE)
def post_procedure(request: HttpRequest, payload: RegistrationIn) -> tuple[int, Schema]:
    key = require(request, Scope.PROCEDURES_WRITE)
    p, r = payload.person, payload.procedure
    registration = register_procedure(
        PersonInput(
            doc_type=p.doc_type,
            doc_number=p.doc_number,
            doc_country=p.doc_country,
            given_names=p.given_names,
            first_surname=p.first_surname,
            second_surname=p.second_surname,
            birth_date=p.birth_date,
            nationality=p.nationality,
            email=p.email,
            mobile_phone=p.mobile_phone,
        ),
        ProcedureInput(
            procedure_type=r.procedure_type,
            office=r.office,
            filing_date=r.filing_date,
            number=r.number,
        ),
        actor=None,
        idempotency_key=registration_key(key, request.headers["Idempotency-Key"].strip()),
        client=key.client,
        key_prefix=key.prefix,
    )
    number = registration.procedure.number
    log.info("procedure %s registered through the API by %s", number, key.client.name)
    return (201 if registration.created else 200), RegistrationOut(
        number=number,
        created=registration.created,
        person_created=registration.person_created,
        credentials_issued=registration.credentials_issued,
        username=registration.procedure.person.username,
        constancia_url=f"/api/v1/procedures/{number}/constancia.pdf",
        constancia_verification_code=registration.receipt.verification_code,
        constancia_sha256=registration.receipt.sha256,
        test=registration.procedure.person.is_test,
    )


def registration_key(key: ApiKey, idempotency_key: str) -> str:
    """register_procedure()'s own idempotency key (Procedure.idempotency_key, unique, at most
    64 characters): the client and the SHA-256 of its Idempotency-Key. A rerun of the same
    request (after its worker died, api/idempotency.py) returns the first registration rather
    than a second procedure under a new number: without a `number` in the body, nothing else
    ties the two together."""
    prefix = f"api:{key.client_id}:"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return prefix + digest[: 64 - len(prefix)]


@api.get(
    "/procedures/{number}/constancia.pdf",
    response={200: None, 401: Problem, 403: Problem, 404: Problem},
    summary="The constancia (record copy, without the password)",
    tags=["procedures"],
    openapi_extra=PDF_RESPONSE,
)
def get_constancia(request: HttpRequest, number: str) -> HttpResponse:
    key = require(request, Scope.PROCEDURES_WRITE)
    receipts = Receipt.objects.select_related("procedure").filter(
        procedure__number=number.strip().upper()[:20]
    )
    if key.is_test:
        receipts = receipts.filter(procedure__person__is_test=True)
    receipt = receipts.order_by("-issued_at", "-id").first()
    if receipt is None:
        raise Http404("No procedure with that number.")
    download = download_receipt(receipt, actor=None, client=key.client)  # never the password
    response = HttpResponse(download.pdf, content_type="application/pdf")
    # The procedure's own number, not the path's: that one may hold what was stripped to find
    # it (a newline is no header value) and is in whatever case the client typed.
    filename = f"constancia-{receipt.procedure.number}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"  # personal data: no cache keeps a copy
    return response


class PaymentIn(In):
    source: str = Field(max_length=30, description="the payment channel's id, e.g. bn, pagalo")
    transaction_id: str = Field(max_length=100, description="the channel's operation number")
    payment_code: str = Field(max_length=20)
    amount: str = Field(max_length=20, description="in soles, as text: 350.00")
    paid_at: datetime


class PaymentDetail(Schema):
    id: str
    transaction_id: str
    payment_code: str
    amount: str
    paid_at: str
    source: str
    outcome: str
    flag: str
    receipt_sha256: str


class DebtState(Schema):
    payment_code: str
    kind: str
    amount: str
    paid: str
    status: str


class PaymentOut(Schema):
    created: bool
    test: bool = Field(
        description="a test mailbox's debt, paid through a test key: no legal effect"
    )
    payment: PaymentDetail
    debt: DebtState


@api.exception_handler(PaymentRefused)
def _payment_refused(request: HttpRequest, exc: PaymentRefused) -> HttpResponse:
    status = {"unknown_code": 404, "conflict": 409}.get(exc.code, 422)
    errors = [
        {"field": field, "detail": str(message)}
        for field, messages in exc.errors.items()
        for message in messages
    ]
    detail = errors[0]["detail"] if errors else "Payment refused."
    return problem(status, f"payment-{exc.code}".replace("_", "-"), "Payment refused", detail,
                   errors=errors)  # fmt: skip


@api.post(
    "/payments",
    response={
        200: PaymentOut,
        201: PaymentOut,
        400: Problem,
        401: Problem,
        403: Problem,
        404: Problem,
        409: Problem,
        422: Problem,
    },
    summary="Confirm a payment of a fine or an installment",
    description=(
        "Idempotent by the channel and its transaction id (and by `Idempotency-Key`). 201 "
        "when applied now, 200 when it had been applied already. Partial payments and "
        "overpayments are recorded and flagged (`payment.flag`). A live key pays real debts "
        "only and a test key test debts only: the other kind's payment code is answered as "
        "one no debt has (404)."
    ),
    tags=["payments"],
)
@idempotent(Scope.PAYMENTS_WRITE)
def post_payment(request: HttpRequest, payload: PaymentIn) -> tuple[int, Schema]:
    key = require(request, Scope.PAYMENTS_WRITE)
    result = apply_payment(
        payload.transaction_id,
        payload.payment_code,
        payload.amount,
        payload.paid_at,
        payload.source,
        test=key.is_test,
    )
    return (201 if result.created else 200), PaymentOut(**result.as_dict())


# --- Notifications ----------------------------------------------------------------------------


class AttachmentIn(In):
    name: str = Field(max_length=200)
    content_base64: str = Field(description="the PDF, base64-encoded")


class AppealIn(In):
    name: str = Field(
        max_length=APPEAL_NAME_MAX_LENGTH, description="e.g. Reconsideración, Apelación"
    )
    where: str = Field(max_length=APPEAL_WHERE_MAX_LENGTH, description="where to file it")
    business_days: int | None = Field(None, description="deadline to file it")


class NotificationIn(In):
    procedure_number: str = Field(max_length=20)
    unit: str = Field(max_length=20, description="the issuing unit's code")
    kind: str = Field(description="approval, resolution, correction, fine, installment, other")
    subject: str = Field(max_length=200)
    body: str = Field(description="Markdown")
    attachments: list[AttachmentIn] = Field(
        default_factory=list, description="base64 PDFs; in multipart, the `attachments` files"
    )
    response_business_days: int | None = None
    ends_administrative_route: bool | None = Field(
        None, description="resolutions: whether the act ends the administrative route"
    )
    appeals: list[AppealIn] = Field(
        default_factory=list, description="resolutions: the appeals available (art. 24.1)"
    )
    details: dict[str, Any] | None = Field(
        None, description="the kind's data: correction items, a fine, an installment plan"
    )


class NotificationSummary(Schema):
    id: str
    procedure_number: str
    kind: str
    subject: str
    state: str
    test: bool = Field(description="deposited in a test mailbox: no legal effect")
    deposited_at: datetime
    effective_date: date | None
    deadline_date: date | None
    opened_at: datetime | None


class TimelineEntry(Schema):
    kind: str
    at: datetime
    hash: str


class NotificationOut(NotificationSummary):
    timeline: list[TimelineEntry]


def _summary(notification: Notification) -> dict[str, Any]:
    return {
        "id": str(notification.public_id),
        "procedure_number": notification.procedure.number,
        "kind": notification.kind,
        "subject": notification.subject,
        "state": notification.state,
        "test": notification.person.is_test,
        "deposited_at": notification.deposited_at,
        "effective_date": notification.effective_date,
        "deadline_date": notification.deadline_date,
        "opened_at": notification.opened_at,
    }


def _notification_out(notification: Notification) -> NotificationOut:
    timeline = [
        TimelineEntry(kind=e.kind, at=e.occurred_at, hash=e.hash)
        for e in Event.objects.filter(notification=notification).order_by("occurred_at", "pk")
    ]
    return NotificationOut(**_summary(notification), timeline=timeline)


def _decode(items: list[AttachmentIn], field: str = "attachments") -> list[AttachmentInput]:
    decoded = []
    for index, item in enumerate(items):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise DjangoValidationError(
                {f"{field}.{index}": ["content_base64 is not valid base64."]}
            ) from None
        decoded.append(AttachmentInput(name=item.name, content=content))
    return decoded


def _notification_input(
    payload: NotificationIn, attachments: list[AttachmentInput], idempotency_key: str
) -> NotificationInput:
    return NotificationInput(
        procedure_number=payload.procedure_number,
        unit=payload.unit,
        kind=payload.kind,
        subject=payload.subject,
        body=payload.body,
        attachments=attachments,
        ends_administrative_route=payload.ends_administrative_route,
        appeals=[Appeal(a.name, a.where, a.business_days) for a in payload.appeals],
        response_business_days=payload.response_business_days,
        details=payload.details,
        idempotency_key=idempotency_key,
    )


def deposit_key(key: ApiKey, kind: str, value: str) -> str:
    """The deposit's own idempotency key (at most 100 characters): the client, the kind (`s`:
    a single deposit's Idempotency-Key, `b`: a batch item's reference, apart from each other)
    and the value, hashed when long."""
    if len(value) > 60:
        value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:40]
    return f"api:{key.client_id}:{kind}:{value}"


def _parse(model: type[Schema], raw: bytes | str, prefix: tuple[str, ...] = ()) -> Any:
    """The body (or the multipart field `prefix`) as `model`: no JSON at all is a 400
    (MalformedJSONError), as for the bodies ninja parses; JSON with bad fields, a 422."""
    try:
        return model.model_validate_json(raw)
    except PydanticValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise MalformedJSONError(raw, ".".join(prefix)) from None
        raise NinjaValidationError(
            [{"loc": prefix + tuple(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        ) from None


def _one_field(parsed: multipart.Form, name: str, what: str) -> str:
    found = parsed.named(name)  # a plain field, or a file (curl -F name=@batch.json)
    if len(found) != 1:
        raise NinjaValidationError(
            [{"loc": (name,), "msg": f"Send the {what} as JSON in one `{name}` field."}]
        )
    return found[0].text()


def _unexpected_parts(parts: list[multipart.Part], expected: str) -> None:
    if parts:
        raise DjangoValidationError(
            {
                part.name: [f"Unexpected part {part.name!r}: this endpoint takes {expected}."]
                for part in parts
            }
        )


def _multipart_notification(request: HttpRequest) -> tuple[NotificationIn, list[AttachmentInput]]:
    """multipart/form-data: a `notification` field holding the JSON body, and the PDFs as
    `attachments` files, after any base64 ones in the JSON."""
    parsed = multipart.form(request)
    payload = _parse(
        NotificationIn, _one_field(parsed, "notification", "notification"), ("notification",)
    )
    _unexpected_parts(
        [
            p
            for p in parsed.parts
            if p.name != "notification" and (p.name != "attachments" or p.filename is None)
        ],
        "a `notification` field and the PDFs as `attachments` files (with a file name)",
    )
    attachments = _decode(payload.attachments)
    for part in parsed.parts:
        if part.name == "attachments" and part.filename is not None:
            attachments.append(AttachmentInput(name=part.filename, content=part.content))
    return payload, attachments


PDF_FILES = {"type": "array", "items": {"type": "string", "format": "binary"}}


def _json_or_multipart(schema: str, field: str, form: dict[str, Any]) -> dict[str, Any]:
    """A request body of the deposits: JSON (`schema`), or multipart with that JSON in the text
    field `field` and the PDFs as files (`form`: the rest of the multipart object's schema)."""
    multipart = {"type": "object", "required": [field], **form}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
            "multipart/form-data": {"schema": multipart},
        },
    }


NOTIFICATION_BODY = _json_or_multipart(
    "NotificationIn",
    "notification",
    {
        "properties": {
            "notification": {
                "type": "string",
                "description": "the JSON body (NotificationIn); `attachments` may be left out",
            },
            "attachments": {**PDF_FILES, "description": "the PDFs"},
        },
    },
)


@api.post(
    "/notifications",
    response={
        200: NotificationOut,
        201: NotificationOut,
        400: Problem,
        401: Problem,
        403: Problem,
        409: Problem,
        413: Problem,
        422: Problem,
    },
    summary="Deposit one notification",
    description=(
        "The same checks and the same deposit as the officers' form: real PDFs, the art. 24.1 "
        "content of a resolution, the kind's details. JSON with base64 PDFs, or multipart "
        "with the PDFs as files. A test key deposits only into test mailboxes. Needs "
        "`Idempotency-Key`; the deposit itself is idempotent by it too. 201 when deposited "
        "now, 200 when that key had deposited it already."
    ),
    tags=["notifications"],
    openapi_extra={"requestBody": NOTIFICATION_BODY},
)
@idempotent(Scope.NOTIFICATIONS_WRITE)
def post_notification(request: HttpRequest) -> tuple[int, Schema]:
    key = require_units(request, Scope.NOTIFICATIONS_WRITE)
    if request.content_type == "multipart/form-data":
        payload, attachments = _multipart_notification(request)
    else:
        payload = _parse(NotificationIn, request.body)
        attachments = _decode(payload.attachments)
    idempotency_key = deposit_key(key, "s", request.headers["Idempotency-Key"].strip())
    result = deposit_notification(
        _notification_input(payload, attachments, idempotency_key),
        actor=None,
        client=key.client,
    )
    return (201 if result.created else 200), _notification_out(result.notification)


class BatchItemIn(NotificationIn):
    reference: str = Field(
        min_length=1,
        max_length=100,
        description="your unique id for this item: a rerun with it never deposits twice",
    )


class BatchIn(In):
    notifications: list[BatchItemIn] = Field(min_length=1, max_length=multipart.BATCH_MAX_ITEMS)


class FieldError(Schema):
    field: str
    detail: str


class BatchItemOut(Schema):
    index: int
    reference: str
    status: str = Field(description="created, existing (that reference's first deposit), refused")
    id: str | None
    errors: list[FieldError]


class BatchOut(Schema):
    created: int
    existing: int
    refused: int
    results: list[BatchItemOut]


def _field_errors(errors: dict[str, list[str]]) -> list[FieldError]:
    return [
        FieldError(field="reference" if field == "idempotency_key" else field, detail=message)
        for field, messages in errors.items()
        for message in messages
    ]


BATCH_FILE = re.compile(r"attachments\.(0|[1-9][0-9]{0,3})")


def _multipart_batch(request: HttpRequest) -> tuple[BatchIn, dict[int, list[AttachmentInput]]]:
    """multipart/form-data: a `notifications` field holding the JSON body, and each item's
    PDFs as files named `attachments.<index>` (the item's place in the list, from 0), after
    any base64 ones in its JSON."""
    parsed = multipart.form(request)
    payload: BatchIn = _parse(
        BatchIn, _one_field(parsed, "notifications", "batch"), ("notifications",)
    )
    files: dict[int, list[AttachmentInput]] = {}
    unexpected = []
    for part in parsed.parts:
        if part.name == "notifications":
            continue
        match = BATCH_FILE.fullmatch(part.name)
        if match is None or int(match[1]) >= len(payload.notifications) or part.filename is None:
            unexpected.append(part)
            continue
        files.setdefault(int(match[1]), []).append(
            AttachmentInput(name=part.filename, content=part.content)
        )
    _unexpected_parts(
        unexpected,
        f"a `notifications` field and the PDFs as files (with a file name) named "
        f"`attachments.<index>`, the index of an item of the batch "
        f"(0 to {len(payload.notifications) - 1})",
    )
    return payload, files


BATCH_BODY = _json_or_multipart(
    "BatchIn",
    "notifications",
    {
        "properties": {
            "notifications": {
                "type": "string",
                "description": "the JSON body (BatchIn); an item's `attachments` may be left "
                "out. Each item's PDFs go as files named `attachments.<index>`, the item's "
                "place in the list from 0: `attachments.0` for the first",
            },
        },
        "additionalProperties": {
            **PDF_FILES,
            "description": "an item's PDFs, as files named `attachments.<index>`: "
            "`attachments.0` for the first item",
        },
    },
)


@api.post(
    "/notifications/batch",
    response={
        200: BatchOut,
        400: Problem,
        401: Problem,
        403: Problem,
        409: Problem,
        413: Problem,
        422: Problem,
    },
    summary="Deposit up to 1,000 notifications",
    description=(
        "Through the bulk path (`deposit_many()`): every item is checked first, then the good "
        "ones are written in batches. The result is per item, in order; a bad item is refused "
        "alone. Each item's `reference` makes it idempotent across requests: an item whose "
        "reference was deposited before is `existing` (or refused if its content differs). "
        "JSON with base64 PDFs, or multipart with the PDFs as files named "
        "`attachments.<index>` (`attachments.0` for the first item): the faster way for "
        "large batches (no base64 to encode and decode, a quarter fewer bytes)."
    ),
    tags=["notifications"],
    openapi_extra={"requestBody": BATCH_BODY},
)
@idempotent(Scope.NOTIFICATIONS_WRITE)
def post_batch(request: HttpRequest) -> tuple[int, Schema]:
    key = require_units(request, Scope.NOTIFICATIONS_WRITE)
    files: dict[int, list[AttachmentInput]] = {}
    if request.content_type == "multipart/form-data":
        payload, files = _multipart_batch(request)
    else:
        # Parsed here, straight from the bytes (pydantic's JSON parser): for tens of megabytes
        # of base64 that is half the time of ninja's json.loads followed by validation.
        payload = _parse(BatchIn, request.body)
    results: list[BatchItemOut | None] = [None] * len(payload.notifications)
    inputs: list[NotificationInput] = []
    positions: list[int] = []
    for index, item in enumerate(payload.notifications):
        try:
            attachments = _decode(item.attachments) + files.get(index, [])
        except DjangoValidationError as exc:
            results[index] = BatchItemOut(
                index=index,
                reference=item.reference,
                status="refused",
                id=None,
                errors=_field_errors(exc.message_dict),
            )
            continue
        positions.append(index)
        inputs.append(_notification_input(item, attachments, deposit_key(key, "b", item.reference)))
    for position, outcome in zip(
        positions, deposit_many(inputs, actor=None, client=key.client), strict=True
    ):
        reference = payload.notifications[position].reference
        if outcome.notification is None:
            results[position] = BatchItemOut(
                index=position,
                reference=reference,
                status="refused",
                id=None,
                errors=_field_errors(outcome.errors or {}),
            )
        else:
            results[position] = BatchItemOut(
                index=position,
                reference=reference,
                status="created" if outcome.created else "existing",
                id=str(outcome.notification.public_id),
                errors=[],
            )
    done = [r for r in results if r is not None]
    return 200, BatchOut(
        created=sum(r.status == "created" for r in done),
        existing=sum(r.status == "existing" for r in done),
        refused=sum(r.status == "refused" for r in done),
        results=done,
    )


def _own_notification(key: ApiKey, notification_id: str) -> Notification:
    try:
        public_id = uuid.UUID(notification_id)
    except ValueError:
        raise Http404("No such notification.") from None
    notification = (
        Notification.objects.select_related("procedure", "person", "unit")
        # Another system's, or one of a unit this system does not act for: 404.
        .filter(public_id=public_id, api_client=key.client, unit__api_clients=key.client)
        .first()
    )
    if notification is None:
        raise Http404("No such notification.")
    return notification


@api.get(
    "/notifications/{notification_id}/certificate",
    response={200: None, 401: Problem, 403: Problem, 404: Problem, 503: Problem},
    summary="A signed notification certificate (PDF, PAdES), issued now",
    description="Every call issues and registers a new certificate, verifiable at /verificar/.",
    tags=["notifications"],
    openapi_extra=PDF_RESPONSE,
)
def get_certificate(request: HttpRequest, notification_id: str) -> HttpResponse:
    key = require_units(request, Scope.NOTIFICATIONS_READ)
    notification = _own_notification(key, notification_id)
    try:
        issued, pdf = issue_certificate(notification, requested_by=None)
    except (TimestampError, PdfSignatureError, ProofError):
        log.exception("certificate for notification %s not issued", notification.pk)
        response = problem(
            503,
            "certificate-unavailable",
            "Certificate unavailable",
            "The certificate could not be signed right now; retry later.",
        )
        response["Retry-After"] = "60"
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="constancia-{issued.code}.pdf"'
    response["Cache-Control"] = "private, no-store"  # personal data: no cache keeps a copy
    return response


@api.get(
    "/notifications/{notification_id}",
    response={200: NotificationOut, 401: Problem, 403: Problem, 404: Problem},
    summary="A notification this system deposited: state, legal dates, timeline",
    description=(
        "Only this system's own deposits, of the issuing units it acts for: any other "
        "notification is a 404, the same as an unknown one."
    ),
    tags=["notifications"],
)
def get_notification(request: HttpRequest, notification_id: str) -> NotificationOut:
    key = require_units(request, Scope.NOTIFICATIONS_READ)
    return _notification_out(_own_notification(key, notification_id))


class PersonNotifications(Schema):
    doc_type: str
    doc_number: str
    notifications: list[NotificationSummary]
    next_offset: int | None = Field(description="pass as `offset` for the next page; null: end")


@api.get(
    "/persons/{doc_type}/{doc_number}/notifications",
    response={200: PersonNotifications, 401: Problem, 403: Problem, 404: Problem, 422: Problem},
    summary="The notifications this system deposited for a person, newest first",
    description=(
        "Only this system's own deposits, of the issuing units it acts for. A person for whom "
        "it has none is a 404, the same as an unknown person."
    ),
    tags=["notifications"],
)
def get_person_notifications(
    request: HttpRequest,
    doc_type: str,
    doc_number: str,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
    doc_country: Annotated[
        str, Field(max_length=2, description="the issuing country, for PAS and OTRO")
    ] = "",
) -> dict[str, Any]:
    key = require_units(request, Scope.NOTIFICATIONS_READ)
    document = normalize_document(doc_type.strip().upper(), doc_number, doc_country.upper())
    rows = list(
        Notification.objects.select_related("procedure", "person")
        .filter(
            api_client=key.client,
            unit__api_clients=key.client,
            person__doc_type=document.type,
            person__doc_number=document.number,
        )
        .order_by("-deposited_at", "-pk")[offset : offset + limit + 1]
    )
    if not rows and offset == 0:
        raise Http404("This system has no notifications for that person.")
    return {
        "doc_type": document.type,
        "doc_number": document.number,
        "notifications": [_summary(n) for n in rows[:limit]],
        "next_offset": offset + limit if len(rows) > limit else None,
    }


# --- Events (what the webhooks carry), for a client that was down -----------------------------


class EventNotification(Schema):
    id: str
    procedure_number: str
    kind: str
    state: str
    effective_date: date | None
    deadline_date: date | None


class EventEvidence(Schema):
    lane: int
    seq: int
    hash: str


class EventOut(Schema):
    cursor: int
    type: str = Field(description=", ".join(WebhookType.values))
    occurred_at: datetime
    test: bool
    notification: EventNotification
    evidence: EventEvidence
    data: dict[str, Any]


class EventPage(Schema):
    events: list[EventOut]
    next_cursor: int = Field(description="pass as `after` to read on; the same when at the end")
    has_more: bool


@api.get(
    "/events",
    response={200: EventPage, 401: Problem, 403: Problem, 422: Problem},
    summary="This system's events after a cursor (replay what the webhooks sent)",
    description=(
        "Every event a webhook delivers, in commit order, whether or not a callback URL is "
        "set: keep the last `cursor` you processed and read on from it after an outage. "
        "`after=0` reads from the start. Only events of notifications of the issuing units this "
        "system acts for now."
    ),
    tags=["webhooks"],
)
def get_events(
    request: HttpRequest,
    after: Annotated[int, Field(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    key = require_units(request, Scope.NOTIFICATIONS_READ)
    assign_cursors()
    rows = list(
        WebhookEvent.objects.filter(
            client=key.client,
            cursor__gt=after,
            notification__unit__api_clients=key.client,  # only its units' (as the webhooks)
        ).order_by("cursor")[: limit + 1]
    )
    events = [{"cursor": row.cursor, **row.payload} for row in rows[:limit]]
    return {
        "events": events,
        "next_cursor": events[-1]["cursor"] if events else after,
        "has_more": len(rows) > limit,
    }


@api.post(
    "/notifications/{notification_id}/simulate-opening",
    response={200: NotificationOut, 403: Problem, 404: Problem},
    summary="Test keys only: open a test notification as its person would",
    description=(
        "For a system's integration tests: records the opening (acuse) of a notification in a "
        "test mailbox, as the person opening it in the buzón would, so the program can follow "
        "it to `opened` and receive the `opened` webhook. Nobody signs in to a test mailbox. "
        "A live key gets 403."
    ),
    tags=["notifications"],
)
@idempotent(Scope.NOTIFICATIONS_WRITE)
def simulate_opening(request: HttpRequest, notification_id: str) -> tuple[int, Schema]:
    key = require_units(request, Scope.NOTIFICATIONS_WRITE)
    if not key.is_test:
        raise HttpError(403, "Only a test key may simulate an opening.")
    notification = _own_notification(key, notification_id)
    person = notification.person
    if not person.is_test or person.user is None:
        raise Http404("No such notification.")
    open_notification(
        notification,
        reader=person.user,
        meta=RequestMeta(ip_address=None, user_agent=f"simulated by the test key of {key.client}"),
    )
    notification.refresh_from_db()
    return 200, _notification_out(notification)
