"""The person's side: file an answer from the notification page, download its cargo."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.throttling import client_ip
from corrections.actions import AnswerInput, file_answer
from corrections.models import Answer, CorrectionRequest
from corrections.panel import stash_errors
from corrections.uploads import ScannerUnavailableError, UploadInput
from mailboxes.access import current_person, person_required
from mailboxes.actions import RequestMeta
from mailboxes.models import Notification

log = logging.getLogger(__name__)


def _own(request: HttpRequest, public_id: uuid.UUID) -> Notification:
    """Only the session's person's notifications; anyone else's is a 404."""
    person = current_person(request)
    try:
        return Notification.objects.select_related(
            "person", "procedure__procedure_type", "unit"
        ).get(public_id=public_id, person=person)
    except Notification.DoesNotExist:
        raise Http404 from None


def _back(notification: Notification) -> HttpResponseBase:
    url = reverse("mailbox:detail", kwargs={"public_id": notification.public_id})
    return redirect(f"{url}#subsanacion")


# The one spelling of an observation's file field, item_key(): "item-1", never "item-01" (which
# int() reads as the same observation) nor "item-²" (which str.isdigit() takes for a digit).
FIELD = re.compile(r"item-([1-9][0-9]{0,2})")


def _uploads(request: HttpRequest) -> tuple[dict[int, list[UploadInput]], list[str]]:
    """The files by observation, and the names of the file fields that are not an
    observation's: the action refuses those rather than drop their files unseen."""
    files: dict[int, list[UploadInput]] = {}
    strays: list[str] = []
    for name in request.FILES:
        match = FIELD.fullmatch(name)
        if match is None:
            strays.append(name)
            continue
        files[int(match.group(1))] = [
            UploadInput(upload.name or "", upload.size or 0, upload.read)
            for upload in request.FILES.getlist(name)
        ]
    return files, strays


def _errors(exc: ValidationError, note: str) -> dict[str, Any]:
    """A ValidationError of file_answer(), as the panel shows it (JSON for the session)."""
    form: list[str] = []
    items: dict[str, list[str]] = {}
    note_errors: list[str] = []
    for key, messages_ in exc.message_dict.items():
        if key.startswith("item-"):
            items[key.removeprefix("item-")] = list(messages_)
        elif key == "note":
            note_errors = list(messages_)
        else:
            form += list(messages_)
    if (items or note_errors) and not form:
        form = [_("No se presentó su respuesta. Corrija lo indicado y vuelva a intentarlo.")]
    return {"form": form, "items": items, "note": note_errors, "note_value": note[:2000]}


@never_cache
@require_POST
@person_required
def answer(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    # When the answer arrived: the deadline is checked against it and it is the filing time,
    # however long the files then take to check and scan.
    received_at = timezone.now()
    notification = _own(request, public_id)
    if not CorrectionRequest.objects.filter(notification=notification).exists():
        raise Http404
    user = request.user
    assert isinstance(user, User)
    note = request.POST.get("note", "")
    meta = RequestMeta(client_ip(request), request.META.get("HTTP_USER_AGENT", ""))
    files, strays = _uploads(request)
    try:
        file_answer(
            notification,
            user=user,
            data=AnswerInput(files, note, strays=strays),
            meta=meta,
            received_at=received_at,
        )
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            exc = ValidationError({NON_FIELD_ERRORS: exc.messages})
        stash_errors(request, notification, _errors(exc, note))
        return _back(notification)
    except ScannerUnavailableError:
        log.error("answer to notification %s refused: virus scanning unavailable", notification.pk)
        stash_errors(
            request,
            notification,
            {
                "form": [
                    _(
                        "No pudimos revisar sus archivos con el antivirus en este momento, así "
                        "que no se presentó su respuesta. Inténtelo de nuevo en unos minutos."
                    )
                ],
                "note_value": note[:2000],
            },
        )
        return _back(notification)
    messages.success(
        request,
        _("Su respuesta fue presentada. Descargue y guarde su cargo de presentación."),
    )
    return _back(notification)


def too_many_files(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase | None:
    """More files than DATA_UPLOAD_MAX_NUMBER_FILES: Django stops reading the form (in the CSRF
    check, before the view) and calls the 400 handler, which asks this hook (ui.views). The
    person's own request gets the page's per-observation limit, as for any answer refused; what
    was typed is lost with the rest of the form. None: not the person's, the plain 400 page."""
    user = request.user
    if not isinstance(user, User) or not user.is_person:
        return None
    try:
        notification = _own(request, public_id)
    except Http404:
        return None
    limit = settings.BUZON_ANSWER_FILES_PER_ITEM
    stash_errors(
        request,
        notification,
        {
            "form": [
                _("No se presentó su respuesta: envió demasiados archivos a la vez."),
                _("Puede adjuntar como máximo %(n)d archivos por observación.") % {"n": limit},
            ]
        },
    )
    return _back(notification)


answer.too_many_files = too_many_files  # type: ignore[attr-defined]


@never_cache
@person_required
def receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    notification = _own(request, public_id)
    try:
        answer = Answer.objects.get(request__notification=notification)
    except Answer.DoesNotExist:
        raise Http404 from None
    return receipt_response(answer, notification)


def receipt_response(answer: Answer, notification: Notification) -> FileResponse:
    response = FileResponse(
        answer.receipt.open("rb"),
        as_attachment=True,
        filename=f"cargo-subsanacion-{notification.procedure.number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
