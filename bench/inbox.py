"""The inbox page at scale: one person's casilla in a small database and in a large one.

A registered person with 2,000 notifications opens GET /buzon/notificaciones/ (logged in with
one django.test.Client, the whole middleware stack) first in a database of 10,000
notifications, then after filler rows bring it to 1,000,000. A casilla whose cost follows the
person's own rows, not the table's, keeps p95 about flat and the query count constant.

    python -m bench.inbox sqlite      # a fresh SQLite file under a temporary BUZON_VAR_DIR
    python -m bench.inbox postgres    # the database `buzon_bench`, dropped and re-created

Each prints one JSON object as the last line of stdout; `run_all()` launches both.

The filler is written with raw SQL (a recursive CTE on SQLite, generate_series on PostgreSQL)
and spread over a few thousand filler persons, each with one procedure. All notifications,
the person's and the filler, are spread over the same two years. Statistics are refreshed
after every fill (ANALYZE; VACUUM ANALYZE on PostgreSQL, where autovacuum may be off).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench.deposit import DATABASES, child_main, run_child

PERSON_NOTIFICATIONS = 2000
SMALL_TOTAL = int(os.environ.get("BENCH_INBOX_SMALL", "10000"))
LARGE_TOTAL = int(os.environ.get("BENCH_INBOX_LARGE", "1000000"))
FILLER_PERSONS = 5000
REQUESTS = 50
WARM_UP = 5
COUNTED = 5  # requests whose SQL queries are counted (apart from the timed ones)
TARGET_P95_RATIO = 2.0
PASSWORD = "una frase de prueba para medir"
FORM_ENCODED = "application/x-www-form-urlencoded"
INBOX_URL = "/buzon/notificaciones/"
REBUILD_INDEXES_FROM = 100_000  # rows in one fill
FILL_CACHE_SIZE = -512 * 1024  # PRAGMA cache_size: negative means KiB (512 MiB)
SPAN_SECONDS = 2 * 365 * 24 * 3600  # deposits spread over two years

# Row n (first..last) is deposited at base - (n * 2654435761 mod span) seconds, on procedure
# first_procedure + (n * 7919 mod procedures): consecutive rows scatter over time and over the
# filler procedures. Percent signs are doubled: the statements take parameters.
SQLITE_NOTIFICATIONS = """
WITH RECURSIVE seq(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM seq WHERE n < %s)
INSERT INTO mailbox_notification (
    public_id, kind, subject, body_markdown, body_html, ends_administrative_route, appeals,
    response_business_days, policy, deposited_at, effective_date, effect_rule, deadline_date,
    opened_at, state, idempotency_key, deposited_by_id, person_id, procedure_id, unit_id,
    authority, authority_address, idempotency_digest, content_sha256, details)
SELECT lower(hex(randomblob(16))),
    CASE d.n %% 3 WHEN 0 THEN 'approval' WHEN 1 THEN 'fine' ELSE 'other' END,
    'Notificación de prueba ' || d.n,
    'Texto de la notificación ' || d.n,
    '<p>Texto de la notificación ' || d.n || '</p>',
    NULL, '[]', NULL, 'on_deposit', d.at, date(d.at), 'Surte efecto el día del depósito.', NULL,
    CASE WHEN d.n %% 10 < 7 THEN datetime(d.at, '+1 hour') END,
    CASE WHEN d.n %% 10 < 7 THEN 'opened' ELSE 'deposited' END,
    NULL, NULL,
    (SELECT pr.person_id FROM procedures_procedure pr WHERE pr.id = d.procedure_id),
    d.procedure_id,
    CASE d.n %% 4 WHEN 0 THEN %s WHEN 1 THEN %s WHEN 2 THEN %s ELSE %s END,
    'Subgerencia de prueba', 'Av. España 734, Breña, Lima', '', lower(hex(randomblob(32))),
    '{}'
FROM (
    SELECT n,
        datetime(%s, '-' || ((n * 2654435761) %% %s) || ' seconds') AS at,
        %s + (n * 7919) %% %s AS procedure_id
    FROM seq
) AS d
"""

POSTGRES_NOTIFICATIONS = """
INSERT INTO mailbox_notification (
    public_id, kind, subject, body_markdown, body_html, ends_administrative_route, appeals,
    response_business_days, policy, deposited_at, effective_date, effect_rule, deadline_date,
    opened_at, state, idempotency_key, deposited_by_id, person_id, procedure_id, unit_id,
    authority, authority_address, idempotency_digest, content_sha256, details)
