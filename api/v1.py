"""The agency API v1 at /api/v1/ (django-ninja). OpenAPI at /api/v1/openapi.json, a docs page
at /api/v1/docs. Every error is RFC 9457 problem+json with a specific `detail` and, for bad
input, a field-level `errors` list. Endpoints call the same actions as the web pages."""

import base64
import binascii
import logging
import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from api.errors import ScopeError, problem
from api.idempotency import idempotent
from api.keys import authenticate
from api.models import ApiKey, Scope
from api.ratelimit import RateLimitedError, take
from evidence.actions import issue_certificate
from evidence.models import Event
from evidence.pki import PdfSignatureError
from evidence.proofs import ProofError
from evidence.tsa import TimestampError
from mailboxes.actions import deposit_notification
from mailboxes.inputs import AttachmentInput, NotificationInput
from mailboxes.models import Notification
from payments.actions import PaymentRefused, apply_payment
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


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(
        413,
        "too-large",
        "Request too large",
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
    )


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


class PersonIn(Schema):
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


class ProcedureIn(Schema):
    procedure_type: str = Field(max_length=10, description="a code of the catalogue")
    office: str = Field(max_length=2, description="the office's code, e.g. LM")
    filing_date: date
    number: str = Field("", max_length=20, description="blank: the office's next number")


class RegistrationIn(Schema):
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
    },
    summary="Register a person and a procedure",
    description=(
        "Creates the person the first time (and their credentials, printed on the "
        "constancia), then the procedure. Needs `Idempotency-Key`. 201 when registered now, "
        "200 when the same procedure was already registered."
    ),
    tags=["procedures"],
)
@idempotent
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
        idempotency_key=None,
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
    )


@api.get(
    "/procedures/{number}/constancia.pdf",
    response={200: None, 401: Problem, 403: Problem, 404: Problem},
    summary="The constancia (record copy, without the password)",
    tags=["procedures"],
)
def get_constancia(request: HttpRequest, number: str) -> HttpResponse:
    require(request, Scope.PROCEDURES_WRITE)
    receipt = (
        Receipt.objects.filter(procedure__number=number.strip().upper()[:20])
        .order_by("-issued_at", "-id")
        .first()
    )
    if receipt is None:
        raise Http404("No procedure with that number.")
    download = download_receipt(receipt, actor=None)
    response = HttpResponse(download.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="constancia-{number}.pdf"'
    return response


class PaymentIn(Schema):
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
        "overpayments are recorded and flagged (`payment.flag`)."
    ),
    tags=["payments"],
)
@idempotent
def post_payment(request: HttpRequest, payload: PaymentIn) -> tuple[int, Schema]:
    require(request, Scope.PAYMENTS_WRITE)
    result = apply_payment(
        payload.transaction_id,
        payload.payment_code,
        payload.amount,
        payload.paid_at,
        payload.source,
    )
    return (201 if result.created else 200), PaymentOut(**result.as_dict())


class AttachmentIn(Schema):
    name: str = Field(max_length=200)
    content_base64: str = Field(description="the PDF, base64-encoded")


class NotificationIn(Schema):
    procedure_number: str = Field(max_length=20)
    unit: str = Field(max_length=20, description="the issuing unit's code")
    kind: str = Field(description="approval, resolution, correction, fine, installment, other")
    subject: str = Field(max_length=200)
    body: str = Field(description="Markdown")
    attachments: list[AttachmentIn]
    response_business_days: int | None = None
    ends_administrative_route: bool | None = None
    details: dict[str, Any] | None = None


class NotificationOut(Schema):
    id: str
    procedure_number: str
    kind: str
    subject: str
    state: str
    deposited_at: datetime
    effective_date: date | None
    deadline_date: date | None
    opened_at: datetime | None
    timeline: list[dict[str, Any]]


def _notification_out(notification: Notification) -> NotificationOut:
    timeline = [
        {"kind": e.kind, "at": e.occurred_at.isoformat(), "hash": e.hash}
        for e in Event.objects.filter(notification=notification).order_by("occurred_at", "pk")
    ]
    return NotificationOut(
        id=str(notification.public_id),
        procedure_number=notification.procedure.number,
        kind=notification.kind,
        subject=notification.subject,
        state=notification.state,
        deposited_at=notification.deposited_at,
        effective_date=notification.effective_date,
        deadline_date=notification.deadline_date,
        opened_at=notification.opened_at,
        timeline=timeline,
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
        422: Problem,
    },
    summary="Deposit one notification",
    description=(
        "The same checks and the same deposit as the officers' form: real PDFs, the art. 24.1 "
        "content of a resolution, the kind's details. Needs `Idempotency-Key`; the deposit "
        "itself is idempotent by it too."
    ),
    tags=["notifications"],
)
@idempotent
def post_notification(request: HttpRequest, payload: NotificationIn) -> tuple[int, Schema]:
    key = require(request, Scope.NOTIFICATIONS_WRITE)
    attachments = []
    for index, item in enumerate(payload.attachments):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise DjangoValidationError(
                {f"attachments.{index}": ["content_base64 is not valid base64."]}
            ) from None
        attachments.append(AttachmentInput(name=item.name, content=content))
    result = deposit_notification(
        NotificationInput(
            procedure_number=payload.procedure_number,
            unit=payload.unit,
            kind=payload.kind,
            subject=payload.subject,
            body=payload.body,
            attachments=attachments,
            ends_administrative_route=payload.ends_administrative_route,
            response_business_days=payload.response_business_days,
            details=payload.details,
            idempotency_key=f"api:{key.client_id}:{request.headers['Idempotency-Key'].strip()}",
        ),
        actor=None,
        client=key.client,
    )
    return (201 if result.created else 200), _notification_out(result.notification)


def _own_notification(key: ApiKey, notification_id: str) -> Notification:
    try:
        public_id = uuid.UUID(notification_id)
    except ValueError:
        raise Http404("No such notification.") from None
    notification = (
        Notification.objects.select_related("procedure", "person", "unit")
        .filter(public_id=public_id, api_client=key.client)  # another system's: 404
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
)
def get_certificate(request: HttpRequest, notification_id: str) -> HttpResponse:
    key = require(request, Scope.NOTIFICATIONS_READ)
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
    return response


@api.get(
    "/notifications/{notification_id}",
    response={200: NotificationOut, 401: Problem, 403: Problem, 404: Problem},
    summary="A notification this system deposited: state, legal dates, timeline",
    tags=["notifications"],
)
def get_notification(request: HttpRequest, notification_id: str) -> NotificationOut:
    key = require(request, Scope.NOTIFICATIONS_READ)
    return _notification_out(_own_notification(key, notification_id))
