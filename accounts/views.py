from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.actions import change_password
from accounts.forms import BuzonPasswordChangeForm, PersonLoginForm
from accounts.models import User
from mailboxes.access import person_required

WRONG_CURRENT_MISSES_KEY = "buzon_old_password_misses"
WRONG_CURRENT_MISSES_ALLOWED = 5


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and isinstance(user, User) and user.is_person:
        return redirect("mailbox:home")
    form = PersonLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        with transaction.atomic():  # session, last login and access log in one commit
            login(request, form.user)  # rotates the session key
        return redirect("mailbox:home")
    return render(request, "accounts/login.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("Cerró sesión. Gracias por revisar su buzón."))
    return redirect("accounts:login")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@person_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    form = BuzonPasswordChangeForm(request.user, data=request.POST or None)
    if request.method == "POST" and not form.is_valid() and "old_password" in form.errors:
        # Guessing the current password from an open session: a few tries, then out.
        misses = request.session.get(WRONG_CURRENT_MISSES_KEY, 0) + 1
        request.session[WRONG_CURRENT_MISSES_KEY] = misses
        if misses >= WRONG_CURRENT_MISSES_ALLOWED:
            logout(request)
            messages.error(
                request,
                _("Por su seguridad cerramos la sesión. Ingrese de nuevo con su contraseña."),
            )
            return redirect("accounts:login")
    if request.method == "POST" and form.is_valid():
        change_password(request.user, form.cleaned_data["new_password1"], actor=request.user)
        # Keep this session; every other session of the person is now invalid.
        update_session_auth_hash(request, request.user)
        messages.success(
            request,
            _("Su contraseña fue cambiada. Se cerraron las demás sesiones abiertas de su buzón."),
        )
        return redirect("mailbox:home")
    return render(request, "accounts/password_change.html", {"form": form})
