"""Legal state changes of procedures: registration, credential reissue, constancia download."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.actions import issue_credentials
from accounts.models import User
from api.probing import MismatchLimit
from evidence.actions import record
from evidence.models import EventKind
from people.actions import offer_email_verification
from people.models import Person
from procedures.inputs import (
    CleanPerson,
    CleanProcedure,
    PersonInput,
    ProcedureInput,
    check_person,
    check_procedure,
    name_key,
)
from procedures.models import TEST_NUMBERS_FROM, Procedure, ProcedureNumberSequence, Receipt
from procedures.receipts import credentials_copy_allowed, decrypt, issue_receipt

if TYPE_CHECKING:
    from api.models import ApiClient


@dataclass(frozen=True)
class Registration:
    procedure: Procedure
    receipt: Receipt
    created: bool  # False: this procedure was already registered, nothing was written
    person_created: bool
    credentials_issued: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "procedure_number": self.procedure.number,
            "created": self.created,
            "person_created": self.person_created,
            "credentials_issued": self.credentials_issued,
            "username": self.procedure.person.username,
            "receipt_verification_code": self.receipt.verification_code,
            "receipt_sha256": self.receipt.sha256,
        }


def _identity_mismatches(person: Person, clean: CleanPerson) -> list[str]:
    differences = []
    if name_key(person.given_names) != name_key(clean.given_names):
        differences.append(_("nombres"))
    if name_key(person.first_surname) != name_key(clean.first_surname):
        differences.append(_("primer apellido"))
    if name_key(person.second_surname) != name_key(clean.second_surname):
        differences.append(_("segundo apellido"))
    if person.birth_date != clean.birth_date:
        differences.append(_("fecha de nacimiento"))
    if str(person.nationality) != clean.nationality:
        differences.append(_("nacionalidad"))
    return differences


def _find_or_create_person(
    clean: CleanPerson, *, test: bool = False, show_mismatches: bool = False
) -> tuple[Person, bool]:
    doc = clean.document
    person, created = Person.objects.select_for_update().get_or_create(
        doc_type=doc.type,
        doc_number=doc.number,
        is_test=test,  # a test key finds and makes test mailboxes only, never a real person
        defaults={
            "doc_country": doc.issuing_country,
            "given_names": clean.given_names,
            "first_surname": clean.first_surname,
            "second_surname": clean.second_surname,
            "birth_date": clean.birth_date,
            "nationality": clean.nationality,
            "email": clean.email,
            "mobile_phone": clean.mobile_phone,
        },
    )
    if created:
        return person, True
    differences = _identity_mismatches(person, clean)
    if differences and show_mismatches:
        raise ValidationError(
            _(
                "Ya existe una persona con %(doc)s y sus datos no coinciden en: %(fields)s. "
                "Verifique el documento antes de registrar el trámite."
            )
            % {"doc": person.document_label, "fields": ", ".join(differences)},
            code="identity_mismatch",
        )
    if differences:
        # Naming the fields that differ would let a caller guess a person's birth date or
        # names one field at a time: only the officers' desk, with the person before it,
        # asks for the list.
        raise ValidationError(
            _(
                "Ya existe una persona con %(doc)s y sus datos no coinciden con los registrados. "
                "Verifique el documento antes de registrar el trámite."
            )
            % {"doc": person.document_label},
            code="identity_mismatch",
        )
    return person, False


def _fill_missing_contact(person: Person, clean: CleanPerson) -> list[str]:
    """Contact details fill gaps only: changing an existing alert address is its own act."""
    added = []
    if clean.email and not person.email:
        person.email = clean.email
        added.append("email")
    if clean.mobile_phone and not person.mobile_phone:
        person.mobile_phone = clean.mobile_phone
        added.append("mobile_phone")
    if added:
        person.save(update_fields=[*added, "updated_at"])
    return added


def _next_number(clean: CleanProcedure, *, test: bool = False) -> str:
    """The office's next number for the filing year. A test procedure takes it from a
    sequence of its own, in a range of its own (TEST_NUMBERS_FROM), so test registrations
    neither leave gaps in the real numbering nor say how many real procedures there are."""
    prefix = f"{clean.office.code}{clean.filing_date:%y}"
    sequence, _created = ProcedureNumberSequence.objects.select_for_update().get_or_create(
        prefix=prefix, is_test=test
    )
    start, end = (TEST_NUMBERS_FROM, 10_000_000) if test else (0, TEST_NUMBERS_FROM)
    while True:
        sequence.last += 1
        if start + sequence.last >= end:
            # Seven digits: a range ran out for this office and year (9,000,000 real numbers,
            # 1,000,000 test ones). Refused by name, not as a clash with another procedure.
            raise ValidationError(
                _(
                    "Se agotó la numeración de %(kind)s de la oficina %(office)s para %(year)s. "
                    "Comuníquese con el administrador del sistema."
                )
                % {
                    "kind": _("trámites de prueba") if test else _("trámites"),
                    "office": clean.office.code,
                    "year": clean.filing_date.year,
                },
                code="numbers_exhausted",
            )
        number = f"{prefix}{start + sequence.last:07d}"
        if not Procedure.objects.filter(number=number).exists():
            break
    sequence.save(update_fields=["last"])
    return number


def _existing(procedure: Procedure) -> Registration:
    return Registration(
        procedure=procedure,
        receipt=procedure.receipts.order_by("issued_at", "id")[0],
        created=False,
        person_created=False,
        credentials_issued=False,
    )


def _already_registered(number: str) -> ValidationError:
    return ValidationError(
        {
            "number": _("El trámite %(number)s ya está registrado con otros datos.")
            % {"number": number}
        }
    )


def _mismatch_limit(
    client: ApiClient | None, clean: CleanPerson, *, key_prefix: str
) -> MismatchLimit | None:
    """For an API client: the limit on identity mismatches (api/probing.py), its place
    already taken if Buzón holds the document (raises while the client is locked out of it).
    A new document is never held back."""
    if client is None:
        return None
    doc = clean.document
    limit = MismatchLimit(
        client, key_prefix=key_prefix, document=f"{doc.type}:{doc.number}:{int(client.is_test)}"
    )
    held = Person.objects.filter(doc_type=doc.type, doc_number=doc.number, is_test=client.is_test)
    if held.exists():
        limit.reserve()
    return limit


@contextmanager
def _counting_mismatches(limit: MismatchLimit | None) -> Iterator[None]:
    """Around the registration's transaction (so a count is never rolled back with it)."""
    mismatch = False
    try:
        yield
    except ValidationError as exc:
        mismatch = getattr(exc, "code", None) == "identity_mismatch"
        raise
    finally:
        if limit is not None:
            limit.settle(mismatch=mismatch)


