"""The Agencia Digital (/agencia/) and the web credential request (/agencia/solicitud/).

The identity check is knowledge only, so it never sets credentials by itself: a one-time code
to a contact the agency holds must come back first (docs/security.md, "Agencia Digital").
"""

from __future__ import annotations

import ipaddress
import logging
import time

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_ratelimit.core import is_ratelimited

from accounts.actions import (
    access_code_contact,
    complete_password_reset,
    send_access_code,
    valid_reset,
)
from accounts.forms import RecoveryPasswordForm
from accounts.throttling import client_ip
from agency.actions import submit_request, verify_identity
from agency.forms import CodeForm, IdentityForm, RequestForm
from people.documents import normalize_document
from people.models import Person

log = logging.getLogger(__name__)

VERIFIED_KEY = "agency_person"  # person id, once "Verificar" matched
VERIFIED_AT_KEY = "agency_verified_at"
CODE_KEY = "agency_code"  # the reset a typed code may open
CODE_OK_KEY = "agency_code_ok"  # the reset whose code was right
CASE_KEY = "agency_case"  # the number of the request just filed
# A verified session lasts this long: enough to read a code, not to leave a phone unlocked.
VERIFIED_MINUTES = 20
# Every answer to "Verificar" takes at least this long, matched, mismatched or throttled, so
# timing says nothing about which part did not match.
ANSWER_SECONDS = 1.0

MISMATCH = gettext_lazy(
    "No encontramos un trámite con esos datos. Revise que estén escritos como en su documento "
    "y en su constancia de trámite, e inténtelo de nuevo."
)


def _no_sooner_than(started: float) -> None:
    left = ANSWER_SECONDS - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)


def _limited(request: HttpRequest, group: str, key: str, rate: str) -> bool:
    try:
        return bool(
            is_ratelimited(
                request,
                group=group,
                key=lambda _group, _request: key,
                rate=rate,
                increment=True,
            )
        )
    except Exception:
        log.exception("%s rate limit not applied: the cache failed", group)
        return False


def _identity_key(doc_type: str, number: str) -> str:
    """One counter per document however it is typed (dots, dashes, leading zeros...)."""
    try:
        return normalize_document(doc_type, number, "XX").username
    except ValidationError:
        return f"{doc_type}-?{''.join(number.split()).casefold()[:40]}"


