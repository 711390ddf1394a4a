"""The database itself refuses to change or remove a posted ledger entry (see ``covey.payouts.ledger``)."""

from django.db import migrations


def install(apps, schema_editor):
    from covey.payouts.ledger import ensure_append_only

    ensure_append_only(schema_editor.connection)


def remove(apps, schema_editor):
    from covey.payouts.ledger import remove_append_only

    remove_append_only(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0002_initial")]
    operations = [migrations.RunPython(install, remove)]
