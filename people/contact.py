"""Contact details for alerts: a mobile phone in E.164 (phonenumbers) and an email."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

DEFAULT_REGION = "PE"
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalize_mobile(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164, or raise a ValidationError in plain Spanish.

    Numbers without a country code are read as Peruvian; foreign residents may give their own
    country's number with its "+" prefix.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    if not re.fullmatch(r"\+?[\d\s().\-]+", raw):
        raise ValidationError(
            gettext("Escriba el celular solo con números, por ejemplo 987 654 321."),
            code="phone_parse",
        )
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            gettext("El número de celular no es válido. Revise los dígitos y el código de país."),
            code="phone_invalid",
        )
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(
            gettext("Ingrese un número de celular, no un teléfono fijo."), code="phone_not_mobile"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
