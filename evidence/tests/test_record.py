import pytest
from django.db import transaction

from evidence.actions import EvidenceOutsideTransactionError, record
from evidence.models import Event, EventKind

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_event_cannot_be_written_outside_a_transaction():
    with pytest.raises(EvidenceOutsideTransactionError):
        record(EventKind.PASSWORD_CHANGED, actor=None)
    assert Event.objects.count() == 0


def test_an_event_rolls_back_with_the_change_it_records():
    with pytest.raises(RuntimeError), transaction.atomic():
        record(EventKind.PASSWORD_CHANGED, actor=None)
        raise RuntimeError("the state change failed")
    assert Event.objects.count() == 0