def _address_key(ip: str) -> str:
    """One counter per IPv4 address, or per IPv6 /64 (what one client usually holds)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _verified_person(request: HttpRequest) -> Person | None:
    person_id = request.session.get(VERIFIED_KEY)
    at = request.session.get(VERIFIED_AT_KEY, 0)
    if not person_id or time.time() - float(at) > VERIFIED_MINUTES * 60:
        return None
    return Person.objects.filter(pk=person_id).first()


def _forget(request: HttpRequest) -> None:
    for key in (VERIFIED_KEY, VERIFIED_AT_KEY, CODE_KEY, CODE_OK_KEY):
        request.session.pop(key, None)


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "agency/home.html")


@csrf_protect
@never_cache
def identity(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ("extranjero", "peruano"):
        raise Http404
    foreign = kind == "extranjero"
    form = IdentityForm(data=request.POST or None, foreign=foreign)
    error: str | Promise = ""
    if request.method == "POST" and form.is_valid():
        started = time.monotonic()
        claim = form.claim()
        ip = client_ip(request)
        throttled = _limited(
            request,
            "agency.identity",
            _identity_key(claim.doc_type, claim.doc_number),
            f"{settings.BUZON_AGENCY_PER_IDENTITY_PER_HOUR}/h",
        ) | _limited(
            request, "agency.ip", _address_key(ip), f"{settings.BUZON_AGENCY_PER_IP_PER_HOUR}/h"
        )
        person = verify_identity(claim, ip_address=ip, throttled=throttled)
        _forget(request)
        if not throttled:  # a throttled answer says so anyway: holding it hides nothing
            _no_sooner_than(started)
        if person is not None:
            request.session.cycle_key()
            request.session[VERIFIED_KEY] = person.pk
            request.session[VERIFIED_AT_KEY] = time.time()
            return redirect("agency:platform")
        error = (
            _(
                "Hizo demasiados intentos. Por su seguridad, espere una hora antes de volver a "
                "intentarlo, o envíe una solicitud de credenciales."
            )
            if throttled
            else MISMATCH
        )
    return render(
        request,
        "agency/identity.html",
        {
            "form": form,
            "foreign": foreign,
            "error": error,
            "open_section": request.method == "POST",
        },
    )


@never_cache
def platform(request: HttpRequest) -> HttpResponse:
    """The page after a matched check: the "Buzón Electrónico" shortcut at the top."""
    person = _verified_person(request)
    if person is None:
        return redirect("agency:home")
    return render(request, "agency/platform.html", {"person": person})


def _masked(channel: str, value: str) -> str:
    if channel == "email":
        local, _at, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"••• ••• {value[-3:]}"


@csrf_protect
@never_cache
def mailbox_access(request: HttpRequest) -> HttpResponse:
    """The "Buzón Electrónico" shortcut: a one-time code to a contact the agency holds."""
    person = _verified_person(request)
    if person is None:
        return redirect("agency:home")
    contact = access_code_contact(person)
    if contact is None or person.user is None or not person.user.is_active:
        return render(
            request,
            "agency/no_contact.html",
            {"person": person, "no_account": contact is not None},
        )
    form = CodeForm(data=request.POST if "code" in request.POST else None)
    resend = request.method == "POST" and "resend" in request.POST
    if resend or not request.session.get(CODE_KEY):
        limited = _limited(request, "agency.code", str(person.pk), "3/h")
        if limited:
            messages_error = _("Ya le enviamos varios códigos. Espere una hora o use el último.")
            return render(
                request,
                "agency/code.html",
                {"form": form, "error": messages_error, "to": _masked(*contact)},
            )
        try:
            reset = send_access_code(person, ip_address=client_ip(request))
        except Exception:
            log.exception("an Agencia Digital code could not be sent")
            reset = None
        if reset is None:
            return render(
                request,
                "agency/code.html",
                {
                    "form": form,
                    "error": _("No pudimos enviar el código. Inténtelo de nuevo en unos minutos."),
                    "to": _masked(*contact),
                },
            )
        request.session[CODE_KEY] = reset.pk
        if request.method == "POST":
            return redirect("agency:mailbox")
    if request.method == "POST" and form.is_valid():
        pending = int(request.session.get(CODE_KEY) or 0)
        if pending and valid_reset(pending, form.cleaned_data["code"], link=False) is not None:
            request.session.cycle_key()
            request.session[CODE_OK_KEY] = pending
            return redirect("agency:password")
        form.add_error("code", _("El código no es válido o ya venció."))
    return render(request, "agency/code.html", {"form": form, "to": _masked(*contact)})


@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
def password(request: HttpRequest) -> HttpResponse:
    """Choose the password that becomes the person's credentials, then into the casilla."""
    person = _verified_person(request)
    reset_id = int(request.session.get(CODE_OK_KEY) or 0)
    if person is None or not reset_id:
        return redirect("agency:home")
    form = RecoveryPasswordForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = complete_password_reset(
                reset_id,
                form.cleaned_data["new_password1"],
                ip_address=client_ip(request),
                person=person,  # the code was for this person; never anyone else
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            _forget(request)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("mailbox:home")
    return render(request, "agency/password.html", {"form": form, "person": person})


@csrf_protect
@never_cache
def credential_request(request: HttpRequest) -> HttpResponse:
    form = RequestForm(data=request.POST or None, files=request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if _limited(
            request,
            "agency.request",
            _address_key(client_ip(request)),
            f"{settings.BUZON_REQUESTS_PER_IP_PER_HOUR}/h",
        ):
            error = _(
                "Se enviaron muchas solicitudes desde esta conexión. Inténtelo de nuevo en una "
                "hora o acuda a una sede."
            )
        else:
            case = submit_request(
                form.request_input(), form.checked_document, ip_address=client_ip(request)
            )
            request.session[CASE_KEY] = [case.number, case.contact_email]
            return redirect("agency:request_received")
    return render(request, "agency/request.html", {"form": form, "error": error})


@never_cache
def request_received(request: HttpRequest) -> HttpResponse:
    case = request.session.get(CASE_KEY)
    if not case:
        return redirect("agency:request")
    number, email = case
    return render(
        request,
        "agency/request_received.html",
        {"number": number, "email": email, "today": timezone.localdate()},
    )
