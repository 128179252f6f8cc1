"""The immigration authority's issuing units. Reference data; re-running only adds what is missing."""

from django.db import migrations

ADDRESS = "Av. España 734, Breña, Lima"
UNITS = [
    ("GSM", "Gerencia de Servicios Migratorios", "Gerencia de Servicios Migratorios"),
    ("SIN", "Subgerencia de Inmigración y Nacionalización", "Subgerencia de Inmigración y Nacionalización"),
    ("SDV", "Subgerencia de Documentos de Viaje", "Subgerencia de Documentos de Viaje"),
    ("SFM", "Subgerencia de Fiscalización Migratoria", "Subgerencia de Fiscalización Migratoria"),
]


def seed(apps, schema_editor):
    IssuingUnit = apps.get_model("mailbox", "IssuingUnit")
    for code, name, authority in UNITS:
        IssuingUnit.objects.get_or_create(
            code=code, defaults={"name": name, "authority": authority, "address": ADDRESS}
        )


class Migration(migrations.Migration):
    dependencies = [("mailbox", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
