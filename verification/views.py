"""Public verification of documents by their code or their PDF (no login).

Every outcome renders verification/verify.html, so an unknown, a malformed and another kind's
code look alike. Lookups and uploads are rate-limited per client address (ratelimit.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from verification.codes import normalize_code
from verification.documents import Found, by_code, by_sha256, effective_when_issued
from verification.ratelimit import limited
from verification.uploads import HashingUploadHandler, size_label, upload_error

TEMPLATE = "verification/verify.html"


def _mask(name: str) -> str:
    """Initials only ("M. A. G. R."), not even each name's length: the code is semi-secret, but
    a page is easy to share."""
    return " ".join(f"{part[0]}." for part in name.split())


def _page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    found: Found = context.setdefault("found", Found())
    context.setdefault("holder", _mask(found.holder_name))
    if found.certificate is not None:
        context["effective_when_issued"] = effective_when_issued(found.certificate)
    context.setdefault("upload_action", reverse("verification:verify"))
    context["max_size"] = size_label(settings.BUZON_VERIFY_UPLOAD_MAX_BYTES)
    return render(request, TEMPLATE, context, status=status)


@csrf_exempt  # checked by _verify, once the upload handler is in place (Django's upload docs)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, code: str = "") -> HttpResponse:
    handler = None
    if request.method == "POST":
        handler = HashingUploadHandler(request, settings.BUZON_VERIFY_UPLOAD_MAX_BYTES)
        request.upload_handlers = [handler]
    return _verify(request, code, handler)


@csrf_protect
def _verify(request: HttpRequest, code: str, handler: HashingUploadHandler | None) -> HttpResponse:
    if handler is None and not code:
        typed = request.GET.get("codigo", "")
        if not typed:
            return _page(request)
        canonical = normalize_code(typed)
        if canonical:
            return redirect("verification:verify_code", code=canonical)
        return _page(request, 400, typed=typed, malformed=True)

    if limited(request, "lookup" if handler is None else "upload"):
        return _page(request, 429, limited=True)

    found = Found()
    if code:
        canonical = normalize_code(code)
        found = by_code(canonical) if canonical else Found()
        if not found:
            return _page(request, 404, not_found=True, code=canonical)
    context: dict[str, Any] = {"found": found, "by_code": bool(code)}
    if code:
        context["upload_action"] = reverse("verification:verify_code", args=[canonical])
    if handler is None:
        return _page(request, **context)

    error = upload_error(handler)
    if error or handler.upload is None:
        return _page(request, 400, upload_error=error, **context)
    upload = handler.upload
    if code:
        context["matches"] = upload.sha256 == found.sha256
    else:
        context["found"] = by_sha256(upload.sha256)
        context["matches"] = bool(context["found"])
    return _page(request, upload=upload, **context)
