"""Legal state changes of procedures: registration, credential reissue, constancia download."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actions import issue_credentials
from accounts.models import User
from evidence.actions import record
from evidence.models import EventKind
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
from procedures.models import Procedure, ProcedureNumberSequence, Receipt
from procedures.receipts import issue_receipt


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


def _find_or_create_person(clean: CleanPerson) -> tuple[Person, bool]:
    doc = clean.document
    person, created = Person.objects.select_for_update().get_or_create(
        doc_type=doc.type,
        doc_number=doc.number,
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
    if differences:
        raise ValidationError(
            _(
                "Ya existe una persona con %(doc)s y sus datos no coinciden en: %(fields)s. "
                "Verifique el documento antes de registrar el trámite."
            )
            % {"doc": person.document_label, "fields": ", ".join(differences)},
            code="identity_mismatch",
        )
    # Contact details fill gaps only: changing an existing alert address is its own act.
    changed = []
    if clean.email and not person.email:
        person.email = clean.email
        changed.append("email")
    if clean.mobile_phone and not person.mobile_phone:
        person.mobile_phone = clean.mobile_phone
        changed.append("mobile_phone")
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
    return person, False


def _next_number(clean: CleanProcedure) -> str:
    prefix = f"{clean.office.code}{clean.filing_date:%y}"
    sequence, _created = ProcedureNumberSequence.objects.select_for_update().get_or_create(
        prefix=prefix
    )
    while True:
        sequence.last += 1
        number = f"{prefix}{sequence.last:07d}"
        if not Procedure.objects.filter(number=number).exists():
            break
    sequence.save(update_fields=["last"])
    return number


def register_procedure(
    person_data: PersonInput, procedure_data: ProcedureInput, *, actor: User | None
) -> Registration:
    """Register a procedure, creating the person and their credentials the first time.

    Idempotent: registering the same procedure number for the same person again returns the
    first registration and writes nothing. A person's credentials are issued once, ever; later
    procedures get a constancia that says to use the existing ones.
    """
    clean_person = check_person(person_data)
    clean_procedure = check_procedure(procedure_data)
    with transaction.atomic():
        person, person_created = _find_or_create_person(clean_person)
        number = clean_procedure.number
        if number:
            existing = Procedure.objects.filter(number=number).select_related("person").first()
            if existing is not None:
                if (
                    existing.person_id == person.pk
                    and existing.procedure_type_id == clean_procedure.procedure_type.pk
                ):
                    return Registration(
                        procedure=existing,
                        receipt=existing.receipts.order_by("issued_at", "id")[0],
                        created=False,
                        person_created=False,
                        credentials_issued=False,
                    )
                raise ValidationError(
                    {
                        "number": _("El trámite %(number)s ya está registrado con otros datos.")
                        % {"number": number}
                    }
                )
        else:
            number = _next_number(clean_procedure)
        procedure = Procedure.objects.create(
            number=number,
            procedure_type=clean_procedure.procedure_type,
            filing_date=clean_procedure.filing_date,
            office=clean_procedure.office,
            person=person,
            registered_by=actor if actor is not None and actor.pk else None,
        )
        record(
            EventKind.PROCEDURE_REGISTERED,
            actor=actor,
            person=person,
            procedure=procedure,
            data={"number": number, "type": clean_procedure.procedure_type.code},
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
    return Registration(
        procedure=procedure,
        receipt=receipt,
        created=True,
        person_created=person_created,
        credentials_issued=receipt.credentials == Receipt.Credentials.NEW,
    )


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


def record_receipt_download(receipt: Receipt, *, actor: User) -> None:
    with transaction.atomic():
        record(
            EventKind.RECEIPT_DOWNLOADED,
            actor=actor,
            person=receipt.procedure.person,
            procedure=receipt.procedure,
            data={"verification_code": receipt.verification_code},
        )
