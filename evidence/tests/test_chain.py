"""The evidence log: chained entries, append-only tables, checkpoints, and what
verify_evidence catches when someone with database access tampers with it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from evidence import chain, keys, triggers
from evidence.actions import EventSpec, record, record_many, seal
from evidence.models import ChainHead, Checkpoint, Event, EventKind
from evidence.verify import verify
from tests import factories

pytestmark = pytest.mark.django_db


def run_verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_evidence", "--no-progress", stdout=out, stderr=StringIO())
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()


def tamper(*statements: str, params: list[Any] | None = None) -> None:
    """What an attacker with database access does: drop the triggers, then write raw SQL.
    (The test's transaction rolls all of it back, triggers included.)"""
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params or [])


@pytest.fixture
def history(settings):
    """A small but complete history: registration, credentials, a deposit with its effect,
    an opening, a view and a download, and a checkpoint over all of it. On one lane, so the
    positions are known; test_concurrency and test_lanes_and_checkpoints cover many lanes."""
    settings.BUZON_EVIDENCE_LANES = 1
    from mailboxes.actions import RequestMeta, open_notification, record_download, record_view

    registration = factories.register()
    notification = factories.deposit(registration)
    person_user = registration.procedure.person.user
    assert person_user is not None
    meta = RequestMeta("203.0.113.7", "Mozilla/5.0 (Android)")
    open_notification(notification, reader=person_user, meta=meta)
    record_view(notification, reader=person_user, meta=meta)
    record_download(notification.attachments.get(), reader=person_user, meta=meta)
    seal()
    return notification


def entry(kind: str) -> Event:
    return Event.objects.filter(kind=kind).order_by("id")[0]


def test_every_step_leaves_a_chained_entry(history):
    kinds = list(Event.objects.order_by("lane", "seq").values_list("kind", flat=True))
    assert kinds == [
        EventKind.PROCEDURE_REGISTERED,
        EventKind.CREDENTIALS_ISSUED,
        EventKind.RECEIPT_ISSUED,
        EventKind.NOTIFICATION_DEPOSITED,
        EventKind.NOTIFICATION_EFFECTIVE,
        EventKind.NOTIFICATION_OPENED,
        EventKind.NOTIFICATION_VIEWED,
        EventKind.ATTACHMENT_DOWNLOADED,
    ]
    previous = chain.GENESIS
    for event in Event.objects.order_by("lane", "seq"):
        assert event.prev_hash == previous
        assert chain.sha256_hex(event.canonical) == event.hash
        previous = event.hash
    opened = entry(EventKind.NOTIFICATION_OPENED)
    assert opened.entry["content_sha256"] == history.content_sha256
    assert opened.entry["attachments_sha256"] == [history.attachments.get().sha256]
    assert opened.data["ip"] == "203.0.113.7"
    assert opened.entry["at"].endswith("Z")
    head = ChainHead.objects.get(lane=opened.lane)
    assert (head.seq, head.hash) == (8, entry(EventKind.ATTACHMENT_DOWNLOADED).hash)


