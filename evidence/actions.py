"""Appending to the evidence record. The only writer of evidence.Event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from evidence.models import Event, EventKind

if TYPE_CHECKING:
    from accounts.models import User
    from mailboxes.models import Notification
    from people.models import Person
    from procedures.models import Procedure


class EvidenceOutsideTransactionError(RuntimeError):
    """An event must be written in the same transaction as the change it records."""


def record(
    kind: EventKind,
    *,
    actor: User | None,
    person: Person | None = None,
    procedure: Procedure | None = None,
    notification: Notification | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    spec = EventSpec(kind, actor, person, procedure, notification, data or {})
    return record_many([spec])[0]


@dataclass(frozen=True)
class EventSpec:
    kind: EventKind
    actor: User | None
    person: Person | None = None
    procedure: Procedure | None = None
    notification: Notification | None = None
    data: dict[str, Any] = field(default_factory=dict)


def record_many(events: list[EventSpec]) -> list[Event]:
    """Append several events in one statement, in the caller's transaction (bulk deposits)."""
    if not transaction.get_connection().in_atomic_block:
        raise EvidenceOutsideTransactionError("events recorded outside a transaction")
    return Event.objects.bulk_create(
        [
            Event(
                kind=e.kind,
                actor=e.actor if e.actor is not None and e.actor.pk else None,
                person=e.person,
                procedure=e.procedure,
                notification=e.notification,
                data=e.data,
            )
            for e in events
        ]
    )


def about(
    notification: Notification, kind: EventKind, *, actor: User | None, data: dict[str, Any]
) -> EventSpec:
    """An event about a notification: it always names the notification's person and procedure."""
    return EventSpec(
        kind,
        actor,
        person=notification.person,
        procedure=notification.procedure,
        notification=notification,
        data=data,
    )


def record_about(
    notification: Notification, kind: EventKind, *, actor: User | None, data: dict[str, Any]
) -> Event:
    """Record an event about a notification, in the caller's transaction."""
    return record_many([about(notification, kind, actor=actor, data=data)])[0]
