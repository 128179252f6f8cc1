from __future__ import annotations

import uuid
from datetime import date

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.throttling import client_ip
from evidence import certificates
from evidence.actions import issue_certificate
from evidence.tsa import TimestampError
from mailboxes.access import current_person, person_required
from mailboxes.actions import RequestMeta, open_notification, record_download, record_view
from mailboxes.models import Attachment, Kind, Notification
from people.models import Person

PAGE_SIZE = 20


class InboxFilter(forms.Form):
    q = forms.CharField(
        label=_("Buscar por asunto o número de trámite"), required=False, max_length=100
    )
    kind = forms.ChoiceField(
        label=_("Tipo"), required=False, choices=[("", _("Todos los tipos")), *Kind.choices]
    )
    unread = forms.BooleanField(label=_("Solo no leídas"), required=False)
    procedure = forms.CharField(required=False, max_length=11, widget=forms.HiddenInput)


def _meta(request: HttpRequest) -> RequestMeta:
    return RequestMeta(
        ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )


def _own(person: Person) -> QuerySet[Notification]:
    """Every buzón query starts from the person behind the session."""
    return Notification.objects.filter(person=person)


@never_cache
@person_required
def casilla(request: HttpRequest) -> HttpResponse:
    """Casilla electrónica → Notificaciones. The list shows metadata only: opening is a
    separate, explicit act, so a person can triage without creating an acuse."""
    person = current_person(request)
    form = InboxFilter(request.GET or None)
    notifications = _own(person).select_related("unit", "procedure")
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            notifications = notifications.filter(
                Q(subject__icontains=query) | Q(procedure__number__iexact=query.upper())
            )
        if form.cleaned_data["kind"]:
            notifications = notifications.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["unread"]:
            notifications = notifications.filter(opened_at__isnull=True)
        if form.cleaned_data["procedure"]:
            notifications = notifications.filter(procedure__number=form.cleaned_data["procedure"])
    page = Paginator(notifications.defer("body_markdown", "body_html"), PAGE_SIZE).get_page(
        request.GET.get("pagina")
    )
    query_string = request.GET.copy()
    query_string.pop("pagina", None)
    return render(
        request,
        "mailbox/casilla.html",
        {
            "person": person,
            "form": form,
            "page": page,
            "today": timezone.localdate(),
            "filtered": form.is_valid() and any(form.cleaned_data.values()),
            "query_string": query_string.urlencode(),
            "procedures": person.procedures.select_related("procedure_type").order_by(
                "-filing_date", "-id"
            ),
        },
    )


def _get_own(request: HttpRequest, public_id: uuid.UUID) -> Notification:
    person = current_person(request)
    try:
        return (
            _own(person)
            .select_related("unit", "procedure__procedure_type", "person")
            .get(public_id=public_id)
        )
    except (Notification.DoesNotExist, ValueError):
        raise Http404 from None


@never_cache
@person_required
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    notification = _get_own(request, public_id)
    assert isinstance(request.user, User)
    if notification.opened_at is not None:
        record_view(notification, reader=request.user, meta=_meta(request))
    return render(
        request,
        "mailbox/detail.html",
        {
            "person": notification.person,
            "n": notification,
            "attachments": notification.attachments.all() if notification.opened_at else [],
            "opening": getattr(notification, "opening", None),
            "today": timezone.localdate(),
            "certificate_available": certificate_available(notification, timezone.localdate()),
        },
    )


@require_POST
@person_required
def open_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    notification = _get_own(request, public_id)
    assert isinstance(request.user, User)
    if notification.opened_at is None:
        open_notification(notification, reader=request.user, meta=_meta(request))
    return redirect("mailbox:detail", public_id=notification.public_id)


@never_cache
@person_required
def attachment(
    request: HttpRequest, public_id: uuid.UUID, attachment_id: uuid.UUID
) -> HttpResponseBase:
    notification = _get_own(request, public_id)
    if notification.opened_at is None:
        return redirect("mailbox:detail", public_id=notification.public_id)
    try:
        item = notification.attachments.get(public_id=attachment_id)
    except (Attachment.DoesNotExist, ValueError):
        raise Http404 from None
    assert isinstance(request.user, User)
    handle = item.file.open("rb")  # a storage failure stops here, before any evidence
    record_download(item, reader=request.user, meta=_meta(request))
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=item.original_name,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def certificate_available(notification: Notification, today: date) -> bool:
    """The person may download the constancia de notificación once the notification was opened
    or has taken effect: it then certifies a legal fact. Downloading it never opens it."""
    return notification.opened_at is not None or (
        notification.effective_date is not None and notification.effective_date <= today
    )


@never_cache
@person_required
def certificate(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    notification = _get_own(request, public_id)
    if not certificate_available(notification, timezone.localdate()):
        return redirect("mailbox:detail", public_id=notification.public_id)
    assert isinstance(request.user, User)
    try:
        issued, pdf = issue_certificate(notification, requested_by=request.user)
    except TimestampError:
        messages.error(
            request,
            gettext("No se pudo emitir la constancia en este momento. Inténtelo más tarde."),
        )
        return redirect("mailbox:detail", public_id=notification.public_id)
    return certificates.download_response(notification, issued, pdf)
