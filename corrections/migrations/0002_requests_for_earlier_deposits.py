"""Correction notifications deposited before this app gave them rows get their request now,
with the items their details list, or one general item described by the subject: open (the
expiry hook acts from here on), or expired when the notification's deadline already ran out
with no answer (its expiry was recorded before the hook existed, and will not be again). The
procedures are left as they are: this is history."""

from django.db import migrations


def backfill(apps, schema_editor):
    Notification = apps.get_model("mailbox", "Notification")
    CorrectionRequest = apps.get_model("corrections", "CorrectionRequest")
    CorrectionItem = apps.get_model("corrections", "CorrectionItem")
    pending = Notification.objects.filter(kind="correction", correction__isnull=True)
    for notification in pending.iterator():
        listed = (notification.details or {}).get("items") or []
        expired = (
            notification.deadline_expired_at is not None
            and notification.deadline_stopped_at is None
        )
        request = CorrectionRequest.objects.create(
            notification=notification,
            general=not listed,
            status="expired" if expired else "open",
            expired_at=notification.deadline_expired_at if expired else None,
        )
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