def test_the_untouched_log_verifies(history):
    status, output = run_verify()
    assert status == 0, output
    assert "entries: 8 on 1 lanes, 8 sealed by 1 checkpoints" in output
    assert "attachment files: 1" in output
    assert "evidence intact" in output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE evidence_event SET kind = 'notification_viewed'",
        "DELETE FROM evidence_event",
        "UPDATE evidence_checkpoint SET merkle_root = 'x'",
        "DELETE FROM evidence_checkpoint",
    ],
)
def test_the_database_refuses_updates_and_deletes(history, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert Event.objects.count() == 8
    assert Checkpoint.objects.count() == 1


def test_the_orm_cannot_edit_an_entry_either(history):
    event = entry(EventKind.NOTIFICATION_OPENED)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(kind=EventKind.NOTIFICATION_VIEWED)


def test_an_edited_entry_is_caught(history):
    opened = entry(EventKind.NOTIFICATION_OPENED)
    forged = opened.canonical.replace("203.0.113.7", "198.51.100.1")
    tamper("UPDATE evidence_event SET canonical = %s WHERE id = %s", params=[forged, opened.pk])
    status, output = run_verify()
    assert status == 1
    assert f"FIRST PROBLEM: entry 0:6 (id {opened.pk}): its hash does not match" in output


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(history):
    opened = entry(EventKind.NOTIFICATION_OPENED)
    forged = opened.canonical.replace("203.0.113.7", "198.51.100.1")
    tamper(
        "UPDATE evidence_event SET canonical = %s, hash = %s WHERE id = %s",
        params=[forged, chain.sha256_hex(forged), opened.pk],
    )
    status, output = run_verify()
    assert status == 1
    viewed = entry(EventKind.NOTIFICATION_VIEWED)
    assert f"FIRST PROBLEM: entry 0:7 (id {viewed.pk}): it does not follow" in output


def test_an_edited_column_is_caught(history):
    opened = entry(EventKind.NOTIFICATION_OPENED)
    tamper(f"UPDATE evidence_event SET kind = 'notification_viewed' WHERE id = {opened.pk}")  # noqa: S608
    status, output = run_verify()
    assert status == 1
    assert f"entry 0:6 (id {opened.pk}): its columns differ from its hashed content" in output


def test_a_deleted_entry_is_caught(history):
    opened = entry(EventKind.NOTIFICATION_OPENED)
    tamper(f"DELETE FROM evidence_event WHERE id = {opened.pk}")  # noqa: S608
    status, output = run_verify()
    assert status == 1
    assert "FIRST PROBLEM: entry 0:7" in output
    assert "entries 0:6 to 0:6 are missing" in output


def test_a_deleted_last_entry_is_caught(history):
    last = Event.objects.order_by("-seq").first()
    tamper(f"DELETE FROM evidence_event WHERE id = {last.pk}")  # noqa: S608
    status, output = run_verify()
    assert status == 1
    assert "lane 0: the log ends at 0:7, but the lane head says 0:8" in output


def test_a_cut_log_with_a_rewound_head_is_caught_by_the_checkpoint(history):
    last = Event.objects.order_by("-seq").first()
    tamper(
        f"DELETE FROM evidence_event WHERE id = {last.pk}",  # noqa: S608
        f"UPDATE evidence_chainhead SET seq = 7, hash = '{last.prev_hash}'",  # noqa: S608
    )
    status, output = run_verify()
    assert status == 1
    assert "checkpoint #1: it sealed 8 entries; 7 are there" in output


def test_swapped_entries_are_caught(history):
    opened, viewed = entry(EventKind.NOTIFICATION_OPENED), entry(EventKind.NOTIFICATION_VIEWED)
    tamper(
        f"UPDATE evidence_event SET seq = 1000 WHERE id = {opened.pk}",  # noqa: S608
        f"UPDATE evidence_event SET seq = 6 WHERE id = {viewed.pk}",  # noqa: S608
        f"UPDATE evidence_event SET seq = 7 WHERE id = {opened.pk}",  # noqa: S608
    )
    status, output = run_verify()
    assert status == 1
    assert f"FIRST PROBLEM: entry 0:6 (id {viewed.pk})" in output


def test_an_edited_attachment_file_is_caught(history):
    attachment = history.attachments.get()
    path = Path(default_storage.path(attachment.file.name))
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01  # one bit, somewhere in the middle
    path.write_bytes(bytes(content))
    status, output = run_verify()
    assert status == 1
    assert f"attachment {attachment.public_id} (resolucion.pdf): its file differs" in output


def test_an_edited_notification_is_caught(history):
    tamper(f"UPDATE mailbox_notification SET subject = 'Otra cosa' WHERE id = {history.pk}")  # noqa: S608
    status, output = run_verify()
    assert status == 1
    assert f"notification {history.public_id}: its content differs" in output


def test_a_forged_checkpoint_is_caught(history, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    checkpoint = Checkpoint.objects.get()
    body = json.loads(checkpoint.statement)
    body["entries"] = 6  # the attacker wants to hide the last entry...
    attacker = Ed25519PrivateKey.generate()  # ...and signs with a key of their own
    body["key"] = keys.key_id_of(attacker.public_key())
    statement = chain.dumps(body)
    tamper(
        "UPDATE evidence_checkpoint SET statement = %s, hash = %s, signature = %s, key_id = %s",
        params=[
            statement,
            chain.sha256_hex(statement),
            attacker.sign(statement.encode()).hex(),
            body["key"],
        ],
    )
    status, output = run_verify()
    assert status == 1
    assert f"FIRST PROBLEM: checkpoint #1: signed with key '{body['key']}', which is not" in output


def test_a_checkpoint_resigned_with_a_stolen_key_still_fails_on_its_root(history):
    key = keys.current_key()
    checkpoint = Checkpoint.objects.get()
    body = json.loads(checkpoint.statement)
    body["merkle_root"] = "0" * 64
    statement = chain.dumps(body)
    tamper(
        "UPDATE evidence_checkpoint SET statement = %s, hash = %s, signature = %s, "
        "merkle_root = %s",
        params=[statement, chain.sha256_hex(statement), key.sign(statement.encode()), "0" * 64],
    )
    status, output = run_verify()
    assert status == 1
    assert "checkpoint #1: the entries it sealed have changed" in output


def test_a_deleted_checkpoint_is_caught(history):
    record(EventKind.PASSWORD_CHANGED, actor=None)
    second = seal()
    record(EventKind.PASSWORD_CHANGED, actor=None)
    seal()
    tamper(f"DELETE FROM evidence_checkpoint WHERE id = {second.pk}")  # noqa: S608
    status, output = run_verify()
    assert status == 1
    assert "checkpoint #3: it does not follow the checkpoint before it" in output


def test_sealing_covers_only_what_is_new(history):
    assert seal() is None  # nothing appended since the fixture's checkpoint
    record(EventKind.PASSWORD_CHANGED, actor=None)
    second = seal()
    assert second.number == 2
    assert second.entries == 1
    assert second.body["since"] == {"0": 8}
    assert second.body["heads"]["0"]["seq"] == 9
    assert second.body["prev"] == Checkpoint.objects.get(number=1).hash
    assert verify().ok


def test_old_checkpoints_verify_after_a_key_rotation(history):
    first_key = Checkpoint.objects.get().key_id
    call_command("rotate_evidence_key", stdout=StringIO())
    record(EventKind.PASSWORD_CHANGED, actor=None)
    second = seal()
    assert second.key_id != first_key
    report = verify()
    assert report.ok, report.problems
    assert report.checkpoints == 2


def test_floats_never_enter_the_log():
    with pytest.raises(chain.NotCanonicalError, match="float"), transaction.atomic():
        record(EventKind.PASSWORD_CHANGED, actor=None, data={"amount": 1.5})
    assert Event.objects.count() == 0


def test_a_checkpoint_seals_entries_across_lanes(settings):
    settings.BUZON_EVIDENCE_LANES = 4
    for _ in range(12):
        with transaction.atomic():
            record(EventKind.PASSWORD_CHANGED, actor=None)
    first = seal()
    for _ in range(5):
        with transaction.atomic():
            record(EventKind.PASSWORD_CHANGED, actor=None)
    second = seal()
    assert (first.entries, second.entries) == (12, 5)
    assert sum(h["seq"] for h in second.body["heads"].values()) == 17
    report = verify()
    assert report.ok, report.problems
    assert report.sealed == 17


@pytest.mark.django_db(transaction=True)
def test_worker_processes_check_pieces_and_join_them(settings):
    """Big logs are checked by several processes, each on a piece of a lane; the pieces'
    Merkle blocks and chain ends must join up exactly as one scan would."""
    settings.BUZON_EVIDENCE_LANES = 1
    for n in range(3):
        with transaction.atomic():
            record_many_specs = [
                EventSpec(EventKind.PASSWORD_CHANGED, None, data={"n": n * 20 + i})
                for i in range(20)
            ]
            record_many(record_many_specs)
        seal()
    report = verify(workers=2, chunk=7)
    assert report.ok, report.problems
    assert (report.entries, report.sealed, report.checkpoints) == (60, 60, 3)

    victim = Event.objects.get(seq=30)
    tamper(f"DELETE FROM evidence_event WHERE id = {victim.pk}")  # noqa: S608
    report = verify(workers=2, chunk=7)
    assert str(report.problems[0]).startswith("entry 0:31")
    assert "entries 0:30 to 0:30 are missing" in str(report.problems[0])
    assert any(
        "checkpoint #2: it sealed 20 entries; 19 are there" in str(p) for p in report.problems
    )


def test_inclusion_proofs_tie_entries_to_their_checkpoint(settings):
    from evidence import merkle
    from evidence.proofs import proofs as inclusions

    settings.BUZON_EVIDENCE_LANES = 4
    for n in range(9):
        with transaction.atomic():
            record(EventKind.PASSWORD_CHANGED, actor=None, data={"n": n})
    first = seal()
    for n in range(4):
        with transaction.atomic():
            record(EventKind.PASSWORD_CHANGED, actor=None, data={"n": 100 + n})
    second = seal()
    with transaction.atomic():
        unsealed = record(EventKind.PASSWORD_CHANGED, actor=None)
    events = list(Event.objects.all())
    proofs = inclusions(events)
    assert unsealed.pk not in proofs
    roots = {first.number: first.merkle_root, second.number: second.merkle_root}
    for event in events:
        if event.pk == unsealed.pk:
            continue
        proof = proofs[event.pk]
        assert proof.checkpoint.number == (first.number if event.data["n"] < 100 else second.number)
        assert merkle.verify_inclusion(
            event.hash, proof.index, proof.size, proof.path, roots[proof.checkpoint.number]
        )


def _forged_entry(after: Event, *, at: str, seq: int | None = None) -> tuple[str, str]:
    """A well-formed entry that follows `after`, as someone with INSERT rights could write."""
    body = json.loads(after.canonical)
    body.update(seq=seq or after.seq + 1, prev=after.hash, at=at, kind="notification_opened")
    canonical = chain.dumps(body)
    return canonical, chain.sha256_hex(canonical)


def _insert(after: Event, canonical: str, digest: str, seq: int, lane: int | None = None) -> None:
    body = json.loads(canonical)
    tamper(
        "INSERT INTO evidence_event (lane, seq, kind, occurred_at, actor_id, person_id, "
        "procedure_id, notification_id, canonical, prev_hash, hash) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        params=[
            after.lane if lane is None else lane,
            seq,
            body["kind"],
            datetime.fromisoformat(body["at"].replace("Z", "+00:00")),
            body["actor"],
            body["person"],
            body["procedure"],
            body["notification"],
            canonical,
            body["prev"],
            digest,
        ],
    )


def test_an_entry_with_sequence_number_zero_is_refused(history):
    first = Event.objects.order_by("seq")[0]
    canonical, digest = _forged_entry(first, at=first.entry["at"], seq=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(first, canonical, digest, seq=0)


def test_an_entry_beyond_the_lane_head_is_caught(history):
    last = Event.objects.order_by("-seq")[0]
    canonical, digest = _forged_entry(last, at=last.entry["at"])
    _insert(last, canonical, digest, seq=last.seq + 1)  # the head is not moved
    status, output = run_verify()
    assert status == 1
    assert f"entry 0:{last.seq + 1}" in output
    assert "it lies outside its lane's chain" in output


def test_a_backdated_entry_is_caught(history):
    last = Event.objects.order_by("-seq")[0]
    canonical, digest = _forged_entry(last, at="2026-01-02T10:00:00.000000Z")
    _insert(last, canonical, digest, seq=last.seq + 1)
    tamper(
        "UPDATE evidence_chainhead SET seq = %s, hash = %s WHERE lane = %s",
        params=[last.seq + 1, digest, last.lane],
    )
    status, output = run_verify()
    assert status == 1
    assert f"entry 0:{last.seq + 1}" in output
    assert "its time is earlier than the entry before it (backdated?)" in output


def test_time_never_goes_back_in_a_lane_even_if_a_clock_does(settings):
    settings.BUZON_EVIDENCE_LANES = 1
    with transaction.atomic():
        first = record(EventKind.PASSWORD_CHANGED, actor=None)
    with time_machine.travel(first.occurred_at - timedelta(minutes=5)), transaction.atomic():
        second = record(EventKind.PASSWORD_CHANGED, actor=None)
    assert second.occurred_at == first.occurred_at
    assert verify().ok


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE mailbox_opening SET ip_address = '198.51.100.1'",
            "its acuse (time, IP or browser) differs from the one recorded",
        ),
        (
            "UPDATE mailbox_notification SET effective_date = '2026-01-05'",
            "its effective date or deadline differs from the last ones recorded",
        ),
        (
            "UPDATE mailbox_notification SET deposited_at = '2026-01-05 15:00:00'",
            "its deposit time differs from the one in its deposit entry",
        ),
        # What the person reads, and what the constancia prints beside the dates.
        (
            "UPDATE mailbox_notification SET body_html = '<p>Se DENIEGA su solicitud.</p>'",
            "the text it shows differs from its recorded content (edited?)",
        ),
        (
            "UPDATE mailbox_notification SET effect_rule = 'Regla inventada'",
            "the rule that gave its effect differs from the one recorded",
        ),
        (
            "UPDATE mailbox_notification SET state = 'rejected'",
            "its state (rejected) differs from the recorded one",
        ),
        (
            "UPDATE mailbox_notification SET deadline_expired_at = '2026-01-01 10:00:00'",
            "whether its deadline expired differs from what the log records",
        ),
        (
            "UPDATE mailbox_notification SET policy = 'on_opening_or_after_calendar_days:10'",
            "its notification policy differs from the one in its deposit entry",
        ),
        (
            "UPDATE mailbox_notification SET opened_at = NULL",
            "its opening time differs from its acuse",
        ),
        (
            "UPDATE mailbox_attachment SET original_name = 'resolucion-DENIEGA.pdf'",
            "its attachments (names, sizes or hashes) differ from its deposit entry",
        ),
    ],
)
def test_rows_a_certificate_prints_are_checked_against_the_log(history, statement, message):
    tamper(statement)
    status, output = run_verify()
    assert status == 1
    assert f"notification {history.public_id}: {message}" in output