SELECT gen_random_uuid(),
    (ARRAY['approval', 'fine', 'other'])[1 + d.n %% 3],
    'Notificación de prueba ' || d.n,
    'Texto de la notificación ' || d.n,
    '<p>Texto de la notificación ' || d.n || '</p>',
    NULL, '[]'::jsonb, NULL, 'on_deposit', d.at, (d.at AT TIME ZONE 'America/Lima')::date,
    'Surte efecto el día del depósito.', NULL,
    CASE WHEN d.n %% 10 < 7 THEN d.at + interval '1 hour' END,
    CASE WHEN d.n %% 10 < 7 THEN 'opened' ELSE 'deposited' END,
    NULL, NULL, pr.person_id, pr.id,
    (ARRAY[%s, %s, %s, %s]::bigint[])[1 + d.n %% 4],
    'Subgerencia de prueba', 'Av. España 734, Breña, Lima', '', md5(d.n::text) || md5(d.at::text),
    '{}'::jsonb
FROM (
    SELECT n,
        %s::timestamptz - make_interval(secs => (n::bigint * 2654435761) %% %s) AS at,
        %s + (n::bigint * 7919) %% %s AS procedure_id
    FROM generate_series(%s::bigint, %s::bigint) AS n
) AS d
JOIN procedures_procedure pr ON pr.id = d.procedure_id
"""

PLAIN_INDEXES_SQLITE = """
SELECT name, sql FROM sqlite_master
WHERE type = 'index' AND tbl_name = 'mailbox_notification' AND sql IS NOT NULL
    AND sql NOT LIKE 'CREATE UNIQUE%'
"""

PLAIN_INDEXES_POSTGRES = """
SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'mailbox_notification'::regclass AND NOT x.indisunique
"""

SQLITE_PERSONS = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %s)
INSERT INTO people_person (
    doc_type, doc_number, doc_country, given_names, first_surname, second_surname, birth_date,
    nationality, email, email_verified, mobile_phone, mobile_phone_verified, created_at,
    updated_at, user_id, is_test)
SELECT 'PAS', 'BENCH' || i, 'VE', 'Persona de relleno', 'Prueba', '', '1990-01-01', 'VE',
    '', 0, '', 0, %s, %s, NULL, 0
FROM seq
"""

POSTGRES_PERSONS = """
INSERT INTO people_person (
    doc_type, doc_number, doc_country, given_names, first_surname, second_surname, birth_date,
    nationality, email, email_verified, mobile_phone, mobile_phone_verified, created_at,
    updated_at, user_id, is_test)
SELECT 'PAS', 'BENCH' || i, 'VE', 'Persona de relleno', 'Prueba', '', '1990-01-01', 'VE',
    '', false, '', false, %s, %s, NULL, false
FROM generate_series(1, %s) AS i
"""

# Numbers LM99 + 7 digits: the format check (^[A-Z]{2}[0-9]{9}$), apart from real sequences.
SQLITE_PROCEDURES = """
INSERT INTO procedures_procedure (
    number, filing_date, registered_at, idempotency_key, office_id, person_id,
    registered_by_id, procedure_type_id, status)
SELECT 'LM99' || substr('0000000' || id, -7), '2025-01-15', %s, NULL, %s, id, NULL, %s,
    'in_progress'
FROM people_person WHERE given_names = 'Persona de relleno' ORDER BY id
"""

POSTGRES_PROCEDURES = """
INSERT INTO procedures_procedure (
    number, filing_date, registered_at, idempotency_key, office_id, person_id,
    registered_by_id, procedure_type_id, status)
SELECT 'LM99' || lpad(id::text, 7, '0'), '2025-01-15', %s, NULL, %s, id, NULL, %s,
    'in_progress'
FROM people_person WHERE given_names = 'Persona de relleno' ORDER BY id
"""


