"""Identity documents: the types a person can hold, and the rules for each number.

One function, normalize_document(), is the rule: forms, actions and the login use it, so a
number is always stored and looked up in the same canonical form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum
from stdnum.pe import cui


class DocumentType(models.TextChoices):
    DNI = "DNI", _("DNI")
    CE = "CE", _("Carné de Extranjería")
    CPP = "CPP", _("Carné de Permiso Temporal de Permanencia (CPP)")
    PTP = "PTP", _("Permiso Temporal de Permanencia (PTP)")
    PASSPORT = "PAS", _("Pasaporte")
    OTHER = "OTRO", _("Otro documento")


# Types whose issuing country must be recorded (Peruvian documents are issued by Peru).
NEEDS_ISSUING_COUNTRY = {DocumentType.PASSPORT, DocumentType.OTHER}

_SEPARATORS = re.compile(r"[\s.\-_/]+")


@dataclass(frozen=True)
class Document:
    type: str
    number: str
    issuing_country: str  # ISO 3166-1 alpha-2; "PE" for Peruvian documents

    @property
    def username(self) -> str:
        return username_for(self.type, self.number)


def username_for(doc_type: str, number: str) -> str:
    """The buzón username: document type plus number, e.g. "DNI-45678912"."""
    return f"{doc_type}-{number}"


_ASCII_DIGITS = re.compile(r"[0-9]+")


def _digits(raw: str) -> str:
    """Fold compatibility forms (full-width digits, U+FF10 to U+FF19) to ASCII; drop separators.

    Digits of other scripts stay as they are, and the checks below accept only ASCII, so one
    document can never be stored under two spellings.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))


def _is_ascii_digits(value: str) -> bool:
    return _ASCII_DIGITS.fullmatch(value) is not None


def _normalize_dni(raw: str) -> str:
    value = _digits(raw).upper()
    if not _is_ascii_digits(value) and not (len(value) == 9 and _is_ascii_digits(value[:8])):
        raise ValidationError(gettext("El DNI solo puede contener números."), code="dni_digits")
    if len(value) == 9:
        # Eight digits plus the check digit printed on the card (a digit or a letter).
        try:
            cui.validate(value)
        except InvalidChecksum:
            raise ValidationError(
                gettext("El dígito de verificación del DNI no es correcto."), code="dni_checksum"
            ) from None
        except ValueError:
            raise ValidationError(
                gettext("El DNI debe tener 8 dígitos."), code="dni_length"
            ) from None
        return value[:8]
    if len(value) != 8:
        raise ValidationError(gettext("El DNI debe tener 8 dígitos."), code="dni_length")
    return value


def _normalize_nine_digits(raw: str, label: str) -> str:
    value = _digits(raw)
    if not _is_ascii_digits(value):
        raise ValidationError(
            gettext("El número de %(doc)s solo puede contener números.") % {"doc": label},
            code="digits",
        )
    if not 6 <= len(value) <= 9:
        raise ValidationError(
            gettext("El número de %(doc)s debe tener entre 6 y 9 dígitos.") % {"doc": label},
            code="length",
        )
    # Older cards print fewer digits; the registry stores nine, zero-padded.
    return value.zfill(9)


def _normalize_passport(raw: str) -> str:
    value = _digits(raw).upper()
    if not re.fullmatch(r"[A-Z0-9]+", value):
        raise ValidationError(
            gettext("El número de pasaporte solo puede contener letras y números."),
            code="passport_chars",
        )
    if not 5 <= len(value) <= 15:
        raise ValidationError(
            gettext("El número de pasaporte debe tener entre 5 y 15 caracteres."),
            code="passport_length",
        )
    return value


def _normalize_other(raw: str) -> str:
    value = _digits(raw).upper()
    if not re.fullmatch(r"[A-Z0-9]{3,20}", value):
        raise ValidationError(
            gettext("El número de documento debe tener entre 3 y 20 letras o números."),
            code="other_format",
        )
    return value


def normalize_document(doc_type: str, number: str, issuing_country: str = "") -> Document:
    """Validate and canonicalise a document. Raises ValidationError keyed by field name."""
    if doc_type not in DocumentType.values:
        raise ValidationError(
            {"doc_type": gettext("Elija un tipo de documento válido.")}, code="doc_type"
        )
    raw = (number or "").strip()
    if not raw:
        raise ValidationError(
            {"doc_number": gettext("Ingrese el número de documento.")}, code="required"
        )
    try:
        if doc_type == DocumentType.DNI:
            canonical = _normalize_dni(raw)
        elif doc_type == DocumentType.CE:
            canonical = _normalize_nine_digits(raw, gettext("Carné de Extranjería"))
        elif doc_type == DocumentType.CPP:
            canonical = _normalize_nine_digits(raw, gettext("CPP"))
        elif doc_type == DocumentType.PTP:
            canonical = _normalize_nine_digits(raw, gettext("PTP"))
        elif doc_type == DocumentType.PASSPORT:
            canonical = _normalize_passport(raw)
        else:
            canonical = _normalize_other(raw)
    except ValidationError as exc:
        raise ValidationError({"doc_number": exc.messages}) from None

    country = (issuing_country or "").strip().upper()
    if doc_type in NEEDS_ISSUING_COUNTRY:
        if not country:
            raise ValidationError(
                {"doc_country": gettext("Indique el país que emitió el documento.")},
                code="country_required",
            )
    else:
        country = "PE"
    return Document(type=doc_type, number=canonical, issuing_country=country)
