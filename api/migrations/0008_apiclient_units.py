"""The issuing units an API client may act for. Until now a client acted for every unit, so
every existing client gets every existing unit: nothing that works today stops silently. An
operator should then narrow each client to its own units in /oficina/ Integraciones
(docs/api.md, docs/security.md). A client made from now on starts with none: it can deposit
nowhere and read nothing until it is given its units."""

from django.db import migrations, models


def every_unit_to_every_client(apps, schema_editor):
    ApiClient = apps.get_model("api", "ApiClient")
    IssuingUnit = apps.get_model("mailbox", "IssuingUnit")
    Through = ApiClient.units.through
    units = list(IssuingUnit.objects.values_list("pk", flat=True))
    Through.objects.bulk_create(
        [
            Through(apiclient_id=client, issuingunit_id=unit)
            for client in ApiClient.objects.values_list("pk", flat=True)
            for unit in units
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0007_idempotent_request_path_unbounded'),
        ('mailbox', '0009_notification_api_client'),
    ]

    operations = [
        migrations.AddField(
            model_name='apiclient',
            name='units',
            field=models.ManyToManyField(blank=True, related_name='api_clients', to='mailbox.issuingunit', verbose_name='unidades emisoras'),
        ),
        migrations.RunPython(every_unit_to_every_client, migrations.RunPython.noop),
    ]
