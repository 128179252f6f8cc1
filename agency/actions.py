"""Getting in without credentials: the Agencia Digital identity check and credential requests.

Each function that changes legal state owns its transaction and writes its evidence event
inside it. Views, the SMTP receiver and the officers' queue call these and hold no rules.
"""

from __future__ import annotations

import contextlib
import email.policy
import hashlib
import io
import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.parser import BytesHeaderParser

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actions import send_activation_link
from accounts.models import User
from agency.models import CredentialRequest, IdentityCheck, InboundMessage
from agency.reasons import NO_VALID_SENDER
from evidence.actions import record
from evidence.models import EventKind
from legaltime.calendar import add_business_days, lima_date
from people.documents import DocumentType, normalize_document
from people.models import Person
from procedures.models import Procedure
from requests_mail.parser import NO_SENDER, NOT_A_REQUEST, ParsedRequest, parse

log = logging.getLogger(__name__)

# --- Agencia Digital --------------------------------------------------------------------------


def fold(text: str) -> str:
    """Names compared as a person types them: no accents, any case, hyphens as spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().replace("-", " ").split())


def procedure_key(number: str) -> str:
    """A procedure number as printed (LM260000123), whatever spaces or dashes were typed."""
    return "".join(ch for ch in (number or "").upper() if ch.isalnum())


@dataclass(frozen=True)
class IdentityClaim:
    doc_type: str
    doc_number: str
    given_names: str
    first_surname: str
    second_surname: str
    birth_date: date
    nationality: str
    procedure_number: str
    filing_date: date


def _matches(person: Person, claim: IdentityClaim) -> Procedure | None:
    second = fold(claim.second_surname)
    if not (
        fold(person.given_names) == fold(claim.given_names)
        and fold(person.first_surname) == fold(claim.first_surname)
        and (not second or second == fold(person.second_surname))
        and person.birth_date == claim.birth_date
        and str(person.nationality) == (claim.nationality or "").upper()
    ):
        return None
    return Procedure.objects.filter(
        person=person,
        number=procedure_key(claim.procedure_number),
        filing_date=claim.filing_date,
    ).first()


def verify_identity(
    claim: IdentityClaim, *, ip_address: str | None, throttled: bool = False
) -> Person | None:
    """The Agencia Digital's "Verificar": the person whose document, names, birth date,
    nationality, procedure number and filing date all match, or None.

    Every attempt is audited (IdentityCheck). A match is also evidence
    (`identity_verified`), in the same transaction. A throttled attempt is audited and
    checked against nothing.
    """
    try:
        document = normalize_document(claim.doc_type, claim.doc_number, "XX")
        person = Person.objects.filter(
            doc_type=document.type, doc_number=document.number, is_test=False
        ).first()
    except ValidationError:
        person = None
    procedure = None
    if person is not None and not throttled:
        procedure = _matches(person, claim)
    if throttled:
        outcome = IdentityCheck.Outcome.THROTTLED
    elif procedure is not None:
        outcome = IdentityCheck.Outcome.MATCHED
    else:
        outcome = IdentityCheck.Outcome.MISMATCH
    with transaction.atomic():
        IdentityCheck.objects.create(
            ip_address=ip_address,
            doc_type=claim.doc_type[:4],
            doc_number=(claim.doc_number or "")[:30],
            procedure_number=(claim.procedure_number or "")[:30],
            outcome=outcome,
            person=person,
        )
        if procedure is None:
            return None
        assert person is not None
        record(
            EventKind.IDENTITY_VERIFIED,
            actor=person.user,
            person=person,
            procedure=procedure,
            data={"ip": ip_address, "via": "agencia_digital"},
        )
    return person


# --- Credential requests: intake ----------------------------------------------------------

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class CheckedDocument:
    content: bytes
    name: str
    content_type: str
    sha256: str


def too_large(size: int) -> ValidationError:
    limit = settings.BUZON_REQUEST_DOCUMENT_MAX_BYTES
    return ValidationError(
        _("El archivo pesa %(size)s MB; el máximo es %(max)s MB.")
        % {"size": f"{size / 1_048_576:.1f}", "max": f"{limit / 1_048_576:.0f}"},
        code="too_large",
    )


def check_identity_document(content: bytes, name: str) -> CheckedDocument:
    """A photo (JPEG, PNG) or PDF of an identity document, checked by its content and size."""
    label = (name or "documento").replace("\\", "/").rsplit("/", 1)[-1][-120:]
    if len(content) > settings.BUZON_REQUEST_DOCUMENT_MAX_BYTES:
        raise too_large(len(content))
    if content.startswith(b"%PDF-"):
        from mailboxes.pdfs import check_pdf

        checked = check_pdf(content, label)
        return CheckedDocument(content, checked.original_name, "application/pdf", checked.sha256)
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except Exception:  # Pillow raises many kinds for what is not an image
        kind, width, height = None, 0, 0
    if kind not in IMAGE_TYPES or width * height > settings.BUZON_REQUEST_IMAGE_MAX_PIXELS:
        raise ValidationError(
            _("Adjunte una foto (JPG o PNG) o un PDF de su documento de identidad."),
            code="not_document",
        )
    return CheckedDocument(content, label, IMAGE_TYPES[kind], hashlib.sha256(content).hexdigest())


@dataclass(frozen=True)
class RequestInput:
    doc_type: str
    doc_number: str
    given_names: str
    surnames: str
    birth_date: date | None
    nationality: str
    contact_email: str
    phone: str = ""
    procedure_number: str = ""
    message: str = ""


def _numbered(case: CredentialRequest) -> None:
    """Give a new case its number, SC-<year>-<id>, from its primary key."""
    case.number = f"SC-{timezone.localtime(case.received_at):%Y}-{case.pk:06d}"
    case.save(update_fields=["number"])


def submit_request(
    data: RequestInput, document: CheckedDocument | None, *, ip_address: str | None
) -> CredentialRequest:
    """The web form at /agencia/solicitud/: a case with its number at once, acknowledged by
    email after commit. The form has checked the fields; this stores them."""
    validate_email(data.contact_email)
    now = timezone.now()
    case = CredentialRequest(
        public_id=uuid.uuid4(),
        number=f"new-{uuid.uuid4().hex[:16]}",
        channel=CredentialRequest.Channel.WEB,
        status=CredentialRequest.Status.RECEIVED,
        received_at=now,
        doc_type=data.doc_type,
        doc_number=canonical_number(data.doc_type, data.doc_number),
        given_names=data.given_names,
        surnames=data.surnames,
        birth_date=data.birth_date,
        nationality=data.nationality,
        procedure_number=procedure_key(data.procedure_number),
        contact_email=data.contact_email.lower(),
        phone=data.phone,
        message=data.message,
        ip_address=ip_address,
    )
    stored = ""
    if document is not None:
        case.document_name = document.name
        case.document_type = document.content_type
        case.document_sha256 = document.sha256
        stored = default_storage.save(
            f"solicitudes/{now:%Y/%m}/{case.public_id}-documento", ContentFile(document.content)
        )
        case.document_file.name = stored
    try:
        with transaction.atomic():
            case.save()
            _numbered(case)
            record(
                EventKind.CREDENTIAL_REQUEST_RECEIVED,
                actor=None,
                data={
                    "case": case.number,
                    "channel": case.channel,
                    "document_sha256": case.document_sha256,
                    "ip": ip_address,
                },
            )
            transaction.on_commit(lambda: _queue_mail(case.pk, "ack"), robust=True)
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    return case


@dataclass(frozen=True)
class Ingested:
    case: CredentialRequest
    merged: bool  # a copy of a message already in an open case


def ingest_email(raw: bytes, *, mail_from: str = "", peer: str = "") -> Ingested:
    """One message from the information mailbox: a new case, or a copy merged into the open
    case of the same message. The raw bytes are stored first; if anything after that fails,
    the caller answers the SMTP client with a temporary error so the message is sent again.
    Never refuses a message for its content: what cannot be read becomes a case for review.
    """
    now = timezone.now()
    sha = hashlib.sha256(raw).hexdigest()
    path = default_storage.save(f"correos/{now:%Y/%m}/{sha}.eml", ContentFile(raw))
    filed = None
    try:
        parsed = parse(raw)
        for _attempt in range(3):
            try:
                filed = _ingest(parsed, raw, path, sha, now, mail_from=mail_from, peer=peer)
                break
            except IntegrityError:
                # A copy of the same message opened its case at the same moment: merge into it.
                continue
    finally:
        if filed is None:  # nothing refers to the file: remove it, the sender will retry
            default_storage.delete(path)
    if filed is None:
        raise RuntimeError("could not file the message after three attempts")
    return filed


def acknowledge(parsed: ParsedRequest, raw: bytes) -> bool:
    """Acknowledge every message except one recognised as something else (spam, a reply to
    another matter) or sent by a machine (an auto-reply, a mailing list): the sender is not
    authenticated, answering those would make Buzón write to any address a stranger puts in
    From, and answering an auto-reply could start a loop. They are filed all the same."""
    return NOT_A_REQUEST not in parsed.reasons and not _machine_sent(raw)


def _machine_sent(raw: bytes) -> bool:
    """RFC 3834: Auto-Submitted other than "no"; also bulk or list precedence."""
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:65536])
        auto = str(headers.get("Auto-Submitted", "no")).strip().lower()
        precedence = str(headers.get("Precedence", "")).strip().lower()
    except Exception:  # unreadable headers: the parser has flagged the message already
        return False
    return auto not in ("", "no") or precedence in ("bulk", "junk", "list", "auto_reply")


def _without_nul(value: object) -> object:
    """`value` with NUL removed from every string in it, nested lists and dicts included.
    PostgreSQL refuses NUL in text and in jsonb ("\\u0000"), and a refused insert would answer
    451 to every retry of the message: it would never be filed. The parser cleans what it
    hands over; this is the second line of defence, for whatever it misses."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _case_fields(parsed: ParsedRequest, raw: bytes) -> dict[str, object]:
    fields = _parsed_fields(parsed, raw)
    return {name: _without_nul(value) for name, value in fields.items()}


