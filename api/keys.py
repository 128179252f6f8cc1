"""Creating, checking and revoking API keys. The plaintext key exists only in the return
value of create_key(): the caller shows it once."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from api.models import ApiClient, ApiKey, Scope
from mailboxes.models import IssuingUnit

log = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"buzon_(live|test)_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")
# The last use is written at most this often, so a busy key is not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _same_name(name: str) -> models.QuerySet[ApiClient]:
    return ApiClient.objects.filter(name__iexact=name.strip()[:100])


def client_name_taken(name: str) -> bool:
    """Whether a system is already called `name`, whatever the case (for a form's message)."""
    return _same_name(name).exists()


def client_named(name: str, *, test: bool) -> tuple[ApiClient, bool]:
    """The system called `name`, whatever the case of its letters, made (test or live) if
    there is none: (client, created). Two systems never differ only by case."""
    name = name.strip()[:100]
    with transaction.atomic():
        existing = _same_name(name).select_for_update().first()
        if existing is not None:
            return existing, False
        return ApiClient.objects.create(name=name, is_test=test), True


def create_key(
    client: ApiClient, name: str, scopes: Iterable[str], *, actor: User | None
) -> tuple[ApiKey, str]:
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise ValueError(f"unknown or no scopes: {unknown or 'none'}")
    prefix = "".join(secrets.choice("abcdefghijkmnopqrstuvwxyz23456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    plaintext = f"buzon_{'test' if client.is_test else 'live'}_{prefix}_{secret}"
    key = ApiKey.objects.create(
        client=client,
        name=name[:100],
        prefix=prefix,
        key_hash=_hash(plaintext),
        scopes=scopes,
        created_by=actor,
    )
    return key, plaintext


def authenticate(raw: str) -> ApiKey | None:
    """The live key this bearer token is, or None. Constant-time on the secret."""
    match = KEY_PATTERN.fullmatch(raw or "")
    if match is None:
        return None
    key = (
        ApiKey.objects.select_related("client")
        .filter(prefix=match.group(2), revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)):
        return None
    if (match.group(1) == "test") != key.client.is_test:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def set_units(client: ApiClient, units: Iterable[IssuingUnit], *, actor: User | None) -> ApiClient:
    """The issuing units the client acts for from its next request: it deposits only in their
    name and reads, and gets the events of, only their notifications. None: neither."""
    units = list(units)
    before = sorted(client.units.values_list("code", flat=True))
    client.units.set(units)
    after = sorted(u.code for u in units)
    if after != before:
        log.info("units of %s set to %s (were %s) by %s", client, after, before, actor)
    return client


def revoke(key: ApiKey, *, actor: User | None) -> ApiKey:
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked
