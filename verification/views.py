"""Public verification of documents by their code (no login)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from procedures.models import Receipt
from verification.codes import normalize_code


def _mask(name: str) -> str:
    """Show initials only: the code is semi-secret, but a page is easy to share."""
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


@never_cache
def verify(request: HttpRequest, code: str = "") -> HttpResponse:
    typed = request.GET.get("codigo", "")
    if typed and not code:
        canonical = normalize_code(typed)
        if canonical:
            return redirect("verification:verify_code", code=canonical)
        return render(
            request, "verification/verify.html", {"typed": typed, "malformed": True}, status=400
        )
    if not code:
        return render(request, "verification/verify.html", {})
    canonical = normalize_code(code)
    receipt = None
    if canonical:
        receipt = (
            Receipt.objects.select_related(
                "procedure__person", "procedure__procedure_type", "procedure__office"
            )
            .filter(verification_code=canonical)
            .first()
        )
    context = {
        "code": canonical or code,
        "receipt": receipt,
        "holder": _mask(receipt.procedure.person.full_name) if receipt else "",
    }
    return render(request, "verification/verify.html", context, status=200 if receipt else 404)