def test_a_certificate_with_another_hash_is_caught(history):
    from evidence.actions import issue_certificate

    certificate, _pdf = issue_certificate(history, requested_by=None)
    tamper("UPDATE evidence_certificate SET sha256 = %s", params=["0" * 64])
    status, output = run_verify()
    assert status == 1
    assert f"certificate {certificate.code[:4]}…: its registered PDF hash differs" in output


def test_a_certificate_whose_row_is_gone_or_redated_is_caught(history):
    """The public page would disown a genuine constancia, or show another issue date."""
    from evidence.actions import issue_certificate

    kept, _pdf = issue_certificate(history, requested_by=None)
    deleted, _pdf = issue_certificate(history, requested_by=None)
    tamper(
        "DELETE FROM evidence_certificate WHERE code = %s",
        "UPDATE evidence_certificate SET issued_at = '2020-01-01 15:00:00' WHERE code = %s",
        params=[deleted.code],
    )
    tamper(
        "UPDATE evidence_certificate SET issued_at = '2020-01-01 15:00:00' WHERE code = %s",
        params=[kept.code],
    )
    status, output = run_verify()
    assert status == 1
    assert f"certificate {deleted.code[:4]}…: the log records it as issued, but it is missing" in (
        output
    )
    assert f"certificate {kept.code[:4]}…: its issue time differs from the recorded one" in output