@sensitive_variables("password")
def register_procedure(
    person_data: PersonInput,
    procedure_data: ProcedureInput,
    *,
    actor: User | None,
    idempotency_key: str | None = None,
    client: ApiClient | None = None,
    key_prefix: str = "",
    show_mismatches: bool = False,
) -> Registration:
    """Register a procedure, creating the person and their credentials the first time.

    Idempotent: the same procedure number for the same person, or the same idempotency key
    (a form's submission id), returns the first registration and writes nothing. A person's
    credentials are issued once, ever; later procedures get a constancia that says to use them.
    `client`: the agency system registering it through the API (named in the evidence); a
    test client registers test mailboxes only, apart from any real person with the same
    document. A document already registered with other identity data is refused; only a
    caller that asks (`show_mismatches`: the officers' desk and the operators' command, never
    an API client) is told which fields differ. A client that sends too many mismatches is
    locked out of documents Buzón holds for a while (api/probing.py: IdentityAttemptsExceededError,
    IdentityCheckUnavailableError); `key_prefix`, of the key it used, is named in the log.
    """
    clean_person = check_person(person_data)
    clean_procedure = check_procedure(procedure_data)
    limit = _mismatch_limit(client, clean_person, key_prefix=key_prefix)
    with _counting_mismatches(limit), transaction.atomic():
        if idempotency_key:
            earlier = Procedure.objects.filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _existing(earlier)
        test = bool(client and client.is_test)
        if test and clean_procedure.number:
            # Whether a number is free would tell a test key which real procedures exist.
            raise ValidationError(
                {"number": _("Con una clave de prueba no se elige el número: se asigna uno.")}
            )
        person, person_created = _find_or_create_person(
            clean_person, test=test, show_mismatches=show_mismatches and client is None
        )
        number = clean_procedure.number
        if number:
            existing = Procedure.objects.filter(number=number).first()
            if existing is not None:
                same = (
                    existing.person_id == person.pk
                    and existing.procedure_type_id == clean_procedure.procedure_type.pk
                )
                if same:
                    return _existing(existing)
                raise _already_registered(number)
        else:
            number = _next_number(clean_procedure, test=test)
        contact_added = [] if person_created else _fill_missing_contact(person, clean_person)
        try:
            with transaction.atomic():
                procedure = Procedure.objects.create(
                    number=number,
                    procedure_type=clean_procedure.procedure_type,
                    filing_date=clean_procedure.filing_date,
                    office=clean_procedure.office,
                    person=person,
                    registered_by=actor if actor is not None and actor.pk else None,
                    idempotency_key=idempotency_key or None,
                )
        except IntegrityError:
            # Someone registered the same number (or key) a moment ago, in another request.
            raise _already_registered(number) from None
        record(
            EventKind.PROCEDURE_REGISTERED,
            actor=actor,
            person=person,
            procedure=procedure,
            data={
                "number": number,
                "type": clean_procedure.procedure_type.code,
                "contact_added": contact_added,
            }
            | ({"via": client.name} if client else {})
            | ({"test": True} if person.is_test else {}),
        )
        password = None
        if person.user_id is None:
            password = issue_credentials(person, actor=actor)
        receipt = issue_receipt(
            procedure,
            password=password,
            credentials=Receipt.Credentials.NEW if password else Receipt.Credentials.EXISTING,
            actor=actor,
        )
        del password
        if (
            person.email
            and not person.email_verified
            and (person_created or contact_added)
            and not person.is_test
        ):
            # A contact typed at the desk is not verified: send the person a link to confirm
            # it (they sign in with the constancia's credentials), so alerts can start. Not
            # for a test mailbox: nobody signs in to one, and its address is whatever an
            # agency system's tests typed, perhaps a real person's.
            transaction.on_commit(lambda: offer_email_verification(person))
    return Registration(
        procedure=procedure,
        receipt=receipt,
        created=True,
        person_created=person_created,
        credentials_issued=receipt.credentials == Receipt.Credentials.NEW,
    )


