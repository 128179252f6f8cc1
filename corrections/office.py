"""The officers' side: the queue of correction requests of their units, and the review of an
answer observation by observation."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import User
from backoffice.access import officer_required
from backoffice.notifications import units_of
from corrections.actions import Decision, item_key, review_answer
from corrections.models import AnswerFile, CorrectionItem, CorrectionRequest, RequestStatus
from corrections.views import receipt_response
from procedures.models import ProcedureStatus

QUEUE_LIMIT = 200
REVIEWER = "corrections.review_answer"


def _officer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _of_my_units(request: HttpRequest, public_id: uuid.UUID) -> CorrectionRequest:
    """The request of a notification of one of the officer's units; any other is a 404."""
    try:
        return CorrectionRequest.objects.select_related(
            "notification__procedure__procedure_type",
            "notification__person",
            "notification__unit",
            "follow_up",
            "reviewed_by",
        ).get(
            notification__public_id=public_id,
            notification__unit__in=units_of(_officer(request)),
        )
    except CorrectionRequest.DoesNotExist:
        raise Http404 from None


def _by_item(exc: ValidationError, items: list[CorrectionItem]) -> dict[str, list[str]]:
    """review_answer()'s errors as the page shows them: by observation, and everything else
    (the follow-up deposit's refusal, keyed by its own fields) with the form's errors."""
    if not hasattr(exc, "error_dict"):
        return {NON_FIELD_ERRORS: list(exc.messages)}
    keys = {item_key(item.position) for item in items}
    errors: dict[str, list[str]] = {}
    for key, found in exc.message_dict.items():
        errors.setdefault(key if key in keys else NON_FIELD_ERRORS, []).extend(found)
    return errors


@never_cache
@officer_required(REVIEWER)
def queue(request: HttpRequest) -> HttpResponse:
    mine = CorrectionRequest.objects.filter(
        notification__unit__in=units_of(_officer(request))
    ).select_related("notification__procedure", "notification__person", "notification__unit")
    return render(
        request,
        "corrections/office/queue.html",
        {
            "answered": mine.filter(status=RequestStatus.ANSWERED)
            .select_related("answer")
            .order_by("answer__filed_at")[:QUEUE_LIMIT],
            "open": mine.filter(status=RequestStatus.OPEN).order_by(
                F("notification__deadline_date").asc(nulls_last=True), "id"
            )[:QUEUE_LIMIT],
            "expired": mine.filter(status=RequestStatus.EXPIRED).order_by("-expired_at")[:50],
            "reviewed": mine.filter(
                status__in=[RequestStatus.ACCEPTED, RequestStatus.PARTIALLY_MET]
            ).order_by("-reviewed_at")[:20],
            "today": timezone.localdate(),
            "now": timezone.now(),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@officer_required(REVIEWER)
def review(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    correction = _of_my_units(request, public_id)
    answer = getattr(correction, "answer", None)
    items = list(correction.items.order_by("position").prefetch_related("files"))
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = request.POST.dict()
        decisions = {
            item.position: Decision(
                {"met": True, "not_met": False}.get(
                    posted.get(f"{item_key(item.position)}-outcome", "")
                ),
                posted.get(f"{item_key(item.position)}-comment", ""),
            )
            for item in items
        }
        try:
            result = review_answer(correction, officer=_officer(request), decisions=decisions)
        except ValidationError as exc:
            errors = _by_item(exc, items)
        else:
            if result.follow_up is not None:
                messages.success(
                    request,
                    _(
                        "Revisión registrada. Se depositó una nueva solicitud de subsanación con "
                        "las observaciones no subsanadas."
                    ),
                )
            elif result.procedure_status == ProcedureStatus.OBSERVED:
                messages.success(
                    request,
                    _(
                        "Revisión registrada: todo subsanado. El trámite sigue observado: tiene "
                        "otra subsanación pendiente."
                    ),
                )
            elif result.procedure_status == ProcedureStatus.NOT_FILED:
                messages.success(
                    request,
                    _(
                        "Revisión registrada: todo subsanado. El trámite sigue como no "
                        "presentado: venció el plazo de otra subsanación."
                    ),
                )
            else:
                messages.success(
                    request, _("Revisión registrada: todo subsanado. El trámite continúa.")
                )
            return redirect("corrections_office:review", public_id=public_id)
    rows = [
        {
            "item": item,
            "key": item_key(item.position),
            "outcome": posted.get(f"{item_key(item.position)}-outcome", ""),
            "comment": posted.get(f"{item_key(item.position)}-comment", item.comment),
            "errors": errors.get(item_key(item.position), []),
        }
        for item in items
    ]
    return render(
        request,
        "corrections/office/review.html",
        {
            "correction": correction,
            "n": correction.notification,
            "answer": answer,
            "rows": rows,
            "errors": errors.get(NON_FIELD_ERRORS, []),
            "has_errors": bool(errors),
            "reviewable": answer is not None and correction.status == RequestStatus.ANSWERED,
            "today": timezone.localdate(),
        },
        status=400 if errors else 200,
    )


@never_cache
@officer_required(REVIEWER)
def receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    correction = _of_my_units(request, public_id)
    answer = getattr(correction, "answer", None)
    if answer is None:
        raise Http404
    return receipt_response(answer, correction.notification)


@never_cache
@officer_required(REVIEWER)
def download(request: HttpRequest, public_id: uuid.UUID, file_id: uuid.UUID) -> HttpResponseBase:
    correction = _of_my_units(request, public_id)
    try:
        row = AnswerFile.objects.get(public_id=file_id, answer__request=correction)
    except AnswerFile.DoesNotExist:
        raise Http404 from None
    response = FileResponse(
        row.file.open("rb"),
        as_attachment=True,
        filename=row.original_name,
        content_type=row.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
