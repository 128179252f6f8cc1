"""Keep the issuing authority and its address as notified (TUO Ley 27444 art. 24.1)."""

from django.db import migrations, models


def copy_from_units(apps, schema_editor):
    Notification = apps.get_model("mailbox", "Notification")
    for notification in Notification.objects.select_related("unit").iterator():
        notification.authority = notification.unit.authority
        notification.authority_address = notification.unit.address
        notification.save(update_fields=["authority", "authority_address"])


class Migration(migrations.Migration):
    dependencies = [("mailbox", "0002_seed_issuing_units")]
    operations = [
        migrations.AddField(
            model_name="notification",
            name="authority",
            field=models.CharField(default="", max_length=200, verbose_name="autoridad que emite"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="authority_address",
            field=models.CharField(
                default="", max_length=250, verbose_name="dirección de la autoridad"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(copy_from_units, migrations.RunPython.noop),
    ]
