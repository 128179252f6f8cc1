"""The officers' queue of credential requests (/oficina/solicitudes/).

Each request is shown beside the records of the people it may be about; the officer decides.
The rules (who may decide, what is recorded, what the requester receives) live in
agency/actions.py.
"""

from __future__ import annotations

import logging
from smtplib import SMTPException
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.models import User
from agency.actions import (
    answer_due,
    approve_request,
    candidates,
    fold,
    link_allowed,
    reject_request,
    same_document,
)
from agency.models import CredentialRequest, IdentityCheck
from backoffice.access import officer_required
from people.models import Person

log = logging.getLogger(__name__)
HANDLE = "agency.handle_credentialrequest"
PAGE = 50


class ApproveForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    delivery = forms.ChoiceField(
        label=gettext_lazy("Entrega de las credenciales"),
        choices=CredentialRequest.Delivery.choices,
        widget=forms.RadioSelect,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Motivo (lo recibe la persona)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _clock(case: CredentialRequest, now: Any) -> dict[str, Any]:
    """The time-to-answer clock: how long the request has waited, and whether it is late."""
    end = case.decided_at or now
    waited = end - case.received_at
    hours = int(waited.total_seconds() // 3600)
    due = answer_due(case)  # a date in Lima, so today must be Lima's too (not UTC's)
    today = timezone.localdate(end)
    late = today > due if case.is_open else False
    return {
        "waited_days": hours // 24,
        "waited_hours": hours % 24,
        "due": due,
        "late": late,
        "soon": case.is_open and not late and today >= due,
    }


@never_cache
@officer_required(HANDLE)
def request_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("estado", "abiertas")
    cases = CredentialRequest.objects.select_related("person", "decided_by")
    if show == "abiertas":
        cases = cases.filter(status__in=CredentialRequest.OPEN).order_by("received_at")
    else:
        show = "resueltas"
        cases = cases.exclude(status__in=CredentialRequest.OPEN).order_by("-decided_at")
    query = (request.GET.get("q") or "").strip()[:60]
    if query:
        cases = cases.filter(
            Q(number__iexact=query) | Q(doc_number__icontains=query) | Q(surnames__icontains=query)
        )
    now = timezone.now()
    # Copies of one email merged into its case: counted, not stored twice.
    cases = cases.annotate(copies=Count("inbound_messages"))
    rows = [(case, _clock(case, now)) for case in cases[:PAGE]]
    counts = CredentialRequest.objects.aggregate(
        open=Count("pk", filter=Q(status__in=CredentialRequest.OPEN))
    )
    return render(
        request,
        "backoffice/requests.html",
        {"rows": rows, "show": show, "query": query, "open_count": counts["open"]},
    )


def _differences(case: CredentialRequest, person: Person) -> dict[str, bool]:
    """Which of the request's data agree with the person's records (for highlighting)."""
    surnames = fold(f"{person.first_surname} {person.second_surname}")
    return {
        "document": same_document(case, person),
        "given_names": fold(case.given_names) == fold(person.given_names),
        "surnames": fold(case.surnames) == surnames,
        "birth_date": case.birth_date == person.birth_date,
        "email": bool(case.contact_email) and case.contact_email.lower() == person.email.lower(),
    }


@never_cache
@officer_required(HANDLE)
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    case = get_object_or_404(
        CredentialRequest.objects.select_related("person", "decided_by"), number=number
    )
    people = [case.person] if case.person else candidates(case)
    matches = [
        {
            "person": p,
            "same": _differences(case, p),
            "procedures": list(
                p.procedures.select_related("procedure_type", "office").order_by("-filing_date")[:5]
            ),
            "checks": list(IdentityCheck.objects.filter(person=p)[:10]),
            "link_allowed": link_allowed(case, p),
            "approve": ApproveForm(
                initial={
                    "person": p.pk,
                    "delivery": CredentialRequest.Delivery.LINK
                    if link_allowed(case, p)
                    else CredentialRequest.Delivery.COUNTER,
                }
            ),
        }
        for p in people
    ]
    assert isinstance(request.user, User)
    return render(
        request,
        "backoffice/request.html",
        {
            "case": case,
            "clock": _clock(case, timezone.now()),
            "matches": matches,
            "reject": RejectForm(),
            "messages_in": list(case.inbound_messages.order_by("received_at")),
        },
    )


@never_cache
@officer_required(HANDLE)
def request_decide(request: HttpRequest, number: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("backoffice:request", number=number)
    case = get_object_or_404(CredentialRequest, number=number)
    user = request.user
    assert isinstance(user, User)
    try:
        if request.POST.get("decision") == "reject":
            form: forms.Form = RejectForm(request.POST)
            if not form.is_valid():
                raise ValidationError(
                    _("Escriba el motivo que recibirá la persona (al menos 10 caracteres).")
                )
            reject_request(case, reason=form.cleaned_data["reason"], actor=user)
            messages.success(request, _("Solicitud rechazada; le enviamos el motivo."))
        else:
            form = ApproveForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Revise la forma de entrega y el correo."))
            allowed = {p.pk for p in ([case.person] if case.person else candidates(case))}
            person = Person.objects.filter(pk=form.cleaned_data["person"]).first()
            if person is None or person.pk not in allowed:
                raise ValidationError(_("Elija a una de las personas que coinciden."))
            approve_request(case, person=person, delivery=form.cleaned_data["delivery"], actor=user)
            if form.cleaned_data["delivery"] == CredentialRequest.Delivery.LINK:
                messages.success(
                    request, _("Solicitud aprobada; enviamos el enlace de activación.")
                )
            else:
                messages.success(
                    request,
                    _("Solicitud aprobada; la persona recibirá su constancia nueva en una sede."),
                )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    except PermissionError:
        raise PermissionDenied from None
    except (OSError, SMTPException):
        log.exception("the activation link of request %s could not be sent", case.number)
        messages.error(
            request, _("No se pudo enviar el correo; no se guardó nada. Inténtelo de nuevo.")
        )
    except DatabaseError:
        log.exception("credential request %s could not be decided", case.number)
        messages.error(
            request,
            _("Otra persona está resolviendo esta solicitud. Recargue la página e inténtelo."),
        )
    return redirect("backoffice:request", number=case.number)


@never_cache
@officer_required(HANDLE)
def request_file(request: HttpRequest, number: str, which: str) -> FileResponse:
    """The identity document attached to a web request, or an email exactly as received."""
    case = get_object_or_404(CredentialRequest, number=number)
    if which == "documento" and case.document_file:
        return FileResponse(
            case.document_file.open("rb"),
            content_type=case.document_type,
            as_attachment=True,
            filename=f"{case.number}-documento",
        )
    if which.isdigit():
        message = case.inbound_messages.filter(pk=int(which)).first()
        if message is not None:
            return FileResponse(
                message.raw.open("rb"),
                content_type="message/rfc822",
                as_attachment=True,
                filename=f"{case.number}-{message.pk}.eml",
            )
    raise Http404
