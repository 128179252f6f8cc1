"""The procedure catalogue and the offices (sedes) of the immigration authority.

Real reference data, not demo data: it is safe to re-run and only adds missing rows.
"""

from django.db import migrations

PROCEDURE_TYPES = [
    ("CPP", "Regularización migratoria – Carné de Permiso Temporal de Permanencia (CPP)"),
    ("CMH", "Calidad migratoria humanitaria"),
    ("PRR", "Prórroga de residencia"),
    ("CCM", "Cambio de calidad migratoria"),
    ("NAT", "Nacionalidad peruana por naturalización"),
    ("PAS", "Expedición de pasaporte electrónico"),
    ("CE", "Expedición de Carné de Extranjería"),
]

OFFICES = [
    ("LM", "Sede central Lima", "Av. España 734, Breña, Lima"),
    ("CL", "Jefatura zonal Callao", ""),
    ("AQ", "Jefatura zonal Arequipa", ""),
    ("CH", "Jefatura zonal Chiclayo", ""),
    ("CU", "Jefatura zonal Cusco", ""),
    ("IQ", "Jefatura zonal Iquitos", ""),
    ("PI", "Jefatura zonal Piura", ""),
    ("PU", "Jefatura zonal Puno", ""),
    ("TC", "Jefatura zonal Tacna", ""),
    ("TR", "Jefatura zonal Trujillo", ""),
    ("TU", "Jefatura zonal Tumbes", ""),
]


def seed(apps, schema_editor):
    ProcedureType = apps.get_model("procedures", "ProcedureType")
    Office = apps.get_model("procedures", "Office")
    for code, name in PROCEDURE_TYPES:
        ProcedureType.objects.get_or_create(code=code, defaults={"name": name})
    for code, name, address in OFFICES:
        Office.objects.get_or_create(code=code, defaults={"name": name, "address": address})


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
