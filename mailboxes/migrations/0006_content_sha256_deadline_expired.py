from django.db import migrations, models


def backfill_content_hashes(apps, schema_editor):
    # The canonical content of mailboxes.actions.content_sha256(), frozen here as it was
    # when this migration was written.
    import hashlib
    import json

    Notification = apps.get_model("mailbox", "Notification")
    rows = Notification.objects.select_related("procedure", "person", "unit").order_by("pk")
    for n in rows.iterator(chunk_size=500):
        canonical = {
            "id": str(n.public_id),
            "procedure": n.procedure.number,
            "person": n.person.username,
            "unit": n.unit.code,
            "authority": n.authority,
            "authority_address": n.authority_address,
            "kind": n.kind,
            "subject": n.subject,
            "body": n.body_markdown,
            "ends_administrative_route": n.ends_administrative_route,
            "appeals": n.appeals,
            "response_business_days": n.response_business_days,
        }
        encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        n.content_sha256 = hashlib.sha256(encoded.encode()).hexdigest()
        n.save(update_fields=["content_sha256"])


class Migration(migrations.Migration):
    dependencies = [
        ("mailbox", "0005_pending_until"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="content_sha256",
            field=models.CharField(default="", max_length=64, verbose_name="SHA-256 del contenido"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="deadline_expired_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("deadline_expired_at__isnull", True)),
                fields=["deadline_date"],
                name="notif_deadline_due",
            ),
        ),
        migrations.RunPython(backfill_content_hashes, migrations.RunPython.noop),
    ]
