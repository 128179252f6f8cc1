"""The evidence log becomes a hash chain (docs/evidence.md).

Existing events are chained, in id order, on lane 0, with their recorded time and data; then
the old `data` column goes (an entry's data now lives in its canonical JSON). The append-only
triggers are installed after every migrate by evidence.apps (a SQLite table rebuild drops
them), so they are not created here.
"""

from django.conf import settings
from django.db import migrations, models


def chain_existing_events(apps, schema_editor):
    from evidence import chain

    Event = apps.get_model("evidence", "Event")
    Attachment = apps.get_model("mailbox", "Attachment")
    ChainHead = apps.get_model("evidence", "ChainHead")
    seq, prev = 0, chain.GENESIS
    for event in Event.objects.select_related("notification").order_by("pk").iterator(500):
        seq += 1
        notification = event.notification
        hashes = (
            list(
                Attachment.objects.filter(notification_id=notification.pk)
                .order_by("pk")
                .values_list("sha256", flat=True)
            )
            if notification
            else None
        )
        canonical = chain.dumps(
            chain.entry_body(
                lane=0,
                seq=seq,
                prev=prev,
                at=event.occurred_at,
                kind=event.kind,
                actor=event.actor_id,
                person=event.person_id,
                procedure=event.procedure_id,
                notification=event.notification_id,
                content_sha256=notification.content_sha256 if notification else None,
                attachments_sha256=hashes,
                data=event.data or {},
            )
        )
        event.lane, event.seq, event.prev_hash = 0, seq, prev
        event.canonical = canonical
        event.hash = prev = chain.sha256_hex(canonical)
        event.save(update_fields=["lane", "seq", "prev_hash", "canonical", "hash"])
    if seq:
        ChainHead.objects.update_or_create(lane=0, defaults={"seq": seq, "hash": prev})


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_event_notification"),
        ("mailbox", "0006_content_sha256_deadline_expired"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("lane", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "cabeza de carril",
                "verbose_name_plural": "cabezas de carril",
            },
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(unique=True, verbose_name="número")),
                ("created_at", models.DateTimeField(verbose_name="fecha y hora")),
                ("statement", models.TextField(verbose_name="declaración firmada (JSON canónico)")),
                ("hash", models.CharField(max_length=64, unique=True, verbose_name="hash de la declaración")),
                ("merkle_root", models.CharField(max_length=64, verbose_name="raíz de Merkle")),
                ("entries", models.PositiveBigIntegerField(verbose_name="entradas selladas")),
                ("key_id", models.CharField(max_length=32, verbose_name="clave")),
                ("signature", models.CharField(max_length=128, verbose_name="firma Ed25519 (hex)")),
                ("timestamp_token", models.BinaryField(blank=True, null=True, verbose_name="sello de tiempo RFC 3161")),
            ],
            options={
                "verbose_name": "punto de control",
                "verbose_name_plural": "puntos de control",
                "ordering": ["number"],
            },
        ),
        migrations.AddField(
            model_name="event",
            name="lane",
            field=models.PositiveSmallIntegerField(null=True, verbose_name="carril"),
        ),
        migrations.AddField(
            model_name="event",
            name="seq",
            field=models.PositiveBigIntegerField(null=True, verbose_name="número de secuencia"),
        ),
        migrations.AddField(
            model_name="event",
            name="canonical",
            field=models.TextField(default="", verbose_name="entrada canónica (JSON)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="event",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="hash de la entrada anterior"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="event",
            name="hash",
            field=models.CharField(max_length=64, null=True, verbose_name="hash (SHA-256)"),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.RemoveField(model_name="event", name="data"),
        migrations.AlterField(
            model_name="event",
            name="lane",
            field=models.PositiveSmallIntegerField(verbose_name="carril"),
        ),
        migrations.AlterField(
            model_name="event",
            name="seq",
            field=models.PositiveBigIntegerField(verbose_name="número de secuencia"),
        ),
        migrations.AlterField(
            model_name="event",
            name="hash",
            field=models.CharField(max_length=64, unique=True, verbose_name="hash (SHA-256)"),
        ),
        migrations.AlterField(
            model_name="event",
            name="kind",
            field=models.CharField(choices=[("procedure_registered", "Trámite registrado"), ("credentials_issued", "Credenciales emitidas"), ("credentials_reissued", "Credenciales reemitidas"), ("password_changed", "Contraseña cambiada"), ("receipt_downloaded", "Constancia descargada"), ("notification_deposited", "Notificación depositada"), ("notification_effective", "Fecha de efecto determinada"), ("notification_opened", "Acuse de lectura"), ("notification_viewed", "Notificación consultada"), ("attachment_downloaded", "Adjunto descargado"), ("notification_rejected", "Notificación rechazada por plazo"), ("deadline_expired", "Plazo vencido"), ("alert_attempted", "Intento de alerta fallido; se reintentará"), ("alert_sent", "Alerta enviada"), ("alert_failed", "Alerta fallida"), ("notification_answered", "Respuesta presentada"), ("dates_recalculated", "Fechas recalculadas por cambio de calendario"), ("contact_verified", "Contacto para alertas verificado"), ("receipt_credentials_purged", "Copia con credenciales eliminada")], max_length=40, verbose_name="tipo"),
        ),
        migrations.AlterField(
            model_name="event",
            name="occurred_at",
            field=models.DateTimeField(db_index=True, verbose_name="fecha y hora"),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(fields=("lane", "seq"), name="evidence_event_lane_seq"),
        ),
    ]
