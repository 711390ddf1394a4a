"""The ledger's guard in the database (see ``covey.payouts.ledger``): triggers that refuse to change or
remove a posted entry, and no LIKE index on PostgreSQL for text nobody searches by prefix."""

from django.db import migrations


def install(apps, schema_editor):
    from covey.payouts.ledger import ensure_append_only

    connection = schema_editor.connection
    ensure_append_only(connection)
    if connection.vendor == "postgresql":
        # PostgreSQL gets an extra "LIKE" index for unique text columns (statement ids and the like);
        # none of these tables is searched by prefix.
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'payouts\\_%%' AND indexname LIKE %s",
                           ["%public_id%_like"])
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')


def remove(apps, schema_editor):
    from covey.payouts.ledger import remove_append_only

    remove_append_only(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
