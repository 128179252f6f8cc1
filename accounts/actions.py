"""Legal state changes of access: issuing credentials, changing and resetting a password.

Each function owns its transaction and writes its evidence event inside it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import PasswordReset, User
from accounts.passwords import generate_password
from alerts.sms import get_backend as get_sms_backend
from evidence.actions import record
from evidence.models import EventKind

if TYPE_CHECKING:
    from people.models import Person

log = logging.getLogger(__name__)


def issue_credentials(person: Person, *, actor: User | None, reissue: bool = False) -> str:
    """Create (or, when reissuing, replace) the person's permanent buzón credentials.

    Returns the plaintext password, which the caller prints on the constancia and drops. Only
    the Argon2id hash is stored. Reissuing ends every open session of the person, because the
    session hash changes with the password.
    """
    with transaction.atomic():
        password = generate_password()
        user = person.user
        if user is None:
            if reissue:
                raise ValueError("cannot reissue credentials that were never issued")
            user = User(username=person.username, kind=User.Kind.PERSON)
            user.set_password(password)
            user.save()
            person.user = user
            person.save(update_fields=["user", "updated_at"])
        else:
            if not reissue:
                raise ValueError("credentials already issued; reissue them explicitly")
            user.set_password(password)
            user.save(update_fields=["password"])
        record(
            EventKind.CREDENTIALS_REISSUED if reissue else EventKind.CREDENTIALS_ISSUED,
            actor=actor,
            person=person,
            data={"username": user.username},
        )
    return password


def change_password(user: User, new_password: str, *, actor: User | None) -> None:
    """Set a password the person chose. Django's session hash then ends their other sessions."""
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        person = getattr(user, "person", None)
        record(EventKind.PASSWORD_CHANGED, actor=actor or user, person=person)


# --- Password recovery ("¿Olvidaste la contraseña?") -----------------------------------------

RESET_LINK_MINUTES = 30
RESET_CODE_MINUTES = 10
RESET_MAX_CODE_ATTEMPTS = 5


def _reset_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


ACTIVATION_LINK_HOURS = 48


def _user_for(person: Person) -> User:
    """The person's buzón user; created without a usable password for someone registered
    before credentials existed (the password they choose next becomes their credentials)."""
    if person.user is None:
        user = User(username=person.username, kind=User.Kind.PERSON)
        user.set_unusable_password()
        user.save()
        person.user = user
        person.save(update_fields=["user", "updated_at"])
    return person.user


