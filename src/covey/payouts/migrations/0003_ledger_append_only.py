"""The database itself refuses to change or remove a posted ledger entry (corrections are reversing
entries): a PostgreSQL trigger function raising an error, SQLite triggers that abort.

The one way around it is a row in ``payouts_ledger_maintenance``, a table no model writes: operators'
tools that empty a whole database (``covey seed --reset``, the test runner's flush on SQLite) add one
for the duration (``covey.payouts.ledger.maintenance``). TRUNCATE, an owner's act outside the
application, is not a row change and is not intercepted.
"""

from django.db import migrations

TABLE = "payouts_ledgerentry"
FLAG = "payouts_ledger_maintenance"
MESSAGE = "ledger entries are append-only: post a reversing entry instead"


def install(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
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
            cursor.execute(f"""
                CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION covey_ledger_append_only()
            """)
        else:
            for action in ("UPDATE", "DELETE"):
                cursor.execute(f"""
                    CREATE TRIGGER ledger_no_{action.lower()} BEFORE {action} ON {TABLE}
                    WHEN NOT EXISTS (SELECT 1 FROM {FLAG})
                    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
                """)


def remove(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS ledger_append_only ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS covey_ledger_append_only()")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS ledger_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
        cursor.execute(f"DROP TABLE IF EXISTS {FLAG}")


class Migration(migrations.Migration):
    dependencies = [("payouts", "0002_initial")]
    operations = [migrations.RunPython(install, remove)]
