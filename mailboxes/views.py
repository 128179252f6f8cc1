from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.throttling import client_ip
from evidence import certificates
from evidence.actions import issue_certificate
from evidence.export import write_export
from evidence.limits import over_limit
from evidence.pki import PdfSignatureError
from evidence.proofs import ProofError
from evidence.tsa import TimestampError
from mailboxes import kinds
from mailboxes.access import current_person, person_required
from mailboxes.actions import RequestMeta, open_notification, record_download, record_view
from mailboxes.models import Attachment, Kind, Notification
from people.models import Person
from procedures.models import Procedure

log = logging.getLogger(__name__)

PAGE_SIZE = 20
# An export is written to a temporary file before it is sent: kept in memory up to this size,
# then on disk, so a large mailbox never sits whole in the worker's memory.
EXPORT_SPOOL_BYTES = 2 * 1024 * 1024


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


@never_cache
@person_required
def pending(request: HttpRequest) -> HttpResponse:
    """Casilla electrónica → Pendientes: what asks something of the person. Open correction
    requests with their countdown, and what they owe with the payment code."""
    from corrections.queries import open_for
    from payments.queries import due_for

    person = current_person(request)
    corrections = list(open_for(person))
    dues = due_for(person)
    return render(
        request,
        "mailbox/pending.html",
        {
            "person": person,
            "corrections": corrections,
            "dues": dues,
            "today": timezone.localdate(),
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
            "kind_panel": kinds.panel(notification, request) if notification.opened_at else None,
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
    if over_limit(request, "certificate"):
        messages.error(
            request,
            gettext("Ha pedido muchas constancias en poco tiempo. Inténtelo de nuevo en una hora."),
        )
        return redirect("mailbox:detail", public_id=notification.public_id)
    try:
        issued, pdf = issue_certificate(notification, requested_by=request.user)
    except (TimestampError, PdfSignatureError, ProofError):
        log.exception("certificate for notification %s not issued", notification.pk)
        messages.error(
            request,
            gettext("No se pudo emitir la constancia en este momento. Inténtelo más tarde."),
        )
        return redirect("mailbox:detail", public_id=notification.public_id)
    return certificates.download_response(notification, issued, pdf)


# --- Evidence export --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportScope:
    procedure: Procedure | None  # None: the whole mailbox
    notifications: int
    unopened: int


def _export_scopes(person: Person) -> tuple[ExportScope, list[ExportScope]]:
    """The whole mailbox, and each of the person's procedures that has notifications."""
    procedures = (
        person.procedures.select_related("procedure_type")
        .annotate(
            total=Count("notifications"),
            unopened=Count("notifications", filter=Q(notifications__opened_at__isnull=True)),
        )
        .filter(total__gt=0)
        .order_by("-filing_date", "-id")
    )
    scopes = [ExportScope(p, p.total, p.unopened) for p in procedures]
    mailbox = ExportScope(
        None, sum(s.notifications for s in scopes), sum(s.unopened for s in scopes)
    )
    return mailbox, scopes


def _export_page(
    request: HttpRequest, person: Person, *, error: str = "", status: int = 200
) -> HttpResponse:
    mailbox, scopes = _export_scopes(person)
    return render(
        request,
        "mailbox/export.html",
        {"person": person, "mailbox": mailbox, "scopes": scopes, "error": error},
        status=status,
    )


def export_filename(person: Person, procedure: Procedure | None, today: date) -> str:
    stamp = today.strftime("%Y%m%d")
    if procedure is not None:
        return f"tramite-{procedure.number}-{stamp}.zip"
    document = "".join(person.document_label.split())
    return f"buzon-{document}-{stamp}.zip"


def _export(request: HttpRequest, person: Person, procedure: Procedure | None) -> HttpResponseBase:
    """Issue the certificates, seal the log and send the ZIP (evidence/export.py).

    The ZIP carries every notification's content, so a notification that was never opened
    must be opened first: reading it through the export would skip the acuse de lectura."""
    unopened = _own(person).filter(opened_at__isnull=True)
    if procedure is not None:
        unopened = unopened.filter(procedure=procedure)
    if unopened.exists():
        return _export_page(
            request,
            person,
            error=gettext(
                "Antes de exportar, abra sus notificaciones sin leer. El archivo incluye su "
                "contenido, y abrirlas es lo que registra el acuse de lectura."
            ),
            status=409,
        )
    assert isinstance(request.user, User)
    if over_limit(request, "export"):
        return _export_page(
            request,
            person,
            error=gettext(
                "Ha pedido muchas exportaciones en poco tiempo. Inténtelo de nuevo en una hora."
            ),
            status=429,
        )
    filename = export_filename(person, procedure, timezone.localdate())
    spool = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)  # noqa: SIM115
    try:
        # opened_only: a notification deposited since the check above stays out of the ZIP.
        write_export(
            spool,
            person=person,
            procedure=procedure,
            requested_by=request.user,
            filename=filename,
            opened_only=True,
        )
    except (TimestampError, PdfSignatureError, ProofError):
        spool.close()
        log.exception("evidence export failed for person %s", person.pk)
        return _export_page(
            request,
            person,
            error=gettext(
                "No pudimos preparar su archivo en este momento. Inténtelo de nuevo más tarde; "
                "sus notificaciones siguen disponibles en su casilla."
            ),
            status=503,
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    response = FileResponse(
        spool, as_attachment=True, filename=filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@person_required
def export(request: HttpRequest) -> HttpResponseBase:
    """The page that explains the export and offers it; its POST exports the whole mailbox.
    A POST, because every export issues certificates (evidence entries)."""
    person = current_person(request)
    if request.method == "POST":
        return _export(request, person, procedure=None)
    return _export_page(request, person)


@never_cache
@require_POST
@person_required
def export_procedure(request: HttpRequest, number: str) -> HttpResponseBase:
    person = current_person(request)
    try:
        procedure = person.procedures.get(number=number)
    except Procedure.DoesNotExist:
        raise Http404 from None  # unknown, or someone else's: the same answer
    return _export(request, person, procedure)