def _send_reset(
    user: User,
    person: Person,
    *,
    purpose: str,
    channel: str,
    destination: str,
    link: bool,
    lifetime: timedelta,
    ip_address: str | None,
) -> PasswordReset:
    """Store a new single-use secret (ending the unused earlier ones) and send it."""
    secret = secrets.token_urlsafe(32) if link else f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        PasswordReset.objects.filter(user=user, used_at__isnull=True).update(
            expires_at=timezone.now()
        )
        reset = PasswordReset.objects.create(
            user=user,
            purpose=purpose,
            channel=channel,
            destination=destination,
            secret_hash=_reset_hash(secret),
            expires_at=timezone.now() + lifetime,
            ip_address=ip_address,
        )
    minutes = int(lifetime.total_seconds() // 60)
    hours = minutes // 60
    with translation.override(settings.LANGUAGE_CODE):
        if channel == PasswordReset.Channel.SMS:
            get_sms_backend().send(
                destination,
                _(
                    "%(agency)s: su código para elegir la contraseña del Buzón es "
                    "%(code)s. Vence en %(m)d minutos. Si no lo pidió, ignórelo."
                )
                % {"agency": settings.AGENCY["short_name"], "code": secret, "m": minutes},
            )
        elif link and purpose == PasswordReset.Purpose.ACTIVATION:
            url = f"{settings.PUBLIC_BASE_URL}/buzon/recuperar/{reset.pk}/{secret}/"
            send_mail(
                _("Active su Buzón Electrónico"),
                _(
                    "Hola, %(name)s:\n\nAprobamos su solicitud de credenciales. Para elegir la "
                    "contraseña de su Buzón Electrónico, abra este enlace en las próximas "
                    "%(hours)d horas. Sirve una sola vez:\n\n%(link)s\n\nSu usuario es su "
                    "tipo y número de documento."
                )
                % {"name": person.given_names, "hours": hours, "link": url},
                None,
                [destination],
            )
        elif link:
            url = f"{settings.PUBLIC_BASE_URL}/buzon/recuperar/{reset.pk}/{secret}/"
            send_mail(
                _("Restablezca la contraseña de su Buzón Electrónico"),
                _(
                    "Hola, %(name)s:\n\nPara elegir una contraseña nueva para su Buzón "
                    "Electrónico, abra este enlace en los próximos %(minutes)d minutos. Sirve "
                    "una sola vez:\n\n%(link)s\n\nSi usted no lo pidió, ignore este mensaje: "
                    "su contraseña no cambia."
                )
                % {"name": person.given_names, "minutes": minutes, "link": url},
                None,
                [destination],
            )
        else:
            send_mail(
                _("Su código para el Buzón Electrónico: %(code)s") % {"code": secret},
                _(
                    "Hola, %(name)s:\n\nSu código para elegir la contraseña de su Buzón "
                    "Electrónico en la Agencia Digital es %(code)s. Vence en %(minutes)d "
                    "minutos.\n\nSi usted no lo pidió, no lo comparta con nadie y avísenos "
                    "a %(email)s."
                )
                % {
                    "name": person.given_names,
                    "code": secret,
                    "minutes": minutes,
                    "email": settings.AGENCY["info_email"],
                },
                None,
                [destination],
            )
    return reset


def start_password_reset(username: str, *, ip_address: str | None) -> PasswordReset | None:
    """Send a single-use reset link (verified email) or code (verified mobile) to the person
    behind `username`. Returns the reset, or None when there is nobody to send it to; the
    caller must answer the same way in both cases (see accounts/views.py)."""
    user = User.objects.filter(username=username, kind=User.Kind.PERSON, is_active=True).first()
    person = getattr(user, "person", None) if user is not None else None
    if user is None or person is None:
        return None
    if person.email and person.email_verified:
        channel, destination, link = PasswordReset.Channel.EMAIL, person.email, True
        lifetime = timedelta(minutes=RESET_LINK_MINUTES)
    elif person.mobile_phone and person.mobile_phone_verified:
        channel, destination, link = PasswordReset.Channel.SMS, person.mobile_phone, False
        lifetime = timedelta(minutes=RESET_CODE_MINUTES)
    else:
        return None
    return _send_reset(
        user,
        person,
        purpose=PasswordReset.Purpose.RECOVERY,
        channel=channel,
        destination=destination,
        link=link,
        lifetime=lifetime,
        ip_address=ip_address,
    )


def access_code_contact(person: Person) -> tuple[str, str] | None:
    """Where the Agencia Digital sends its code: a verified contact first; else a contact the
    agency itself recorded when the procedure was filed (never one typed in the Agencia
    Digital). None when the agency has no contact for the person (docs/security.md)."""
    for value, verified, channel in (
        (person.email, person.email_verified, PasswordReset.Channel.EMAIL),
        (person.mobile_phone, person.mobile_phone_verified, PasswordReset.Channel.SMS),
        (person.email, False, PasswordReset.Channel.EMAIL),
        (person.mobile_phone, False, PasswordReset.Channel.SMS),
    ):
        if value and (verified or not (person.email_verified or person.mobile_phone_verified)):
            return channel, value
    return None


def send_access_code(person: Person, *, ip_address: str | None) -> PasswordReset | None:
    """After a matched Agencia Digital check: a one-time code (10 minutes) to the contact
    access_code_contact() picks. None when there is no contact."""
    contact = access_code_contact(person)
    if contact is None:
        return None
    channel, destination = contact
    return _send_reset(
        _user_for(person),
        person,
        purpose=PasswordReset.Purpose.AGENCY,
        channel=channel,
        destination=destination,
        link=False,
        lifetime=timedelta(minutes=RESET_CODE_MINUTES),
        ip_address=ip_address,
    )


def send_activation_link(person: Person, email: str) -> PasswordReset:
    """A credential request approved: a single-use link (48 hours) to the email address the
    officer checked. Called by agency.actions.approve_request(), inside its transaction."""
    return _send_reset(
        _user_for(person),
        person,
        purpose=PasswordReset.Purpose.ACTIVATION,
        channel=PasswordReset.Channel.EMAIL,
        destination=email,
        link=True,
        lifetime=timedelta(hours=ACTIVATION_LINK_HOURS),
        ip_address=None,
    )


def valid_reset(reset_id: int, secret: str) -> PasswordReset | None:
    """The unused, unexpired reset this link token or code opens, or None. A wrong code is
    counted (committed) first, so guessing stops after RESET_MAX_CODE_ATTEMPTS."""
    with transaction.atomic():
        reset = (
            PasswordReset.objects.select_for_update()
            .filter(pk=reset_id, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if reset is None or reset.attempts >= RESET_MAX_CODE_ATTEMPTS:
            return None
        if hmac.compare_digest(reset.secret_hash, _reset_hash((secret or "").strip())):
            return reset
        reset.attempts += 1
        reset.save(update_fields=["attempts"])
    return None


def complete_password_reset(reset_id: int, new_password: str, *, ip_address: str | None) -> User:
    """Set the chosen password, once. Every open session of the person ends (the session
    hash changes with the password); the reset is recorded as evidence and confirmed to the
    contact it went to."""
    with transaction.atomic():
        reset = (
            PasswordReset.objects.select_for_update()
            .select_related("user")
            .filter(pk=reset_id, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if reset is None:
            raise ValidationError(_("El enlace o el código ya se usó o venció. Pida otro."))
        user = reset.user
        validate_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        reset.used_at = timezone.now()
        reset.save(update_fields=["used_at"])
        person = getattr(user, "person", None)
        record(
            EventKind.PASSWORD_RESET,
            actor=user,
            person=person,
            data={"channel": reset.channel, "ip": ip_address, "purpose": reset.purpose},
        )
        if person is not None:
            _confirm_contact(person, reset)
    channel, destination = reset.channel, reset.destination

    def confirm() -> None:
        text = _(
            "Se cambió la contraseña de su Buzón Electrónico. Si no fue usted, acuda a una "
            "sede de %(agency)s o escriba a %(email)s."
        ) % {"agency": settings.AGENCY["short_name"], "email": settings.AGENCY["info_email"]}
        try:
            with translation.override(settings.LANGUAGE_CODE):
                if channel == PasswordReset.Channel.EMAIL:
                    send_mail(_("Su contraseña cambió"), text, None, [destination])
                else:
                    get_sms_backend().send(destination, text)
        except Exception:
            log.exception("could not confirm the password reset of user %s", user.pk)

    transaction.on_commit(confirm)
    return user


def _confirm_contact(person: Person, reset: PasswordReset) -> None:
    """The code or link reached its contact and came back: that contact is now proven. An
    activation link also makes the checked address the person's alert email when they had
    no verified one."""
    if reset.channel == PasswordReset.Channel.EMAIL:
        value, verified = person.email, person.email_verified
        if value.lower() != reset.destination.lower() and not (
            reset.purpose == PasswordReset.Purpose.ACTIVATION and not verified
        ):
            return
        if verified and value.lower() == reset.destination.lower():
            return
        person.email, person.email_verified = reset.destination, True
        fields = ["email", "email_verified"]
    else:
        if person.mobile_phone != reset.destination or person.mobile_phone_verified:
            return
        person.mobile_phone_verified = True
        fields = ["mobile_phone_verified"]
    person.save(update_fields=[*fields, "updated_at"])
    record(
        EventKind.CONTACT_VERIFIED,
        actor=person.user,
        person=person,
        data={"channel": reset.channel, "value": reset.destination},
    )
