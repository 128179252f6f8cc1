"""Values kept encrypted at rest, because the buzón must read them again: constancias (which
carry the only copy of a new password) and webhook signing secrets (which must sign).

Fernet (AES-128-CBC + HMAC-SHA256) under BUZON_FILE_ENCRYPTION_KEY, with a key derived for
each purpose, so that a database dump alone reveals neither. If that key is replaced, what was
sealed under the old one can no longer be read: `UnreadableError` says so.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

FILES = "buzon-files"  # constancias (procedures.receipts); the first purpose, kept as it was
WEBHOOK_SECRETS = "buzon-webhook-secrets"


class UnreadableError(ValueError):
    """Sealed under another BUZON_FILE_ENCRYPTION_KEY, or damaged."""


def _fernet(purpose: str) -> Fernet:
    key = hashlib.sha256(f"{purpose}:{settings.FILE_ENCRYPTION_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(purpose: str, data: bytes) -> bytes:
    return _fernet(purpose).encrypt(data)


def unseal(purpose: str, token: bytes | memoryview) -> bytes:
    try:
        return _fernet(purpose).decrypt(bytes(token))
    except InvalidToken:
        raise UnreadableError(
            f"cannot decrypt this {purpose} value: it was sealed under another "
            "BUZON_FILE_ENCRYPTION_KEY, or it is damaged"
        ) from None
