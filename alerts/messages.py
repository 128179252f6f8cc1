"""What an alert says: only that something is waiting, from whom, and where to look."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.models import Purpose
from legaltime.policies import Policy, pending_until
from mailboxes.models import Notification


def email_message(notification: Notification, purpose: str) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        login = f"{settings.PUBLIC_BASE_URL}/buzon/ingresar/"
        when = timezone.localtime(notification.deposited_at).strftime("%d/%m/%Y %H:%M")
        name = notification.person.given_names
        unit = notification.unit.name
        if purpose == Purpose.DEADLINE_SOON and notification.deadline_date:
            subject = _("Un plazo de su Buzón Electrónico vence pronto")
            lead = _(
                "El plazo para responder a una notificación de %(unit)s vence el %(date)s."
            ) % {"unit": unit, "date": notification.deadline_date.strftime("%d/%m/%Y")}
        elif purpose == Purpose.UNOPENED_SOON:
            policy = Policy.parse(notification.policy)
            until = pending_until(policy, notification.deposited_at)
            date_text = until.strftime("%d/%m/%Y") if until else ""
            subject = _("Tiene una notificación sin abrir en su Buzón Electrónico")
            if policy.kind == "on_opening_or_after_calendar_days":
                lead = _(
                    "Tiene una notificación de %(unit)s sin abrir. Si no la abre, el %(date)s "
                    "se considerará rechazada y el trámite seguirá su curso."
                ) % {"unit": unit, "date": date_text}
            else:
                lead = _(
                    "Tiene una notificación de %(unit)s sin abrir. Si no la abre, el %(date)s "
                    "se considerará notificada de todos modos y empezarán a correr los plazos."
                ) % {"unit": unit, "date": date_text}
        else:
            subject = _("Tiene una nueva notificación en su Buzón Electrónico")
            lead = _(
                "%(unit)s depositó una notificación en su casilla electrónica el %(when)s."
            ) % {
                "unit": unit,
                "when": when,
            }
        body = "\n\n".join(
            [
                _("Hola, %(name)s:") % {"name": name},
                lead,
                _(
                    "Para leerla, ingrese a %(url)s con su tipo y número de documento y su "
                    "contraseña."
                )
                % {"url": login},
                _(
                    "Por su seguridad, este mensaje no incluye el contenido de la notificación. "
                    "No responda a este correo."
                ),
                settings.AGENCY["name"],
            ]
        )
    return subject, body


def sms_text(notification: Notification, purpose: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "%(agency)s: tiene una notificación en su Buzón Electrónico. Ingrese en "
            "%(url)s/buzon/ingresar/"
        ) % {"agency": settings.AGENCY["short_name"], "url": settings.PUBLIC_BASE_URL}
