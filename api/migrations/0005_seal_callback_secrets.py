"""Seal the webhook signing secrets stored in the clear.

The sealing is written out here, as buzon/secretbox.py does it today (Fernet under a key
derived from BUZON_FILE_ENCRYPTION_KEY for this purpose), so that this migration keeps doing
what it did if that module changes.
"""

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import migrations


def _fernet() -> Fernet:
    key = f"buzon-webhook-secrets:{settings.FILE_ENCRYPTION_KEY}".encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key).digest()))


def seal(apps: Any, schema_editor: Any) -> None:
    ApiClient = apps.get_model("api", "ApiClient")
    fernet = _fernet()
    for client in ApiClient.objects.exclude(callback_secret=""):
        client.sealed_callback_secret = fernet.encrypt(client.callback_secret.encode())
        client.save(update_fields=["sealed_callback_secret"])


def unseal(apps: Any, schema_editor: Any) -> None:
    """Back to the clear; a secret sealed under another key is left empty (rotate it)."""
    ApiClient = apps.get_model("api", "ApiClient")
    fernet = _fernet()
    for client in ApiClient.objects.exclude(sealed_callback_secret=b""):
        try:
            client.callback_secret = fernet.decrypt(bytes(client.sealed_callback_secret)).decode()
        except InvalidToken:
            client.callback_secret = ""
        client.save(update_fields=["callback_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0004_apiclient_sealed_callback_secret"),
    ]

    operations = [
        migrations.RunPython(seal, unseal),
    ]