@sensitive_variables("password")
def reissue_credentials(procedure: Procedure, *, actor: User) -> Receipt:
    """An officer replaces a person's credentials; a new constancia carries them."""
    if not actor.has_perm("accounts.reissue_credentials"):
        raise PermissionError("actor may not reissue credentials")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=procedure.person_id)
        procedure.person = person
        had_credentials = person.user_id is not None
        password = issue_credentials(person, actor=actor, reissue=had_credentials)
        receipt = issue_receipt(
            procedure,
            password=password,
            credentials=Receipt.Credentials.REISSUED
            if had_credentials
            else Receipt.Credentials.NEW,
            actor=actor,
        )
        del password
    return receipt


@dataclass(frozen=True)
class ReceiptDownload:
    pdf: bytes
    with_credentials: bool


def download_receipt(
    receipt: Receipt, *, actor: User | None, client: ApiClient | None = None
) -> ReceiptDownload:
    """Hand out a constancia and record who took it.

    The credentials copy goes only to whoever issued it, within the pickup window; everyone
    else, and everyone after the window, gets the record copy without the password.
    """
    with transaction.atomic():
        receipt = (
            Receipt.objects.select_for_update()
            .select_related("procedure__person")
            .get(pk=receipt.pk)
        )
        _purge_if_expired(receipt)
        with_credentials = credentials_copy_allowed(receipt, actor)
        token = receipt.credentials_pdf if with_credentials else receipt.record_pdf
        assert token is not None
        pdf = decrypt(token)  # before the record: one that cannot be read was not handed out
        record(
            EventKind.RECEIPT_DOWNLOADED,
            actor=actor,
            person=receipt.procedure.person,
            procedure=receipt.procedure,
            data={
                "verification_code": receipt.verification_code,
                "with_credentials": with_credentials,
            }
            | ({"via": client.name} if client else {}),
        )
    return ReceiptDownload(pdf=pdf, with_credentials=with_credentials)


def _purge_if_expired(receipt: Receipt) -> bool:
    if receipt.credentials_pdf is None or receipt.credentials_until is None:
        return False
    if timezone.now() < receipt.credentials_until:
        return False
    receipt.credentials_pdf = None
    receipt.save(update_fields=["credentials_pdf"])
    record(
        EventKind.RECEIPT_CREDENTIALS_PURGED,
        actor=None,
        person=receipt.procedure.person,
        procedure=receipt.procedure,
        data={"verification_code": receipt.verification_code},
    )
    return True


def purge_expired_credentials() -> int:
    """Delete every credentials copy past its pickup window. Safe to run at any time."""
    purged = 0
    due = Receipt.objects.filter(
        credentials_pdf__isnull=False, credentials_until__lte=timezone.now()
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            receipt = Receipt.objects.select_for_update().select_related("procedure__person")
            purged += _purge_if_expired(receipt.get(pk=pk))
    return purged
