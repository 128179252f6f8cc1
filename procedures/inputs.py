"""Validation of registration input, shared by the officers' form, the command and the API.

Every problem is reported at once, keyed by field, in plain Spanish.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from people.contact import normalize_mobile
from people.documents import Document, normalize_document
from procedures.models import PROCEDURE_NUMBER_PATTERN, Office, ProcedureType

OLDEST_AGE_YEARS = 130
FIRST_FILING_YEAR = 2000


@dataclass(frozen=True)
class PersonInput:
    doc_type: str
    doc_number: str
    given_names: str
    first_surname: str
    birth_date: date | None
    nationality: str
    second_surname: str = ""
    doc_country: str = ""
    email: str = ""
    mobile_phone: str = ""


@dataclass(frozen=True)
class ProcedureInput:
    procedure_type: str  # catalogue code, e.g. "CPP"
    office: str  # office code, e.g. "LM"
    filing_date: date | None
    number: str = ""  # empty: the next number of the office's sequence


@dataclass(frozen=True)
class CleanPerson:
    document: Document
    given_names: str
    first_surname: str
    second_surname: str
    birth_date: date
    nationality: str
    email: str
    mobile_phone: str


@dataclass(frozen=True)
class CleanProcedure:
    procedure_type: ProcedureType
    office: Office
    filing_date: date
    number: str


@dataclass
class _Errors:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def absorb(self, exc: ValidationError) -> None:
        for name, messages in exc.message_dict.items():
            for message in messages:
                self.add(name, message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def clean_name(value: str) -> str:
    return " ".join((value or "").split())


def name_key(value: str) -> str:
    """Compare names ignoring case, accents and spacing ("José  PÉREZ" == "jose perez")."""
    decomposed = unicodedata.normalize("NFKD", clean_name(value).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")


def _printable_on_documents(value: str) -> bool:
    """Names must print on the constancia, whose font covers Windows-1252 (all of Spanish,
    Portuguese, French, German...). Other scripts are transliterated, as in a passport's
    machine-readable zone."""
    try:
        value.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _check_name(errors: _Errors, name: str, value: str, *, required: bool) -> str:
    cleaned = clean_name(value)
    if not cleaned:
        if required:
            errors.add(name, _("Este dato es obligatorio."))
        return ""
    if len(cleaned) > 80 or not _NAME_RE.match(cleaned):
        errors.add(name, _("Use solo letras, espacios, apóstrofos o guiones (hasta 80)."))
    elif not _printable_on_documents(cleaned):
        errors.add(
            name,
            _(
                "Escriba el nombre con letras del alfabeto latino, como en la zona de lectura "
                "mecánica del pasaporte (por ejemplo, «Lukasz» en lugar de «Łukasz»)."
            ),
        )
    return cleaned


def check_person(data: PersonInput) -> CleanPerson:
    errors = _Errors()
    document = None
    try:
        document = normalize_document(data.doc_type, data.doc_number, data.doc_country)
    except ValidationError as exc:
        errors.absorb(exc)
    if data.doc_country and data.doc_country.upper() not in dict(countries):
        errors.add("doc_country", _("Elija un país de la lista."))

    given = _check_name(errors, "given_names", data.given_names, required=True)
    first = _check_name(errors, "first_surname", data.first_surname, required=True)
    second = _check_name(errors, "second_surname", data.second_surname, required=False)

    today = timezone.localdate()
    if data.birth_date is None:
        errors.add("birth_date", _("Ingrese la fecha de nacimiento."))
    elif data.birth_date > today:
        errors.add("birth_date", _("La fecha de nacimiento no puede ser posterior a hoy."))
    elif today.year - data.birth_date.year > OLDEST_AGE_YEARS:
        errors.add("birth_date", _("Revise el año de nacimiento."))

    nationality = (data.nationality or "").strip().upper()
    if nationality not in dict(countries):
        errors.add("nationality", _("Elija la nacionalidad de la lista."))

    email = (data.email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.add("email", _("El correo electrónico no es válido."))
    phone = ""
    try:
        phone = normalize_mobile(data.mobile_phone)
    except ValidationError as exc:
        errors.add("mobile_phone", exc.messages[0])

    errors.raise_if_any()
    assert document is not None
    assert data.birth_date is not None
    return CleanPerson(document, given, first, second, data.birth_date, nationality, email, phone)


def check_procedure(data: ProcedureInput) -> CleanProcedure:
    errors = _Errors()
    ptype = ProcedureType.objects.filter(code=data.procedure_type, active=True).first()
    if ptype is None:
        errors.add("procedure_type", _("Elija un tipo de trámite del catálogo."))
    office = Office.objects.filter(code=(data.office or "").upper(), active=True).first()
    if office is None:
        errors.add("office", _("Elija una sede de la lista."))
    today = timezone.localdate()
    if data.filing_date is None:
        errors.add("filing_date", _("Ingrese la fecha de presentación."))
    elif data.filing_date > today:
        errors.add("filing_date", _("La fecha de presentación no puede ser posterior a hoy."))
    elif data.filing_date.year < FIRST_FILING_YEAR:
        errors.add("filing_date", _("Revise el año de la fecha de presentación."))
    number = re.sub(r"\s+", "", data.number or "").upper()
    if number and not re.match(PROCEDURE_NUMBER_PATTERN, number):
        errors.add(
            "number",
            _("El número de trámite tiene 2 letras y 9 dígitos, por ejemplo LM260000123."),
        )
    errors.raise_if_any()
    assert ptype is not None
    assert office is not None
    assert data.filing_date is not None
    return CleanProcedure(ptype, office, data.filing_date, number)