def test_a_checkpoint_whose_time_or_count_is_edited_is_caught(history):
    """Constancias print both; only the signed statement can be trusted for them."""
    record(EventKind.PASSWORD_CHANGED, actor=None)
    newest = seal()
    assert newest is not None
    tamper(
        "UPDATE evidence_checkpoint SET created_at = '2020-01-01 15:00:00', entries = 999999 "
        "WHERE number = %s",
        params=[newest.number],
    )
    status, output = run_verify()
    assert status == 1
    assert f"checkpoint #{newest.number}: its columns differ from the signed statement" in output


def test_a_published_checkpoint_that_is_gone_is_caught(history):
    record(EventKind.PASSWORD_CHANGED, actor=None)
    newest = seal()
    published = f"{newest.number}:{newest.hash}"
    status, output = run_verify_with("--checkpoint", published)
    assert status == 0, output
    # Delete the newest checkpoint and cut the log back to where the one before ended.
    last = Event.objects.order_by("-seq")[0]
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM evidence_checkpoint WHERE id = {newest.pk}")  # noqa: S608
        cursor.execute(f"DELETE FROM evidence_event WHERE id = {last.pk}")  # noqa: S608
        cursor.execute(
            "UPDATE evidence_chainhead SET seq = %s, hash = %s WHERE lane = 0",
            [last.seq - 1, last.prev_hash],
        )
    assert run_verify()[0] == 0  # without outside knowledge, a clean cut looks intact...
    status, output = run_verify_with("--checkpoint", published)
    assert status == 1  # ...which is why checkpoints should be published
    assert f"checkpoint #{newest.number}: it was published but is missing" in output


