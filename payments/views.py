"""The person's side: a debt with its payments, and each payment's receipt (constancia).

Every query starts from the person behind the session, so anyone else's debt or receipt is a
404. What a fine or plan asks to pay is part of the notification's content: until the
notification is opened (the acuse), these pages send the person to it.
"""

from __future__ import annotations

import uuid

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from mailboxes.access import current_person, person_required
from payments.kinds import card_context, with_payments
from payments.models import Debt, Payment
from people.models import Person


def _own_debt(person: Person, code: str) -> Debt:
    try:
        return with_payments(
            Debt.objects.select_related(
                "notification__unit", "notification__procedure", "plan__notification"
            )
        ).get(person=person, payment_code=code)
    except Debt.DoesNotExist:
        raise Http404 from None


@never_cache
@person_required
def debt(request: HttpRequest, code: str) -> HttpResponse:
    person = current_person(request)
    item = _own_debt(person, code)
    notification = item.notification
    if notification.opened_at is None:
        return redirect("mailbox:detail", public_id=notification.public_id)
    context = card_context(
        notification, [item], plan=item.plan, today=timezone.localdate(), single=True
    )
    return render(request, "payments/debt.html", {"person": person, "debt": item, "panel": context})


@never_cache
@person_required
def receipt(request: HttpRequest, code: str, payment_id: uuid.UUID) -> HttpResponseBase:
    person = current_person(request)
    try:
        payment = Payment.objects.select_related("debt__notification").get(
            public_id=payment_id, debt__payment_code=code, debt__person=person
        )
    except Payment.DoesNotExist:
        raise Http404 from None
    notification = payment.debt.notification
    if notification.opened_at is None:
        return redirect("mailbox:detail", public_id=notification.public_id)
    response = FileResponse(
        payment.receipt.open("rb"),
        as_attachment=True,
        filename=f"constancia-de-pago-{code}-{timezone.localtime(payment.paid_at):%Y%m%d}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
