"""Who may enter the buzón: a logged-in person, and only into their own casilla."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from accounts.models import User
from people.models import Person

View = Callable[..., HttpResponseBase]


def person_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not isinstance(user, User) or not user.is_person:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def current_person(request: HttpRequest) -> Person:
    """The person behind the session. Every buzón query starts here, never from a URL id."""
    assert isinstance(request.user, User)
    return Person.objects.get(user=request.user)
