"""Correction notifications deposited before this app gave them rows get their request now:
open (the expiry hook acts from here on), with the items their details list, or one general
item described by the subject."""

from django.db import migrations


def backfill(apps, schema_editor):
    Notification = apps.get_model("mailbox", "Notification")
    CorrectionRequest = apps.get_model("corrections", "CorrectionRequest")
    CorrectionItem = apps.get_model("corrections", "CorrectionItem")
    pending = Notification.objects.filter(kind="correction", correction__isnull=True)
    for notification in pending.iterator():
        listed = (notification.details or {}).get("items") or []
        request = CorrectionRequest.objects.create(notification=notification, general=not listed)
        if not listed:
            CorrectionItem.objects.create(
                request=request, position=1, description=notification.subject[:500]
            )
        for position, item in enumerate(listed, start=1):
            CorrectionItem.objects.create(
                request=request,
                position=position,
                description=item["description"],
                document_kind=item["document_kind"],
            )


class Migration(migrations.Migration):
    dependencies = [("corrections", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
