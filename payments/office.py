"""The officers' side: the debts of their units, with payments, and the review of flagged
payments. Officers see only their own units' debts (backoffice/notifications.py); any other
is a 404."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from backoffice.access import officer_required
from backoffice.notifications import units_of
from payments import codes
from payments.actions import PaymentRefused, review_payment
from payments.due import overdue_before
from payments.kinds import with_payments
from payments.models import Debt, Payment

PAGE_SIZE = 50
FILTERS = [
    ("", gettext_lazy("Todas")),
    ("observadas", gettext_lazy("Con pagos observados")),
    ("vencidas", gettext_lazy("Vencidas")),
    ("pendientes", gettext_lazy("Pendientes de pago")),
]


class DebtFilter(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Código de pago o número de trámite"), required=False, max_length=30
    )
    filtro = forms.ChoiceField(label=gettext_lazy("Mostrar"), required=False, choices=FILTERS)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Qué se hizo con este pago"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Por ejemplo: devolución solicitada, aplicado a otra deuda, pago completado después. "
            "Queda en el registro de evidencias, y el administrado la ve en la constancia de "
            "notificación."
        ),
    )


def _of_my_units(user: User) -> QuerySet[Debt]:
    return Debt.objects.filter(notification__unit__in=units_of(user))


@never_cache
@officer_required("payments.view_debt")
def debt_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    today = timezone.localdate()
    form = DebtFilter(request.GET or None)
    debts = _of_my_units(user).select_related(
        "person", "notification__procedure", "notification__unit", "plan"
    )
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            debts = debts.filter(
                Q(payment_code=codes.normalize(query))
                | Q(notification__procedure__number__iexact=query.upper())
            )
        chosen = form.cleaned_data["filtro"]
        if chosen == "observadas":
            debts = debts.filter(flagged=True)
        elif chosen == "vencidas":  # as Debt.is_overdue(): a lapsed balance never is
            debts = debts.filter(status__in=Debt.OPEN, due_date__lt=overdue_before(today)).exclude(
                kind=Debt.Kind.LAPSED_BALANCE
            )
        elif chosen == "pendientes":
            debts = debts.filter(status__in=Debt.OPEN)
    page = Paginator(debts.order_by("-flagged", "due_date", "id"), PAGE_SIZE).get_page(
        request.GET.get("pagina")
    )
    _mark_overdue(page.object_list, today)
    query_string = request.GET.copy()
    query_string.pop("pagina", None)
    return render(
        request,
        "payments/office/list.html",
        {"form": form, "page": page, "query_string": query_string.urlencode()},
    )


def _mark_overdue(debts: Iterable[Debt], today: date) -> None:
    """Set `overdue` on each debt the page shows, by the one rule (`Debt.is_overdue()`)."""
    cutoff = overdue_before(today)
    for debt in debts:
        debt.overdue = debt.is_overdue(today, cutoff=cutoff)  # type: ignore[attr-defined]


def _my_debt(request: HttpRequest, code: str) -> Debt:
    user = request.user
    assert isinstance(user, User)
    try:
        return with_payments(
            _of_my_units(user).select_related(
                "person",
                "notification__procedure",
                "notification__unit",
                "plan__notification",
                "plan__lapse_notification",
            )
        ).get(payment_code=code)
    except Debt.DoesNotExist:
        raise Http404 from None


@never_cache
@officer_required("payments.view_debt")
def debt_detail(request: HttpRequest, code: str) -> HttpResponse:
    debt = _my_debt(request, code)
    return _detail_page(request, debt)


def _detail_page(
    request: HttpRequest,
    debt: Debt,
    review: tuple[uuid.UUID, ReviewForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    plan_debts = (
        list(debt.plan.debts.order_by("kind", "number", "id")) if debt.plan is not None else []
    )
    _mark_overdue([debt, *plan_debts], timezone.localdate())
    payments = list(debt.payments.all())
    forms_by_payment = {
        p.public_id: (
            review[1] if review and review[0] == p.public_id else ReviewForm(prefix=f"p{p.pk}")
        )
        for p in payments
        if p.needs_review
    }
    return render(
        request,
        "payments/office/detail.html",
        {
            "debt": debt,
            "n": debt.notification,
            "plan": debt.plan,
            "plan_debts": plan_debts,
            "payments": [(p, forms_by_payment.get(p.public_id)) for p in payments],
            "reminders": debt.reminders.all(),
        },
        status=status,
    )


@never_cache
@require_POST
@officer_required("payments.view_debt", "payments.resolve_payment")
def review(request: HttpRequest, code: str, payment_id: uuid.UUID) -> HttpResponse:
    debt = _my_debt(request, code)
    try:
        payment = debt.payments.get(public_id=payment_id)
    except Payment.DoesNotExist:
        raise Http404 from None
    user = request.user
    assert isinstance(user, User)
    form = ReviewForm(request.POST, prefix=f"p{payment.pk}")
    if form.is_valid():
        try:
            review_payment(payment, actor=user, note=form.cleaned_data["note"])
        except PaymentRefused as exc:
            for message in exc.errors.get("note", []):
                form.add_error("note", message)
        else:
            messages.success(request, _("Pago marcado como revisado."))
            return redirect("payments_office:debt", code=debt.payment_code)
    return _detail_page(request, debt, review=(payment.public_id, form), status=400)
