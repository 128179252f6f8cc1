"""Concurrent appends: the chain never forks, and one slow transaction does not hold up the
others (on PostgreSQL, where transactions append to different lanes)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from evidence.actions import lane_count, record
from evidence.models import ChainHead, Event, EventKind
from evidence.verify import verify
from tests import factories

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="lanes exist only on PostgreSQL (SQLite has one writer); the PostgreSQL CI pass "
    "runs this",
)


def run_in_threads(count: int, work) -> list[Exception]:
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_deposits_keep_every_lane_an_unbroken_chain(reference_data):
    registrations = [factories.register(doc_number=f"00{n}111222") for n in range(4)]

    def deposit_five(n: int) -> None:
        for i in range(5):
            factories.deposit(registrations[n], idempotency_key=f"t{n}-{i}")

    assert run_in_threads(4, deposit_five) == []
    deposited = Event.objects.filter(kind=EventKind.NOTIFICATION_DEPOSITED).count()
    assert deposited == 20
    report = verify()
    assert report.ok, report.problems
    assert report.entries == Event.objects.count()
    lanes_used = Event.objects.values("lane").distinct().count()
    assert 1 <= lanes_used <= lane_count()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_slow_transaction_does_not_hold_up_the_others():
    holding = threading.Event()
    release = threading.Event()
    held_lane: list[int] = []

    def slow() -> None:
        try:
            with transaction.atomic():
                held_lane.append(record(EventKind.PASSWORD_CHANGED, actor=None).lane)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    assert holding.wait(timeout=30)
    try:
        # While the slow transaction holds its lane, others append (and commit) elsewhere.
        quick = []
        for _ in range(3):
            with transaction.atomic():
                quick.append(record(EventKind.PASSWORD_CHANGED, actor=None).lane)
        assert held_lane[0] not in quick
        assert Event.objects.count() == 3  # the slow one has not committed yet
    finally:
        release.set()
        thread.join()
    assert Event.objects.count() == 4
    assert verify().ok
    assert ChainHead.objects.filter(seq__gt=0).count() >= 2
