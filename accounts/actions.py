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

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import PasswordReset, User
from accounts.passwords import generate_password
from alerts.sms import get_backend as get_sms_backend
from evidence.actions import record
from evidence.models import Event, EventKind

if TYPE_CHECKING:
    from people.models import Person

log = logging.getLogger(__name__)


def _password_set(user: User) -> None:
    """A password was just set, by any path (issued, reissued, changed, recovered, chosen in
    the Agencia Digital). Called inside the caller's transaction by every function that sets
    one, so these rules live in one place:

    - every unused reset link or code of the user, of every purpose (recovery, Agencia
      Digital, an approved activation link), ends: each was meant to replace a password that
      no longer exists;
    - the identity's failed logins are forgotten (django-axes), so a lockout someone caused by
      trying a document number does not keep the owner out of the new password. Recovery is
      the documented way around a lockout (docs/security.md, "Login throttling").
    """
    now = timezone.now()
    PasswordReset.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    reset_login_failures(username=user.username)


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
        _password_set(user)
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
        _password_set(user)
        person = getattr(user, "person", None)
        record(EventKind.PASSWORD_CHANGED, actor=actor or user, person=person)


# --- Password recovery ("¿Olvidaste la contraseña?") -----------------------------------------

RESET_LINK_MINUTES = 30
RESET_CODE_MINUTES = 10
RESET_MAX_CODE_ATTEMPTS = 5


def _reset_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


ACTIVATION_LINK_HOURS = 48


def _active_user(person: Person) -> User | None:
    """The person's active buzón user, or None: a person registered without credentials, or
    whose account was deactivated, has no online path (a counter reissues them)."""
    user = person.user
    return user if user is not None and user.is_active else None


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
        # A new one ends the unused earlier ones of the same kind (a recovery never cancels
        # an activation link an officer approved).
        PasswordReset.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
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


def _added_later(person: Person) -> set[str]:
    """Contact fields a later registration filled in (procedures.actions lists them in its
    `procedure_registered` entry): an officer other than the one who issued the credentials
    may have typed them, so they do not count as the person's own."""
    added: set[str] = set()
    for event in Event.objects.filter(person=person, kind=EventKind.PROCEDURE_REGISTERED):
        added.update(event.data.get("contact_added") or ())
    return added


def access_code_contact(person: Person) -> tuple[str, str] | None:
    """Where the Agencia Digital sends its code: a verified contact first; else a contact
    recorded with the person's first registration, from their own application (never one typed
    in the Agencia Digital, nor one a later registration added). None when there is no such
    contact (docs/security.md, "Agencia Digital")."""
    if person.email and person.email_verified:
        return PasswordReset.Channel.EMAIL, person.email
    if person.mobile_phone and person.mobile_phone_verified:
        return PasswordReset.Channel.SMS, person.mobile_phone
    later = _added_later(person) if (person.email or person.mobile_phone) else set()
    if person.email and "email" not in later:
        return PasswordReset.Channel.EMAIL, person.email
    if person.mobile_phone and "mobile_phone" not in later:
        return PasswordReset.Channel.SMS, person.mobile_phone
    return None


def send_access_code(person: Person, *, ip_address: str | None) -> PasswordReset | None:
    """After a matched Agencia Digital check: a one-time code (10 minutes) to the contact
    access_code_contact() picks. None when there is no contact."""
    contact = access_code_contact(person)
    user = _active_user(person)
    if contact is None or user is None:
        return None
    channel, destination = contact
    return _send_reset(
        user,
        person,
        purpose=PasswordReset.Purpose.AGENCY,
        channel=channel,
        destination=destination,
        link=False,
        lifetime=timedelta(minutes=RESET_CODE_MINUTES),
        ip_address=ip_address,
    )


