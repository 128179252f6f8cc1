"""What the requester of credentials receives by email. No personal data beyond their name:
the address was typed by the requester (web) or is the sender of a message (email), and
neither is proven to be the person's."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agency.models import CredentialRequest

log = logging.getLogger(__name__)

SUBJECTS = {
    "ack": lambda n: _("Recibimos su solicitud de credenciales (caso %(n)s)") % {"n": n},
    "counter": lambda n: _("Su solicitud %(n)s fue aprobada: acuda a una sede") % {"n": n},
    "rejected": lambda n: _("Su solicitud %(n)s no fue aprobada") % {"n": n},
}


def body(case: CredentialRequest, kind: str) -> str:
    agency = settings.AGENCY
    closing = _(
        "\n\nPor su seguridad, nunca le pediremos su contraseña por correo.\n%(agency)s"
    ) % {"agency": agency["name"]}
    if kind == "ack":
        text = _(
            "Recibimos su solicitud de credenciales para acceder a su buzón electrónico.\n\n"
            "Número de caso: %(n)s\n\nUn servidor revisará sus datos y le responderá a este "
            "correo. Si escribe de nuevo sobre este pedido, indique el número de caso."
        ) % {"n": case.number}
        if case.status == CredentialRequest.Status.REVIEW:
            text += _(
                "\n\nNo pudimos leer todos sus datos automáticamente; un servidor revisará su "
                "mensaje tal como lo envió."
            )
        return text + closing
    if kind == "counter":
        return (
            _(
                "Aprobamos su solicitud de credenciales (caso %(n)s).\n\nAcuda a una sede de "
                "%(agency)s con su documento de identidad original y este número de caso. Le "
                "entregarán una constancia nueva con su usuario y contraseña."
            )
            % {"n": case.number, "agency": agency["short_name"]}
            + closing
        )
    return (
        _(
            "Revisamos su solicitud de credenciales (caso %(n)s) y no pudimos aprobarla.\n\n"
            "Motivo: %(reason)s\n\nPuede enviar una nueva solicitud con los datos corregidos o "
            "acudir a una sede con su documento de identidad."
        )
        % {"n": case.number, "reason": case.reason}
        + closing
    )


ACKS_PER_ADDRESS_PER_DAY = 3


def _acknowledged_today(address: str) -> int:
    since = timezone.now() - timedelta(days=1)
    return CredentialRequest.objects.filter(
        contact_email__iexact=address, ack_sent_at__gte=since
    ).count()


def send_request_mail(case_id: int, kind: str) -> str:
    case = CredentialRequest.objects.filter(pk=case_id).first()
    if case is None or not case.contact_email:
        return "no address"
    if kind == "ack" and (case.ack_sent_at is not None or not case.ack_wanted):
        return "not wanted or already sent"
    if kind == "ack" and _acknowledged_today(case.contact_email) >= ACKS_PER_ADDRESS_PER_DAY:
        # Anyone can file requests in someone else's name: an address gets a few a day.
        CredentialRequest.objects.filter(pk=case.pk).update(ack_wanted=False)
        log.warning("acknowledgement of %s not sent: daily limit for its address", case.number)
        return "limited"
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(SUBJECTS[kind](case.number), body(case, kind), None, [case.contact_email])
    if kind == "ack":
        with transaction.atomic():
            CredentialRequest.objects.filter(pk=case.pk, ack_sent_at__isnull=True).update(
                ack_sent_at=timezone.now()
            )
    return "sent"
