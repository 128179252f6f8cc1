"""A payment is a test payment exactly when its debt is a test mailbox's.

Migration 0002 marked the payments it found by that rule, but until now the runtime marked a
payment by the key that sent it, and a live key could pay a test debt: such a payment was
recorded as a real one. apply_payment() now refuses a test debt's code to anyone but a test
key, and takes is_test from the debt, so the rule holds for every new payment; this applies it
again to the payments recorded between 0002 and now.

A misfiled payment whose (channel, transaction id) a test key has also used stays as it is:
both cannot be test payments (payment_once_per_channel), and no answer would be right for
both. None is expected.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef


def follow_the_debt(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    taken = Payment.objects.filter(
        is_test=True, source=OuterRef("source"), transaction_id=OuterRef("transaction_id")
    )
    Payment.objects.filter(debt__person__is_test=True, is_test=False).exclude(
        Exists(taken)
    ).update(is_test=True)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_claim_before_sending"),
    ]

    operations = [
        migrations.RunPython(follow_the_debt, migrations.RunPython.noop),
    ]