def _parsed_fields(parsed: ParsedRequest, raw: bytes) -> dict[str, object]:
    sender = parsed.sender
    try:
        validate_email(sender)
    except ValidationError:
        sender = ""
    reasons = list(parsed.reasons)
    if not sender and NO_SENDER not in reasons:
        reasons.append(NO_VALID_SENDER)
    return {
        "status": CredentialRequest.Status.REVIEW if reasons else CredentialRequest.Status.RECEIVED,
        "review_reasons": reasons,
        "doc_type": parsed.document_type if parsed.document_type in DocumentType.values else "",
        "doc_number": (parsed.document_number or parsed.document_number_raw)[:30],
        "given_names": parsed.given_names[:120],
        "surnames": parsed.surnames[:160],
        "birth_date": parsed.birth_date,
        "nationality": parsed.nationality[:80],
        "contact_email": sender[:254],
        "phone": parsed.phone[:30],
        "message": parsed.text[:20_000],
        "message_id": parsed.message_id[:998],
        "fingerprint": parsed.fingerprint,
        "attachments": [a._asdict() for a in parsed.attachments],
        "ack_wanted": acknowledge(parsed, raw),
    }


def _ingest(
    parsed: ParsedRequest,
    raw: bytes,
    path: str,
    sha: str,
    now: datetime,
    *,
    mail_from: str,
    peer: str,
) -> Ingested:
    with transaction.atomic():
        case = (
            CredentialRequest.objects.select_for_update()
            .filter(fingerprint=parsed.fingerprint, status__in=CredentialRequest.OPEN)
            .first()
        )
        merged = case is not None
        if case is None:
            case = CredentialRequest(
                public_id=uuid.uuid4(),
                number=f"new-{uuid.uuid4().hex[:16]}",
                channel=CredentialRequest.Channel.EMAIL,
                received_at=now,
                **_case_fields(parsed, raw),
            )
            with transaction.atomic():  # a savepoint: the caller retries on a conflict
                case.save()
            _numbered(case)
            record(
                EventKind.CREDENTIAL_REQUEST_RECEIVED,
                actor=None,
                data={"case": case.number, "channel": case.channel, "sha256": sha},
            )
            if case.ack_wanted:
                transaction.on_commit(lambda: _queue_mail(case.pk, "ack"), robust=True)
        else:
            record(
                EventKind.CREDENTIAL_REQUEST_MERGED,
                actor=None,
                person=case.person,
                data={"case": case.number, "sha256": sha},
            )
        message = InboundMessage(
            received_at=now,
            fingerprint=parsed.fingerprint,
            sha256=sha,
            size=len(raw),
            mail_from=mail_from.replace("\x00", "")[:998],
            peer=peer[:100],
            request=case,
        )
        message.raw.name = path
        message.save()
    return Ingested(case, merged)


