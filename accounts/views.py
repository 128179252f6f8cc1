from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from accounts.actions import (
    change_password,
    complete_password_reset,
    start_password_reset,
    valid_reset,
)
from accounts.forms import (
    BuzonPasswordChangeForm,
    PersonLoginForm,
    RecoveryCodeForm,
    RecoveryPasswordForm,
    RecoveryStartForm,
)
from accounts.models import PasswordReset, User
from accounts.throttling import client_ip
from mailboxes.access import person_required, safe_buzon_path

log = logging.getLogger(__name__)

WRONG_CURRENT_MISSES_KEY = "buzon_old_password_misses"
WRONG_CURRENT_MISSES_ALLOWED = 5


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    # Back to the buzón page that sent the person here, if it is one (never elsewhere).
    after = safe_buzon_path(request.GET.get("next"), request) or "mailbox:home"
    if user.is_authenticated and isinstance(user, User) and user.is_person:
        return redirect(after)
    form = PersonLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        with transaction.atomic():  # session, last login and access log in one commit
            login(request, form.user)  # rotates the session key
        return redirect(after)
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


# --- ¿Olvidaste la contraseña? ---------------------------------------------------------------

RESET_PENDING_KEY = "buzon_reset_pending"  # the reset a typed code may open (SMS)
RESET_VERIFIED_KEY = "buzon_reset_verified"  # the reset whose link or code was right
# Every answer to a recovery request takes at least this long, whether or not the identity
# exists and whatever was sent, so the time says nothing either.
RECOVERY_ANSWER_SECONDS = 1.5


def _no_sooner_than(started: float) -> None:
    left = RECOVERY_ANSWER_SECONDS - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)


def _recovery_limited(request: HttpRequest, username: str) -> bool:
    """Per identity (5 an hour, 10 a day) and per client address (20 an hour). The daily cap
    bounds the guesses at SMS codes (5 tries each) to about 50 a day per identity."""
    try:
        by_identity = is_ratelimited(
            request,
            group="recovery.identity",
            key=lambda _group, _request: username,
            rate=f"{settings.BUZON_RECOVERY_PER_IDENTITY_PER_HOUR}/h",
            increment=True,
        )
        by_identity_daily = is_ratelimited(
            request,
            group="recovery.identity.day",
            key=lambda _group, _request: username,
            rate=f"{settings.BUZON_RECOVERY_PER_IDENTITY_PER_DAY}/d",
            increment=True,
        )
        by_ip = is_ratelimited(
            request,
            group="recovery.ip",
            key="ip",
            rate=f"{settings.BUZON_RECOVERY_PER_IP_PER_HOUR}/h",
            increment=True,
        )
    except Exception:
        log.exception("recovery rate limit not applied: the cache failed")
        return False
    return bool(by_identity or by_identity_daily or by_ip)


@csrf_protect
@never_cache
def recovery_start_view(request: HttpRequest) -> HttpResponse:
    form = RecoveryStartForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = time.monotonic()
        username = form.username()
        reset = None
        if not _recovery_limited(request, username):
            try:
                reset = start_password_reset(username, ip_address=client_ip(request))
            except Exception:
                log.exception("a password reset could not be sent")
        request.session[RESET_PENDING_KEY] = (
            reset.pk if reset is not None and reset.channel == PasswordReset.Channel.SMS else 0
        )
        request.session.pop(RESET_VERIFIED_KEY, None)
        _no_sooner_than(started)
        return redirect("accounts:recovery_sent")
    return render(request, "accounts/recovery_start.html", {"form": form})


@csrf_protect
@never_cache
def recovery_sent_view(request: HttpRequest) -> HttpResponse:
    form = RecoveryCodeForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        pending = int(request.session.get(RESET_PENDING_KEY) or 0)
        if pending and valid_reset(pending, form.cleaned_data["code"], link=False) is not None:
            request.session.cycle_key()
            request.session[RESET_VERIFIED_KEY] = pending
            return redirect("accounts:recovery_new")
        form.add_error("code", _("El código no es válido o ya venció."))
    return render(request, "accounts/recovery_sent.html", {"form": form})


def _link_limited(request: HttpRequest, *, count: bool) -> bool:
    """Opening recovery links, per client address (as many an hour as recovery requests)."""
    try:
        return bool(
            is_ratelimited(
                request,
                group="recovery.link",
                key="ip",
                rate=f"{settings.BUZON_RECOVERY_PER_IP_PER_HOUR}/h",
                increment=count,
            )
        )
    except Exception:
        log.exception("recovery link rate limit not applied: the cache failed")
        return False


@never_cache
def recovery_link_view(request: HttpRequest, reset_id: int, token: str) -> HttpResponse:
    """The link in the mail. Its address carries the token, so it only ever answers with a
    redirect: to the new-password page when the link is good, else to a page without the
    token that says why (Django logs every 4xx answer with its path, and a link refused only
    for the rate limit is still valid)."""
    if _link_limited(request, count=True) or valid_reset(reset_id, token, link=True) is None:
        return redirect("accounts:recovery_refused")
    request.session.cycle_key()
    request.session[RESET_VERIFIED_KEY] = reset_id
    return redirect("accounts:recovery_new")


@never_cache
def recovery_refused_view(request: HttpRequest) -> HttpResponse:
    """Where a refused link lands: 429 while this address is over the link limit (the link
    may still be good: try later), else 400 (used, expired or replaced)."""
    if _link_limited(request, count=False):
        return render(request, "accounts/recovery_invalid.html", {"limited": True}, status=429)
    return render(request, "accounts/recovery_invalid.html", status=400)


@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
def recovery_new_view(request: HttpRequest) -> HttpResponse:
    reset_id = int(request.session.get(RESET_VERIFIED_KEY) or 0)
    if not reset_id:
        return render(request, "accounts/recovery_invalid.html", status=400)
    form = RecoveryPasswordForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complete_password_reset(
                reset_id, form.cleaned_data["new_password1"], ip_address=client_ip(request)
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            request.session.pop(RESET_VERIFIED_KEY, None)
            request.session.pop(RESET_PENDING_KEY, None)
            messages.success(
                request, _("Listo: su contraseña cambió. Ingrese con su contraseña nueva.")
            )
            return redirect("accounts:login")
    return render(request, "accounts/recovery_new.html", {"form": form})
