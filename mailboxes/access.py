"""Who may enter the buzón: a logged-in person, and only into their own casilla."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import User
from people.models import Person

View = Callable[..., HttpResponseBase]


def person_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return _to_login(request)
        if not isinstance(user, User) or not user.is_person:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def safe_buzon_path(url: str | None, request: HttpRequest) -> str | None:
    """`url` if it is a page of this site's buzón (never another site: no open redirect; never
    out of /buzon/ by dot segments, which browsers resolve even when percent-encoded)."""
    if not url or not url.startswith("/buzon/"):
        return None
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    path = unquote(urlsplit(url).path)
    if "\\" in path or any(segment in (".", "..") for segment in path.split("/")):
        return None
    return url


def _to_login(request: HttpRequest) -> HttpResponseBase:
    """To the login page, and back here afterwards. A form sent once the session had ended (15
    minutes idle) is lost: the person is told so, and comes back to the page it was sent from."""
    if request.method in ("GET", "HEAD"):
        return redirect_to_login(request.get_full_path())
    messages.warning(
        request,
        _(
            "Su sesión se cerró por seguridad tras un tiempo sin actividad, y lo que envió no "
            "se guardó. Ingrese otra vez y vuelva a enviarlo."
        ),
    )
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        referer = urlsplit(referer).path
    back = safe_buzon_path(referer, request) or reverse("mailbox:home")
    return redirect_to_login(back)


def current_person(request: HttpRequest) -> Person:
    """The person behind the session. Every buzón query starts here, never from a URL id."""
    assert isinstance(request.user, User)
    return Person.objects.get(user=request.user)