# --- Credential requests: the officers' queue -------------------------------------------------


def answer_due(case: CredentialRequest) -> date:
    """The day the agency aims to answer by: BUZON_REQUEST_ANSWER_BUSINESS_DAYS business days
    after the day it was received (Lima time)."""
    return add_business_days(
        lima_date(case.received_at), settings.BUZON_REQUEST_ANSWER_BUSINESS_DAYS
    )


def answer_due_at(case: CredentialRequest) -> datetime:
    due = answer_due(case)
    return datetime.combine(due, time(23, 59, 59), tzinfo=timezone.get_current_timezone())


def canonical_number(doc_type: str, number: str) -> str:
    """A document number as it is stored for people (zero-padded, no separators) when it is
    valid for its type; as typed otherwise, for the officer to read."""
    number = " ".join((number or "").split())
    if doc_type:
        with contextlib.suppress(ValidationError):
            return normalize_document(doc_type, number, "XX").number
    return number.upper()[:30]


def candidates(case: CredentialRequest, limit: int = 5) -> list[Person]:
    """People the request may be about, in a fixed order: the same document first; then, for
    a number with at least 6 digits, the same digits at the end (a mistyped type or missing
    zeros); then the same birth date and first given name. The officer decides."""
    found: list[Person] = []
    number = case.doc_number.strip()
    if number:
        query = Person.objects.filter(doc_number=number, is_test=False)
        if case.doc_type:
            query = query.filter(doc_type=case.doc_type)
        found.extend(query.order_by("pk")[:limit])
        digits = "".join(ch for ch in number if ch.isdigit()).lstrip("0")
        if not found and len(digits) >= 6:
            found.extend(
                Person.objects.filter(doc_number__endswith=digits, is_test=False).order_by("pk")[
                    :limit
                ]
            )
    if len(found) < limit and case.birth_date and case.given_names:
        first_given = fold(case.given_names).split(" ")[0]
        same_day = (
            Person.objects.filter(birth_date=case.birth_date, is_test=False)
            .exclude(pk__in=[p.pk for p in found])
            .order_by("pk")
        )
        for person in same_day[:500]:
            if fold(person.given_names).split(" ")[0] == first_given:
                found.append(person)
                if len(found) >= limit:
                    break
    return found[:limit]