class Filler:
    """Raw-SQL writes for one database vendor."""

    def __init__(self, base: datetime) -> None:
        from django.db import connection

        from mailboxes.models import IssuingUnit

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.base = base
        units = list(IssuingUnit.objects.order_by("id").values_list("id", flat=True))
        self.units = [units[i % len(units)] for i in range(4)]
        self.next_n = 1

    def _when(self, value: datetime) -> Any:
        return self.connection.ops.adapt_datetimefield_value(value)

    def persons_and_procedures(self, count: int) -> tuple[int, int]:
        """`count` filler persons with one procedure each; returns (first procedure id, count)."""
        from procedures.models import Office, Procedure, ProcedureType

        office = Office.objects.get(code="LM").pk
        procedure_type = ProcedureType.objects.get(code="CPP").pk
        now = self._when(self.base)
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(POSTGRES_PERSONS, [now, now, count])
                cursor.execute(POSTGRES_PROCEDURES, [now, office, procedure_type])
            else:
                cursor.execute(SQLITE_PERSONS, [count, now, now])
                cursor.execute(SQLITE_PROCEDURES, [now, office, procedure_type])
        ids = sorted(
            Procedure.objects.filter(number__startswith="LM99").values_list("pk", flat=True)
        )
        if len(ids) != count or ids[-1] - ids[0] + 1 != count:
            raise SystemExit(f"filler procedures are not contiguous: {len(ids)} of {count}")
        return ids[0], count

    def notifications(self, count: int, first_procedure: int, procedures: int) -> None:
        """`count` notifications over procedures first_procedure .. +procedures-1."""
        if count <= 0:
            return
        first, last = self.next_n, self.next_n + count - 1
        self.next_n = last + 1
        base = self._when(self.base)
        with self.connection.cursor() as cursor, self._without_plain_indexes(count):
            if self.postgres:
                cursor.execute(
                    POSTGRES_NOTIFICATIONS,
                    [*self.units, base, SPAN_SECONDS, first_procedure, procedures, first, last],
                )
            else:
                # A large page cache for the fill only: the indexes take random inserts.
                cursor.execute("PRAGMA cache_size")
                (previous,) = cursor.fetchone()
                cursor.execute(f"PRAGMA cache_size = {FILL_CACHE_SIZE}")
                try:
                    cursor.execute(
                        SQLITE_NOTIFICATIONS,
                        [first, last, *self.units, base, SPAN_SECONDS, first_procedure, procedures],
                    )
                finally:
                    cursor.execute(f"PRAGMA cache_size = {int(previous)}")

    @contextmanager
    def _without_plain_indexes(self, count: int) -> Iterator[None]:
        """For a large fill, drop the non-unique indexes and build them again afterwards,
        from their own definitions: a sorted build is much faster than a million random
        inserts. Unique indexes stay, so their checks still run on every row."""
        if count < REBUILD_INDEXES_FROM:
            yield
            return
        with self.connection.cursor() as cursor:
            cursor.execute(PLAIN_INDEXES_POSTGRES if self.postgres else PLAIN_INDEXES_SQLITE)
            indexes: list[tuple[str, str]] = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {self.connection.ops.quote_name(name)}")
            if self.postgres:
                cursor.execute("SET maintenance_work_mem = '256MB'")
            try:
                yield
            finally:
                for _name, definition in indexes:
                    cursor.execute(definition)
                if self.postgres:
                    cursor.execute("RESET maintenance_work_mem")

    def analyze(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if self.postgres else "ANALYZE")

    def total(self) -> int:
        from mailboxes.models import Notification

        return Notification.objects.count()


def _percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def _measure_inbox(client: Any) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> None:
        response = client.get(INBOX_URL)
        if response.status_code != 200:
            raise SystemExit(f"GET {INBOX_URL} answered {response.status_code}")

    for _ in range(WARM_UP):
        get()
    samples = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        get()
        samples.append((time.perf_counter() - start) * 1000)
    counts = []
    for _ in range(COUNTED):
        with CaptureQueriesContext(connection) as queries:
            get()
        counts.append(len(queries.captured_queries))
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 95), 2),
        "queries": max(counts),
        "queries_stable": min(counts) == max(counts),
    }


def measure(database: str) -> dict[str, Any]:
    from django.test import Client
    from django.utils import timezone

    from accounts.actions import change_password
    from mailboxes.models import Notification
    from tests.factories import register

    registration = register()
    person = registration.procedure.person
    assert person.user is not None
    change_password(person.user, PASSWORD, actor=None)

    fill = Filler(timezone.now() - timedelta(days=1))
    fill.notifications(PERSON_NOTIFICATIONS, registration.procedure.pk, 1)
    first_procedure, procedures = fill.persons_and_procedures(FILLER_PERSONS)
    mine = Notification.objects.filter(person=person).count()
    if mine != PERSON_NOTIFICATIONS:
        raise SystemExit(f"the person has {mine} notifications, not {PERSON_NOTIFICATIONS}")

    client = Client()
    form = {"doc_type": person.doc_type, "doc_number": person.doc_number, "password": PASSWORD}
    response = client.post("/buzon/ingresar/", urlencode(form), content_type=FORM_ENCODED)
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")

    results: dict[str, dict[str, Any]] = {}
    for label, target in (("small", SMALL_TOTAL), ("large", LARGE_TOTAL)):
        start = time.perf_counter()
        fill.notifications(target - fill.total(), first_procedure, procedures)
        fill.analyze()
        fill_seconds = time.perf_counter() - start
        print(
            f"{database}: {label} fill to {target} rows took {fill_seconds:.1f}s", file=sys.stderr
        )
        results[label] = {
            "total": fill.total(),
            "fill_seconds": round(fill_seconds, 1),
            **_measure_inbox(client),
        }
    if Notification.objects.filter(person=person).count() != PERSON_NOTIFICATIONS:
        raise SystemExit("the filler reached the measured person")

    small, large = results["small"], results["large"]
    return {
        "person_notifications": PERSON_NOTIFICATIONS,
        "small": small,
        "large": large,
        "p95_ratio": round(large["p95_ms"] / small["p95_ms"], 3),
        "target_p95_ratio": TARGET_P95_RATIO,
        "queries_constant": small["queries"] == large["queries"]
        and small["queries_stable"]
        and large["queries_stable"],
    }


def run_all() -> dict[str, Any]:
    return {database: run_child("bench.inbox", database) for database in DATABASES}


if __name__ == "__main__":
    sys.exit(child_main(["bench.inbox", *sys.argv[1:]], measure))
