"""Webhook signing secrets, kept encrypted from now on (buzon/secretbox.py)."""

from typing import Any

from django.db import migrations, models

from buzon import secretbox


def seal_secrets(apps: Any, schema_editor: Any) -> None:
    ApiClient = apps.get_model("api", "ApiClient")
    for client in ApiClient.objects.exclude(callback_secret=""):
        client.sealed_callback_secret = secretbox.seal(
            secretbox.WEBHOOK_SECRETS, client.callback_secret.encode()
        )
        client.save(update_fields=["sealed_callback_secret"])


def unseal_secrets(apps: Any, schema_editor: Any) -> None:
    ApiClient = apps.get_model("api", "ApiClient")
    for client in ApiClient.objects.exclude(sealed_callback_secret=b""):
        client.callback_secret = secretbox.unseal(
            secretbox.WEBHOOK_SECRETS, client.sealed_callback_secret
        ).decode()
        client.save(update_fields=["callback_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="apiclient",
            name="sealed_callback_secret",
            field=models.BinaryField(blank=True, default=b"", editable=False),
        ),
        migrations.RunPython(seal_secrets, unseal_secrets),
        migrations.RemoveField(
            model_name="apiclient",
            name="callback_secret",
        ),
    ]
