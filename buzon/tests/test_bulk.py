"""buzon.bulk: the bulk deposit path's writer stores what bulk_create() would, and PostgreSQL's
list dumper writes what psycopg's own would."""

import uuid
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.array import ListDumper

from buzon.bulk import FastListDumper, insert_new
from mailboxes.models import Attachment, Notification
from tests import factories

pytestmark = pytest.mark.django_db

# More rows than one SQLite statement takes (999 parameters: 34 notifications), so the rows
# go in several statements and the keys come back from each.
COPIES = 100


def _copy(notification: Notification, key: str) -> Notification:
    copy = Notification.objects.get(pk=notification.pk)
    copy.pk = None
    copy._state.adding = True
    copy.public_id = uuid.uuid4()
    copy.idempotency_key = key
    return copy


def _raw_rows(objs: list[Notification]) -> list[dict[str, Any]]:
    """The rows as stored, read without the ORM (no field converts them back)."""
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {table} WHERE id IN ({', '.join(['%s'] * len(objs))}) ORDER BY id",  # noqa: S608
            [n.pk for n in objs],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_it_stores_every_column_as_bulk_create_does_and_gives_each_object_its_key():
    deposited = factories.deposit(factories.register())
    mine = [_copy(deposited, f"mine-{i:03d}") for i in range(COPIES)]
    theirs = [_copy(deposited, f"theirs-{i:03d}") for i in range(COPIES)]
    with transaction.atomic():
        insert_new(mine)
        Notification.objects.bulk_create(theirs)

    assert all(n.pk is not None and not n._state.adding and n._state.db for n in mine)
    stored = dict(
        Notification.objects.filter(pk__in=[n.pk for n in mine]).values_list(
            "pk", "idempotency_key"
        )
    )
    assert {n.pk: n.idempotency_key for n in mine} == stored  # each object got its own row's key

    per_row = ("id", "public_id", "idempotency_key")
    for row_mine, row_theirs, n_mine, n_theirs in zip(
        _raw_rows(mine), _raw_rows(theirs), mine, theirs, strict=True
    ):
        same_for_all = {k: v for k, v in row_mine.items() if k not in per_row}
        assert same_for_all == {k: v for k, v in row_theirs.items() if k not in per_row}
        # The per-row values in the same stored form (a UUID as bulk_create spells it).
        assert type(row_mine["public_id"]) is type(row_theirs["public_id"])
        assert len(str(row_mine["public_id"])) == len(str(row_theirs["public_id"]))
        assert uuid.UUID(str(row_mine["public_id"])) == n_mine.public_id
        assert uuid.UUID(str(row_theirs["public_id"])) == n_theirs.public_id
    assert Notification.objects.get(public_id=mine[-1].public_id).pk == mine[-1].pk


def test_a_file_not_yet_stored_is_stored_and_a_related_object_saved_later_gives_its_id():
    deposited = factories.deposit(factories.register())
    notification = _copy(deposited, "later")
    pdf = factories.pdf_bytes()
    attachment = Attachment(
        notification=notification,  # no id yet
        file=ContentFile(pdf, name="subido.pdf"),  # not in the storage yet
        original_name="copia.pdf",
        sha256="0" * 64,
        size=len(pdf),
    )
    with transaction.atomic():
        with pytest.raises(ValueError, match="unsaved related object 'notification'"):
            insert_new([attachment])
        insert_new([notification])
        insert_new([attachment])
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.notification_id == notification.pk
    assert stored.original_name == "copia.pdf"
    # The FileField's own pre_save stored the file under the upload_to name.
    assert stored.file.name == attachment.file.name
    assert stored.file.name.startswith(f"notifications/{notification.deposited_at:%Y/%m/%d}/")
    with default_storage.open(str(stored.file.name), "rb") as handle:
        assert handle.read() == pdf


def test_nothing_to_insert_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_new([]) == []


# What PostgreSQL's array syntax treats specially: quotes, backslashes, braces, the delimiter,
# white space (Unicode too), the word NULL, empty strings; and canonical JSON, escapes and all.
AWKWARD = [
    '{"actor":null,"data":{"nota":"dijo \\"sí\\"","ruta":"C:\\\\buzón"},"seq":1}',
    'a "quoted" \\ backslash',
    "\\",
    '"',
    "{braces}, commas",
    "tab\there",
    "U+2028\u2028U+3000\u3000",
    "NULL",
    "null",
    "",
    "plain",
    "ñandú",
]


@pytest.mark.parametrize(
    "value",
    [
        AWKWARD,
        [*AWKWARD, None],
        [[s, None] for s in AWKWARD],  # nested
        [],
        [None],
    ],
    ids=["strings", "with-null", "nested", "empty", "only-null"],
)
def test_the_fast_list_dumper_writes_the_bytes_psycopgs_own_writes(value):
    transformer = Transformer()
    ours = FastListDumper(list, transformer).upgrade(value, PyFormat.TEXT)
    theirs = ListDumper(list, transformer).upgrade(value, PyFormat.TEXT)
    written, expected = ours.dump(value), theirs.dump(value)
    assert written is not None
    assert expected is not None
    assert bytes(written) == bytes(expected)


def test_awkward_texts_come_back_from_a_bulk_insert_as_they_went_in():
    """On PostgreSQL the rows go as arrays through FastListDumper; on SQLite, as values."""
    deposited = factories.deposit(factories.register())
    copies = [_copy(deposited, f"awkward-{i:02d}") for i in range(len(AWKWARD))]
    for copy, text in zip(copies, AWKWARD, strict=True):
        copy.subject = text
        copy.body_markdown = text * 3
    with transaction.atomic():
        insert_new(copies)
    stored = Notification.objects.filter(pk__in=[c.pk for c in copies]).order_by("pk")
    assert [(n.subject, n.body_markdown) for n in stored] == [(t, t * 3) for t in AWKWARD]
    if connection.vendor == "postgresql":
        dumper = connection.connection.adapters.get_dumper(list, PyFormat.TEXT)
        assert dumper is FastListDumper
