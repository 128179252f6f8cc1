"""The correction request's part of the notification page (mailboxes.kinds panel)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from corrections.models import CorrectionRequest, RequestStatus
from corrections.uploads import ANSWER_MAX_TOTAL_BYTES
from mailboxes.kinds import Panel
from mailboxes.models import Notification

# Where the answer view leaves its errors (and the note typed) for the page it redirects to.
SESSION_KEY = "corrections_answer_errors"
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def stash_errors(request: HttpRequest, notification: Notification, errors: dict[str, Any]) -> None:
    stash = request.session.get(SESSION_KEY, {})
    stash[str(notification.public_id)] = errors
    request.session[SESSION_KEY] = stash


def _pop_errors(request: HttpRequest, notification: Notification) -> dict[str, Any]:
    stash = request.session.get(SESSION_KEY)
    if not stash or str(notification.public_id) not in stash:
        return {}
    errors: dict[str, Any] = stash.pop(str(notification.public_id))
    request.session[SESSION_KEY] = stash
    return errors


def panel(notification: Notification, request: HttpRequest) -> Panel | None:
    correction = (
        CorrectionRequest.objects.filter(notification=notification)
        .select_related("follow_up")
        .first()
    )
    if correction is None:
        return None
    correction.notification = notification
    answer = getattr(correction, "answer", None)
    items = list(correction.items.order_by("position").prefetch_related("files"))
    stashed = _pop_errors(request, notification)
    today = timezone.localdate()
    can_answer = correction.status == RequestStatus.OPEN and not correction.deadline_passed(today)
    item_errors = stashed.get("items", {})
    rows = [
        {
            "item": item,
            "field": f"item-{item.position}",
            "errors": item_errors.get(str(item.position), []),
        }
        for item in items
    ]
    return Panel(
        "corrections/panel.html",
        {
            "correction": correction,
            "answer": answer,
            "rows": rows,
            "can_answer": can_answer,
            "deadline_passed": correction.deadline_passed(today),
            "errors": stashed.get("form", []),
            "has_errors": bool(stashed),
            "note": stashed.get("note_value", ""),
            "note_errors": stashed.get("note", []),
            "max_files": settings.BUZON_ANSWER_FILES_PER_ITEM,
            "max_mb": f"{settings.BUZON_ANSWER_FILE_MAX_BYTES / 1_048_576:.0f}",
            "max_total_mb": f"{ANSWER_MAX_TOTAL_BYTES / 1_048_576:.0f}",
            "accept": ACCEPT,
            "today": today,
        },
    )
