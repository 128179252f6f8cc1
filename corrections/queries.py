"""Read-only questions other pages ask about correction requests."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from corrections.models import CorrectionRequest, RequestStatus
from people.models import Person


def open_for(person: Person) -> QuerySet[CorrectionRequest]:
    """The person's correction requests that still await an answer and can be answered (their
    deadline has not passed), soonest deadline first, each with its notification
    (`request.notification`, `request.deadline`)."""
    today = timezone.localdate()
    return (
        CorrectionRequest.objects.filter(
            notification__person=person,
            status=RequestStatus.OPEN,
            notification__deadline_stopped_at__isnull=True,
        )
        .filter(
            Q(notification__deadline_date__isnull=True) | Q(notification__deadline_date__gte=today)
        )
        .select_related("notification__procedure", "notification__unit")
        .order_by(
            F("notification__deadline_date").asc(nulls_last=True), "notification__deposited_at"
        )
    )
