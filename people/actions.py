"""Changing a person's alert contacts: verified by a link (email) or a code (SMS) first.

An unverified address never receives alerts, so a typo or someone else's address cannot
silently take a person's alerts. Each confirmation is evidence.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.sms import get_backend
from evidence.actions import record
from evidence.models import EventKind
from people.contact import normalize_mobile
from people.models import ContactVerification, Person

EMAIL_LINK_MINUTES = 30
SMS_CODE_MINUTES = 10
MAX_CODE_ATTEMPTS = 5
# At most this many links or codes per person per hour: no mail-bombing or SMS toll fraud
# through someone's session, and no way around MAX_CODE_ATTEMPTS by asking for new codes.
MAX_SENDS_PER_HOUR = 5

log = logging.getLogger(__name__)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_rate(person: Person) -> None:
    recent = person.verifications.filter(created_at__gte=timezone.now() - timedelta(hours=1))
    if recent.count() >= MAX_SENDS_PER_HOUR:
        raise ValidationError(
            _("Pidió demasiados códigos o enlaces. Inténtelo de nuevo dentro de una hora.")
        )


def _supersede(person: Person, channel: str) -> None:
    """Older pending links or codes for the channel stop working (they are kept, to count)."""
    person.verifications.filter(channel=channel, confirmed_at__isnull=True).update(
        expires_at=timezone.now()
    )


def _send_failed(verification: ContactVerification, what: str) -> ValidationError:
    verification.delete()
    log.exception("could not send a %s verification to person %s", what, verification.person_id)
    return ValidationError(
        _("No pudimos enviar el mensaje en este momento. Inténtelo de nuevo en unos minutos.")
    )


def start_email_change(person: Person, email: str) -> ContactVerification:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("El correo electrónico no es válido.")]}) from None
    _check_rate(person)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _supersede(person, "email")
        verification = ContactVerification.objects.create(
            person=person,
            channel="email",
            value=email,
            secret_hash=_hash(token),
            expires_at=timezone.now() + timedelta(minutes=EMAIL_LINK_MINUTES),
        )
    link = f"{settings.PUBLIC_BASE_URL}/buzon/perfil/verificar/{verification.pk}/{token}/"
    try:
        _send_link(person, email, link)
    except Exception:
        raise _send_failed(verification, "email") from None
    return verification


def _send_link(person: Person, email: str, link: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            _("Confirme su correo para las alertas del Buzón Electrónico"),
            _(
                "Hola, %(name)s:\n\nPara recibir en este correo los avisos de su Buzón "
                "Electrónico, abra este enlace en los próximos %(minutes)d minutos, con su "
                "sesión iniciada:\n\n%(link)s\n\nSi usted no lo pidió, ignore este mensaje."
            )
            % {"name": person.given_names, "minutes": EMAIL_LINK_MINUTES, "link": link},
            None,
            [email],
        )


def offer_email_verification(person: Person) -> None:
    """After registration: ask the person to confirm the email an officer recorded.

    Runs after commit; a mail failure is logged and never undoes the registration (the person
    can still confirm from /buzon/perfil/)."""
    try:
        start_email_change(person, person.email)
    except Exception:
        log.exception("could not send the email verification for person %s", person.pk)


def start_phone_change(person: Person, phone: str) -> ContactVerification:
    try:
        number = normalize_mobile(phone)
    except ValidationError as exc:
        raise ValidationError({"mobile_phone": exc.messages}) from None
    if not number:
        raise ValidationError({"mobile_phone": [_("Ingrese su número de celular.")]})
    _check_rate(person)
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        _supersede(person, "sms")
        verification = ContactVerification.objects.create(
            person=person,
            channel="sms",
            value=number,
            secret_hash=_hash(code),
            expires_at=timezone.now() + timedelta(minutes=SMS_CODE_MINUTES),
        )
    try:
        with translation.override(settings.LANGUAGE_CODE):
            get_backend().send(
                number,
                _(
                    "%(agency)s: su código para confirmar este celular es %(code)s. Vence en "
                    "%(m)d minutos."
                )
                % {"agency": settings.AGENCY["short_name"], "code": code, "m": SMS_CODE_MINUTES},
            )
    except Exception:
        raise _send_failed(verification, "sms") from None
    return verification


def confirm_contact(person: Person, verification_id: int, secret: str) -> ContactVerification:
    """Check the link token or code; on success the contact becomes the verified one.

    A wrong code is counted (and committed) before the error is raised, so guessing stops
    after MAX_CODE_ATTEMPTS.
    """
    invalid = ValidationError(_("El código o el enlace no es válido o ya venció."))
    with transaction.atomic():
        verification = (
            ContactVerification.objects.select_for_update()
            .filter(pk=verification_id, person=person, confirmed_at__isnull=True)
            .first()
        )
        if verification is None or verification.expires_at <= timezone.now():
            raise invalid
        if verification.attempts >= MAX_CODE_ATTEMPTS:
            raise ValidationError(_("Demasiados intentos. Pida un código nuevo."))
        wrong = not hmac.compare_digest(verification.secret_hash, _hash((secret or "").strip()))
        if wrong:
            verification.attempts += 1
            verification.save(update_fields=["attempts"])
    if wrong:
        raise invalid
    with transaction.atomic():
        verification = ContactVerification.objects.select_for_update().get(pk=verification.pk)
        if verification.confirmed_at is not None:
            raise invalid
        verification.confirmed_at = timezone.now()
        verification.save(update_fields=["confirmed_at"])
        if verification.channel == "email":
            person.email, person.email_verified = verification.value, True
            fields = ["email", "email_verified"]
        else:
            person.mobile_phone, person.mobile_phone_verified = verification.value, True
            fields = ["mobile_phone", "mobile_phone_verified"]
        person.save(update_fields=[*fields, "updated_at"])
        record(
            EventKind.CONTACT_VERIFIED,
            actor=person.user,
            person=person,
            data={"channel": verification.channel, "value": verification.value},
        )
    return verification
