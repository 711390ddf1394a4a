"""The ledger's guard in the database: triggers that refuse to change or remove a posted entry.

Installed by migration 0003 and checked again after every ``migrate`` (``ensure_append_only``, run
from the app's post-migrate hook): SQLite rebuilds a table to alter a column, which drops its
triggers, so a later migration of the ledger table would otherwise leave it unguarded.

The one way around the guard is a row in ``payouts_ledger_maintenance`` (``maintenance()``), for an
operator's tool that empties a whole database; the application never writes there.
"""

from __future__ import annotations

import contextlib

from django.db import connections

TABLE = "payouts_ledgerentry"
FLAG = "payouts_ledger_maintenance"
MESSAGE = "ledger entries are append-only: post a reversing entry instead"


def ensure_append_only(connection) -> None:
    tables = set(connection.introspection.table_names())
    if TABLE not in tables:
        return
    with connection.cursor() as cursor:
        if FLAG not in tables:
            cursor.execute(f"CREATE TABLE {FLAG} (reason varchar(100) NOT NULL)")
        if connection.vendor == "postgresql":
            cursor.execute(f"""
                CREATE OR REPLACE FUNCTION covey_ledger_append_only() RETURNS trigger AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM {FLAG}) THEN
                        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
                    END IF;
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$ LANGUAGE plpgsql
            """)
            cursor.execute(f"DROP TRIGGER IF EXISTS ledger_append_only ON {TABLE}")
            cursor.execute(f"""
                CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION covey_ledger_append_only()
            """)
        else:
            for action in ("UPDATE", "DELETE"):
                cursor.execute(f"""
                    CREATE TRIGGER IF NOT EXISTS ledger_no_{action.lower()} BEFORE {action} ON {TABLE}
                    WHEN NOT EXISTS (SELECT 1 FROM {FLAG})
                    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
                """)


def remove_append_only(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS ledger_append_only ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS covey_ledger_append_only()")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS ledger_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
        cursor.execute(f"DROP TABLE IF EXISTS {FLAG}")


@contextlib.contextmanager
def maintenance(reason: str, *, using: str = "default"):
    """Let this connection change or delete ledger rows for the duration (emptying a database)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FLAG} (reason) VALUES (%s)", [reason[:100]])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FLAG}")
