"""Database triggers that make the evidence tables append-only, on SQLite and PostgreSQL.

An UPDATE or DELETE of an evidence entry, a checkpoint or an issued certificate fails inside
the database, whoever issues it: the application, the admin, or someone at a SQL prompt with
the application's role.
(An attacker who can drop triggers can tamper; verify_evidence is what catches that.)
ChainHead is not protected: it is rewritten on every append, and verify_evidence checks it.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

PROTECTED = ("evidence_event", "evidence_checkpoint", "evidence_certificate")
MESSAGE = "the evidence log is append-only"


def install_sql(vendor: str, tables: tuple[str, ...] = PROTECTED) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            for table in tables
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        statements = [
            "CREATE OR REPLACE FUNCTION buzon_evidence_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}' "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        ]
        for table in tables:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION buzon_evidence_append_only()",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION buzon_evidence_append_only()",
            ]
        return statements
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def uninstall_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}"
            for table in PROTECTED
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}"
            for table in PROTECTED
            for suffix in ("append_only", "no_truncate")
        ]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def install(connection: BaseDatabaseWrapper) -> None:
    """On the protected tables that exist (a partial migrate may not have made them all)."""
    existing = set(connection.introspection.table_names())
    tables = tuple(t for t in PROTECTED if t in existing)
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor, tables):
            cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in uninstall_sql(connection.vendor):
            cursor.execute(statement)
