"""Appending to the evidence record. The only writer of evidence.Event."""

from __future__ import annotations

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
    if not transaction.get_connection().in_atomic_block:
        raise EvidenceOutsideTransactionError(f"{kind} recorded outside a transaction")
    return Event.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        person=person,
        procedure=procedure,
        notification=notification,
        data=data or {},
    )
