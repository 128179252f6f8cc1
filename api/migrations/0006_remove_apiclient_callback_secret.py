from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_seal_callback_secrets"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="apiclient",
            name="callback_secret",
        ),
    ]
