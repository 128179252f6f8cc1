"""buzon.bulk.insert_new(): the bulk deposit path's writer stores what bulk_create() would."""

import uuid
from typing import Any

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from buzon.bulk import insert_new
from mailboxes.models import Attachment, Notification
from tests import factories

pytestmark = pytest.mark.django_db

SET_PER_ROW = ("id", "public_id", "idempotency_key")


def _copy(notification: Notification, key: str) -> Notification:
    copy = Notification.objects.get(pk=notification.pk)
    copy.pk = None
    copy._state.adding = True
    copy.public_id = uuid.uuid4()
    copy.idempotency_key = key
    return copy


def _stored(pk: int) -> dict[str, Any]:
    row = Notification.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in SET_PER_ROW}


def test_it_stores_every_column_as_bulk_create_does_and_sets_the_keys():
    deposited = factories.deposit(factories.register())
    mine = [_copy(deposited, "mine-1"), _copy(deposited, "mine-2")]
    theirs = [_copy(deposited, "theirs-1")]
    with transaction.atomic():
        insert_new(mine)
        Notification.objects.bulk_create(theirs)
    assert all(n.pk is not None and not n._state.adding for n in mine)
    assert mine[0].pk != mine[1].pk
    assert _stored(mine[0].pk) == _stored(theirs[0].pk) == _stored(deposited.pk)
    assert Notification.objects.get(pk=mine[1].pk).idempotency_key == "mine-2"


def test_a_related_object_saved_after_it_was_assigned_gives_its_id():
    deposited = factories.deposit(factories.register())
    original = deposited.attachments.get()
    notification = _copy(deposited, "later")
    attachment = Attachment(
        notification=notification,  # no id yet
        file=original.file.name,
        original_name="copia.pdf",
        sha256=original.sha256,
        size=original.size,
    )
    with transaction.atomic():
        with pytest.raises(ValueError, match="unsaved related object 'notification'"):
            insert_new([attachment])
        insert_new([notification])
        insert_new([attachment])
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.notification_id == notification.pk
    assert model_to_dict(stored, exclude=["id", "public_id", "notification"]) == {
        "file": original.file.name,
        "original_name": "copia.pdf",
        "sha256": original.sha256,
        "size": original.size,
    }


def test_nothing_to_insert_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_new([]) == []
