"""What an alert says: only that something is waiting, from whom, and where to look."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.models import Purpose
from alerts.reminders import reminded_date
from legaltime.policies import Policy
from mailboxes.models import Notification


def email_message(
    notification: Notification, purpose: str, about_date: date | None = None
) -> tuple[str, str]:
    """Subject and body. A reminder names `about_date`, the date it is about (by default the
    notification's date now)."""
    day = about_date or reminded_date(notification, purpose)
    with translation.override(settings.LANGUAGE_CODE):
        login = f"{settings.PUBLIC_BASE_URL}/buzon/ingresar/"
        when = timezone.localtime(notification.deposited_at).strftime("%d/%m/%Y %H:%M")
        name = notification.person.given_names
        unit = notification.unit.name
        if purpose == Purpose.DEADLINE_SOON and day:
            subject = _("Un plazo de su Buzón Electrónico vence pronto")
            lead = _(
                "El plazo para responder a una notificación de %(unit)s vence el %(date)s."
            ) % {"unit": unit, "date": day.strftime("%d/%m/%Y")}
        elif purpose == Purpose.UNOPENED_SOON and day:
            date_text = day.strftime("%d/%m/%Y")
            subject = _("Tiene una notificación sin abrir en su Buzón Electrónico")
            if _rejected_when_unopened(notification):
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


def _rejected_when_unopened(notification: Notification) -> bool:
    """Under the calendar-days policy an unopened notification counts as rejected, not served."""
    return Policy.parse(notification.policy).kind == "on_opening_or_after_calendar_days"


def sms_text(notification: Notification, purpose: str, about_date: date | None = None) -> str:
    """A short text per purpose, with no content: what is due when, and where to sign in."""
    day = about_date or reminded_date(notification, purpose)
    with translation.override(settings.LANGUAGE_CODE):
        values = {"agency": settings.AGENCY["short_name"], "url": settings.PUBLIC_BASE_URL}
        if purpose == Purpose.DEADLINE_SOON and day:
            return _(
                "%(agency)s: un plazo en su Buzón vence el %(date)s. Ingrese en "
                "%(url)s/buzon/ingresar/"
            ) % {**values, "date": day.strftime("%d/%m/%Y")}
        if purpose == Purpose.UNOPENED_SOON and day and _rejected_when_unopened(notification):
            return _(
                "%(agency)s: una notificación sin abrir en su Buzón se considerará rechazada "
                "el %(date)s. Ingrese en %(url)s/buzon/ingresar/"
            ) % {**values, "date": day.strftime("%d/%m/%Y")}
        if purpose == Purpose.UNOPENED_SOON and day:
            return _(
                "%(agency)s: una notificación sin abrir en su Buzón se considerará notificada "
                "el %(date)s. Ingrese en %(url)s/buzon/ingresar/"
            ) % {**values, "date": day.strftime("%d/%m/%Y")}
        return (
            _(
                "%(agency)s: tiene una notificación en su Buzón Electrónico. Ingrese en "
                "%(url)s/buzon/ingresar/"
            )
            % values
        )
