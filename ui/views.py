"""Pages of the site itself, not of any app."""

from django.core.exceptions import TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import Resolver404, resolve


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its session ended (logged out, timed out, or the Back button): say so
    in the site's own page, in the person's language, instead of Django's technical one."""
    return render(request, "403_csrf.html", status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """handler400: a request Django refused before or in its view (a form with more files or
    fields than the settings allow, a body too large, a forged Host). The site's own page, in
    the person's language. A view may take over the case of too many files with a
    `too_many_files(request, **kwargs)` attribute (the answer to a correction request sends the
    person back to the form with the limit); Django has read no field of that form by then."""
    if isinstance(exception, TooManyFilesSent):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        hook = getattr(match.func, "too_many_files", None) if match else None
        response = hook(request, *match.args, **match.kwargs) if hook and match else None
        if isinstance(response, HttpResponseBase):
            return response
    return render(
        request,
        "400.html",
        {"too_many_files": isinstance(exception, TooManyFilesSent)},
        status=400,
    )
