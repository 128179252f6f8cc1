"""Pages of the site itself, not of any app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its session ended (logged out, timed out, or the Back button): say so
    in the site's own page, in the person's language, instead of Django's technical one."""
    return render(request, "403_csrf.html", status=403)
