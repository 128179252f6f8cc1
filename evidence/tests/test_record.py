from unittest import mock

import pytest
from django.db import connection, transaction

from evidence.actions import EvidenceOutsideTransactionError, record
from evidence.models import Event, EventKind

pytestmark = pytest.mark.django_db


def test_an_event_cannot_be_written_outside_a_transaction():
    # The test itself runs inside a transaction; pretend we are in autocommit.
    with (
        mock.patch.object(connection, "in_atomic_block", False),
        pytest.raises(EvidenceOutsideTransactionError),
    ):
        record(EventKind.PASSWORD_CHANGED, actor=None)
    assert Event.objects.count() == 0


def _change_that_fails() -> None:
    with transaction.atomic():
        record(EventKind.PASSWORD_CHANGED, actor=None)
        raise RuntimeError("the state change failed")


def test_an_event_rolls_back_with_the_change_it_records():
    with pytest.raises(RuntimeError):
        _change_that_fails()
    assert Event.objects.count() == 0
