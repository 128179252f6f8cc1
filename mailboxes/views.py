from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from mailboxes.access import current_person, person_required


@never_cache
@person_required
def casilla(request: HttpRequest) -> HttpResponse:
    """Casilla electrónica → Notificaciones: the first thing a person sees after logging in."""
    person = current_person(request)
    procedures = person.procedures.select_related("procedure_type").order_by("-filing_date", "-id")
    return render(request, "mailbox/casilla.html", {"person": person, "procedures": procedures})
