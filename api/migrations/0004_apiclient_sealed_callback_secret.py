"""Webhook signing secrets are kept encrypted (buzon/secretbox.py): the column for them. The
plain column goes in 0006, once 0005 has sealed what it held; apart, so that on PostgreSQL no
schema change shares a transaction with the rows' updates."""

from django.db import migrations, models


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
    ]