def _open_case(case_id: int) -> CredentialRequest:
    case = CredentialRequest.objects.select_for_update().get(pk=case_id)
    if not case.is_open:
        raise ValidationError(_("Esta solicitud ya fue resuelta."), code="decided")
    return case


def link_allowed(case: CredentialRequest, person: Person) -> bool:
    """An activation link goes only to the email on the person's file (never to the address
    the requester typed, which anyone can choose), and only when the request names the
    person's document and birth date. Otherwise: a new constancia at a counter."""
    return bool(
        person.email
        and person.user is not None
        and person.user.is_active
        and same_document(case, person)
        and case.birth_date == person.birth_date
    )


def same_document(case: CredentialRequest, person: Person) -> bool:
    if case.doc_type and case.doc_type != person.doc_type:
        return False
    return bool(case.doc_number) and case.doc_number.lstrip("0") == person.doc_number.lstrip("0")


def approve_request(
    case: CredentialRequest, *, person: Person, delivery: str, actor: User
) -> CredentialRequest:
    """Approve: an activation link to the email on the person's file, or a new constancia at
    a counter (a supervisor reissues it there, from the procedure's page)."""
    if not actor.has_perm("agency.handle_credentialrequest"):
        raise PermissionError("actor may not handle credential requests")
    if delivery not in CredentialRequest.Delivery.values:
        raise ValidationError(_("Elija cómo se entregan las credenciales."), code="delivery")
    with transaction.atomic():
        case = _open_case(case.pk)
        person = (
            Person.objects.select_for_update(of=("self",)).select_related("user").get(pk=person.pk)
        )
        link = delivery == CredentialRequest.Delivery.LINK
        if link and not link_allowed(case, person):
            raise ValidationError(
                _(
                    "El enlace solo puede ir al correo del expediente, y solo si la solicitud "
                    "indica el documento y la fecha de nacimiento de la persona. Elija la "
                    "constancia en una sede."
                ),
                code="link_not_allowed",
            )
        case.status = CredentialRequest.Status.APPROVED
        case.person = person
        case.decided_at = timezone.now()
        case.decided_by = actor
        case.delivery = delivery
        case.delivered_to = person.email if link else ""
        case.save()
        record(
            EventKind.CREDENTIAL_REQUEST_APPROVED,
            actor=actor,
            person=person,
            data={"case": case.number, "delivery": delivery, "to": case.delivered_to},
        )
        if link:
            # Sent inside the transaction: if the mail server refuses it, nothing is approved
            # and the officer sees the error and can try again.
            send_activation_link(person)
        else:
            transaction.on_commit(lambda: _queue_mail(case.pk, "counter"), robust=True)
    return case


