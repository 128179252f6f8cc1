"""What Kind.CORRECTION means to mailboxes.kinds: its details, its rows, its expiry, its panel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from corrections import procedure_status
from corrections.models import CorrectionItem, CorrectionRequest

if TYPE_CHECKING:
    from mailboxes.models import Notification
    from procedures.models import Procedure

MAX_ITEMS = 20
MAX_DESCRIPTION = 500
MAX_DOCUMENT_KIND = 120


def check(details: Mapping[str, Any] | None, procedure: Procedure) -> dict[str, Any]:
    """{"items": [{"description": ..., "document_kind": ...}, ...]}, 1 to 20 items, stripped.
    No details at all is allowed: the request is then answered with one general upload."""
    if not details:
        return {}
    if not isinstance(details, Mapping) or set(details) != {"items"}:
        raise ValidationError(_("Indique las observaciones de la subsanación."), code="shape")
    items = details["items"]
    if not isinstance(items, list) or not items:
        raise ValidationError(_("Indique al menos una observación."), code="no_items")
    if len(items) > MAX_ITEMS:
        raise ValidationError(
            _("Puede indicar como máximo %(n)d observaciones.") % {"n": MAX_ITEMS},
            code="too_many",
        )
    errors: list[str] = []
    clean: list[dict[str, str]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not set(item) <= {"description", "document_kind"}:
            errors.append(_("La observación %(n)d no es válida.") % {"n": number})
            continue
        description = item.get("description")
        document_kind = item.get("document_kind")
        description = description.strip() if isinstance(description, str) else ""
        document_kind = document_kind.strip() if isinstance(document_kind, str) else ""
        if not description:
            errors.append(_("Describa la observación %(n)d.") % {"n": number})
        elif len(description) > MAX_DESCRIPTION:
            errors.append(
                _("La observación %(n)d puede tener como máximo %(max)d caracteres.")
                % {"n": number, "max": MAX_DESCRIPTION}
            )
        if not document_kind:
            errors.append(_("Indique qué documento subsana la observación %(n)d.") % {"n": number})
        elif len(document_kind) > MAX_DOCUMENT_KIND:
            errors.append(
                _(
                    "El documento de la observación %(n)d puede tener como máximo %(max)d "
                    "caracteres."
                )
                % {"n": number, "max": MAX_DOCUMENT_KIND}
            )
        if "\x00" in description or "\x00" in document_kind:
            errors.append(_("La observación %(n)d contiene caracteres no válidos.") % {"n": number})
        clean.append({"description": description, "document_kind": document_kind})
    if errors:
        raise ValidationError(errors)
    return {"items": clean}


def materialize(notifications: list[Notification]) -> None:
    """Each correction request with its items, in the deposit's transaction; then each
    procedure's status from all of its requests (`procedure_status.settle()`): observed while
    any is pending, and a procedure already not filed stays so. This has no event of its own:
    the deposit's `notification_deposited` entry is written right after, in the same
    transaction."""
    requests = [
        CorrectionRequest(notification=n, general=not (n.details or {}).get("items"))
        for n in notifications
    ]
    CorrectionRequest.objects.bulk_create(requests)
    items: list[CorrectionItem] = []
    for request, notification in zip(requests, notifications, strict=True):
        listed = (notification.details or {}).get("items") or []
        if not listed:
            # One implicit item: "what this notification observes".
            items.append(
                CorrectionItem(request=request, position=1, description=notification.subject)
            )
        for position, item in enumerate(listed, start=1):
            items.append(
                CorrectionItem(
                    request=request,
                    position=position,
                    description=item["description"],
                    document_kind=item["document_kind"],
                )
            )
    CorrectionItem.objects.bulk_create(items)
    for procedure_id in sorted({n.procedure_id for n in notifications}):  # one lock order
        procedure_status.settle(procedure_id)


def deadline_expired(notification: Notification) -> None:
    from corrections.actions import expire

    expire(notification)


def deadline_reopened(notification: Notification) -> None:
    from corrections.actions import reopen

    reopen(notification)
