"""What a kind of notification carries beyond its text, and what it sets up when deposited.

An app that gives a kind its meaning registers, in its AppConfig.ready():

- `check(details, procedure)`: validates the caller's details for that kind and returns them
  in canonical, JSON-ready form (amounts as strings, dates as ISO strings); raises
  ValidationError with the messages to show. Runs with the rest of check_notification(), so
  nothing is written when it fails. The result is stored in Notification.details and is part
  of the canonical content (what was notified).
- `materialize(notifications)`: creates the app's own rows for freshly deposited
  notifications of that kind (items to answer, debts, installments). Runs inside the deposit's
  transaction, after the notifications are saved, for one deposit or a whole batch.

- `deadline_expired(notification)` (optional): what the kind's rules make of a response
  deadline that ran out with no answer (a correction request: the procedure counts as not
  filed, art. 136.4). Runs inside the transaction that records `deadline_expired`.
- `deadline_reopened(notification)` (optional): undoes that when a change to the calendar (a
  day decreed non-working) moves an expired deadline back to today or later. Runs inside the
  transaction that records `dates_recalculated`.

- `panel(notification, request)` (optional): what the notification page shows for the kind
  once opened (the answer form of a correction request, what a fine or plan asks to pay):
  a template name and its context, or None.

Kinds nobody registered take no details.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from mailboxes.models import Notification
    from procedures.models import Procedure


@dataclass(frozen=True)
class KindRules:
    check: Callable[[Mapping[str, Any] | None, Procedure], dict[str, Any]]
    materialize: Callable[[list[Notification]], None]
    deadline_expired: Callable[[Notification], None] | None = None
    deadline_reopened: Callable[[Notification], None] | None = None
    panel: Callable[[Notification, HttpRequest], Panel | None] | None = None


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]


REGISTRY: dict[str, KindRules] = {}


def register(kind: str, rules: KindRules) -> None:
    REGISTRY[kind] = rules


def materialize(notifications: list[Notification]) -> None:
    by_kind: dict[str, list[Notification]] = {}
    for notification in notifications:
        if notification.kind in REGISTRY:
            by_kind.setdefault(notification.kind, []).append(notification)
    for kind, group in by_kind.items():
        REGISTRY[kind].materialize(group)


def deadline_expired(notification: Notification) -> None:
    rules = REGISTRY.get(notification.kind)
    if rules is not None and rules.deadline_expired is not None:
        rules.deadline_expired(notification)


def deadline_reopened(notification: Notification) -> None:
    rules = REGISTRY.get(notification.kind)
    if rules is not None and rules.deadline_reopened is not None:
        rules.deadline_reopened(notification)


def panel(notification: Notification, request: HttpRequest) -> Panel | None:
    rules = REGISTRY.get(notification.kind)
    if rules is None or rules.panel is None:
        return None
    return rules.panel(notification, request)
