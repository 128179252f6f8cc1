"""Test payments get a space of their own for their channel's transaction ids.

Until now (source, transaction_id) was unique across test and real payments, so a test API key
could take an operation number that the bank would later confirm for a real debt. The new
column marks a payment confirmed through a test key. Those already recorded are marked from
their debt: a test key could pay only the debts of test mailboxes, so a payment to such a debt
came through a test key (a live key could also pay one, which nobody is expected to have done).
Splitting one unique set in two keeps every existing row valid.
"""

from django.db import migrations, models


def mark_test_payments(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Payment.objects.filter(debt__person__is_test=True, is_test=False).update(is_test=True)


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0001_initial"),
        ("people", "0003_person_is_test"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="is_test",
            field=models.BooleanField(default=False, verbose_name="de prueba"),
        ),
        migrations.RunPython(mark_test_payments, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="payment",
            name="payment_once_per_channel",
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("source", "transaction_id", "is_test"), name="payment_once_per_channel"
            ),
        ),
    ]