def run_verify_with(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_evidence", "--no-progress", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_an_entry_with_a_repeated_key_is_caught(history):
    opened = entry(EventKind.NOTIFICATION_OPENED)
    forged = opened.canonical.replace(
        '"ip":"203.0.113.7"', '"ip":"203.0.113.7","ip":"198.51.100.1"'
    )
    # Even with its hash and the next link recomputed, a text with two spellings is refused.
    tamper(
        "UPDATE evidence_event SET canonical = %s, hash = %s WHERE id = %s",
        params=[forged, chain.sha256_hex(forged), opened.pk],
    )
    status, output = run_verify()
    assert status == 1
    assert f"entry 0:6 (id {opened.pk}): it is not in canonical form" in output


def test_a_receipt_whose_row_is_edited_inserted_or_deleted_is_caught(history):
    """/verificar/ answers for a constancia de trámite by its code and PDF hash."""
    from procedures.models import Receipt

    edited = Receipt.objects.get()
    deleted = factories.register().receipt
    tamper(
        "UPDATE procedures_receipt SET sha256 = %s WHERE id = %s",
        params=["f" * 64, edited.pk],
    )
    tamper("DELETE FROM procedures_receipt WHERE id = %s", params=[deleted.pk])
    inserted = "ABCD-EFGH-JKMN-PQRS"
    tamper(
        "INSERT INTO procedures_receipt (procedure_id, verification_code, credentials, issued_at, "
        "record_pdf, sha256, size) SELECT procedure_id, %s, credentials, issued_at, record_pdf, "
        "%s, size FROM procedures_receipt WHERE id = %s",
        params=[inserted, "e" * 64, edited.pk],
    )
    status, output = run_verify()
    assert status == 1
    code = edited.verification_code[:4]
    assert f"receipt {code}…: its PDF hash, size or issue time differs from the recorded" in output
    assert f"receipt {deleted.verification_code[:4]}…: the log records it as issued, but" in output
    assert "receipt ABCD…: the log does not record it as issued (inserted?)" in output


@pytest.mark.parametrize(
    "published",
    ["²:" + "a" * 64, "1:" + "g" * 64, "1:" + "a" * 63, "uno:" + "a" * 64, "1" + "a" * 64],
)
def test_a_malformed_published_checkpoint_is_refused_with_the_expected_form(history, published):
    with pytest.raises(CommandError, match=r"expected N:<64 hex digits>"):
        call_command(
            "verify_evidence", "--no-progress", "--checkpoint", published, stdout=StringIO()
        )
