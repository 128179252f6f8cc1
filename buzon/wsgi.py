import os

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buzon.settings")


class Request(WSGIRequest):
    """A request whose Content-Type header cannot be read counts as a body of no known type.

    Django reads the header while it builds the request, before any middleware or view runs,
    and an RFC 2231 parameter naming an unknown charset (`boundary*=bogus''x`) raises there:
    a 500 on any URL. Treated as an unknown type, the body is simply not parsed, and each view
    answers as it does for a missing or wrong body (a form with its errors, a problem+json)."""

    def _set_content_type_params(self, meta: dict[str, str]) -> None:
        try:
            super()._set_content_type_params(meta)  # type: ignore[misc]
        except ValueError:
            self.content_type, self.content_params = "application/octet-stream", {}


def application_with_safe_requests() -> WSGIHandler:
    handler = get_wsgi_application()
    handler.request_class = Request
    return handler


application = application_with_safe_requests()