def send_activation_link(person: Person) -> PasswordReset:
    """A credential request approved: a single-use link (48 hours) to the email address on
    the person's file. Called by agency.actions.approve_request(), inside its transaction."""
    user = _active_user(person)
    if user is None or not person.email:
        raise ValueError("an activation link needs an active account and an email on file")
    return _send_reset(
        user,
        person,
        purpose=PasswordReset.Purpose.ACTIVATION,
        channel=PasswordReset.Channel.EMAIL,
        destination=person.email,
        link=True,
        lifetime=timedelta(hours=ACTIVATION_LINK_HOURS),
        ip_address=None,
    )


LINK_PURPOSES = (PasswordReset.Purpose.RECOVERY, PasswordReset.Purpose.ACTIVATION)


def valid_reset(reset_id: int, secret: str, *, link: bool) -> PasswordReset | None:
    """The unused, unexpired reset this link token (link=True) or typed code opens, or None.

    A link opens only a reset that was sent as a link (256 random bits; tries are not
    counted, so nobody can spend someone else's link by guessing). A code opens only a reset
    sent as a code, and the caller passes the id its own session holds; a wrong code is
    counted (committed) first, so guessing stops after RESET_MAX_CODE_ATTEMPTS.
    """
    links = Q(channel=PasswordReset.Channel.EMAIL, purpose__in=LINK_PURPOSES)
    with transaction.atomic():
        reset = (
            PasswordReset.objects.select_for_update()
            .filter(pk=reset_id, used_at__isnull=True, expires_at__gt=timezone.now())
            .filter(links if link else ~links)
            .first()
        )
        if reset is None or reset.attempts >= RESET_MAX_CODE_ATTEMPTS:
            return None
        if hmac.compare_digest(reset.secret_hash, _reset_hash((secret or "").strip())):
            return reset
        if not link:
            reset.attempts += 1
            reset.save(update_fields=["attempts"])
    return None


def complete_password_reset(
    reset_id: int,
    new_password: str,
    *,
    ip_address: str | None,
    person: Person | None = None,
) -> User:
    """Set the chosen password, once. Every open session of the person ends (the session
    hash changes with the password); the reset is recorded as evidence and confirmed to the
    contact it went to and to every verified contact. With `person`, the reset must be that
    person's (checked under the row lock, before anything changes)."""
    with transaction.atomic():
        reset = (
            PasswordReset.objects.select_for_update()
            .select_related("user")
            .filter(pk=reset_id, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if (
            reset is None
            or not reset.user.is_active
            or (person is not None and reset.user_id != person.user_id)
        ):
            raise ValidationError(_("El enlace o el código ya se usó o venció. Pida otro."))
        user = reset.user
        validate_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        reset.used_at = timezone.now()
        reset.save(update_fields=["used_at"])
        _password_set(user)
        person = getattr(user, "person", None)
        notify = {(reset.channel, reset.destination)}
        if person is not None:
            if person.email and person.email_verified:
                notify.add((PasswordReset.Channel.EMAIL, person.email))
            if person.mobile_phone and person.mobile_phone_verified:
                notify.add((PasswordReset.Channel.SMS, person.mobile_phone))
        record(
            EventKind.PASSWORD_RESET,
            actor=user,
            person=person,
            data={"channel": reset.channel, "ip": ip_address, "purpose": reset.purpose},
        )
        if person is not None:
            _confirm_contact(person, reset)

    def confirm() -> None:
        text = _(
            "Se cambió la contraseña de su Buzón Electrónico. Si no fue usted, acuda a una "
            "sede de %(agency)s o escriba a %(email)s."
        ) % {"agency": settings.AGENCY["short_name"], "email": settings.AGENCY["info_email"]}
        for channel, destination in sorted(notify):
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
    """The code or link reached a contact on file and came back: that contact is proven."""
    if reset.channel == PasswordReset.Channel.EMAIL:
        if person.email_verified or person.email.lower() != reset.destination.lower():
            return
        person.email_verified = True
        fields = ["email_verified"]
    else:
        if person.mobile_phone_verified or person.mobile_phone != reset.destination:
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