def reject_request(case: CredentialRequest, *, reason: str, actor: User) -> CredentialRequest:
    """Reject, with a reason the requester receives by email."""
    if not actor.has_perm("agency.handle_credentialrequest"):
        raise PermissionError("actor may not handle credential requests")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError(
            _("Escriba el motivo que recibirá la persona (al menos 10 caracteres)."),
            code="reason",
        )
    with transaction.atomic():
        case = _open_case(case.pk)
        case.status = CredentialRequest.Status.REJECTED
        case.decided_at = timezone.now()
        case.decided_by = actor
        case.reason = reason[:2000]
        case.save()
        record(
            EventKind.CREDENTIAL_REQUEST_REJECTED,
            actor=actor,
            person=case.person,
            data={"case": case.number, "reason": case.reason},
        )
        transaction.on_commit(lambda: _queue_mail(case.pk, "rejected"), robust=True)
    return case


# --- Mail to the requester ----------------------------------------------------------------


def _queue_mail(case_id: int, kind: str) -> None:
    from agency.tasks import send_request_mail

    try:
        send_request_mail.enqueue(case_id, kind)
    except Exception:
        # The case is stored; retry_acknowledgements() sends a missed acknowledgement later.
        log.exception("could not queue the %s mail of case %s", kind, case_id)


def retry_acknowledgements(older_than: timedelta = timedelta(minutes=5)) -> int:
    """Send the acknowledgements that did not go out (run by the clock every hour), for a
    week; after that an officer answers the case."""
    now = timezone.now()
    pending = CredentialRequest.objects.filter(
        ack_wanted=True,
        ack_sent_at__isnull=True,
        received_at__lt=now - older_than,
        received_at__gt=now - timedelta(days=7),
    ).exclude(contact_email="")
    count = 0
    for case_id in pending.values_list("pk", flat=True)[:500]:
        _queue_mail(case_id, "ack")
        count += 1
    return count
