"""Set-based inserts: many rows into one table without building model instances.

``bulk_insert(Model, ["name", "account", ...], rows)`` writes tuples straight to the table:

- On PostgreSQL it streams them through one ``COPY table (cols) FROM STDIN`` (psycopg 3's
  ``copy.write_row``), the fastest way in; psycopg does the COPY escaping (tabs, newlines,
  backslashes, NULLs) and adapts Python values (int, str, bool, date, aware datetime).
- On SQLite it runs ``executemany`` of a plain parameterised INSERT, ``batch_size`` rows at a time.

What it does *not* do, on purpose: no ``save()``, no signals, no ``auto_now``/``default`` values, no
``PublicIdField`` generation, no validation. The caller passes a value for every NOT NULL column
(``created_at``, ``updated_at``, ``public_id`` included); a missing one is refused before anything is
written. Model ``default=`` values are Python-side, so they are *not* applied; only ``db_default``
columns may be left out. Values are written as given, so the caller also owns their validity
(choices, lengths, check constraints are still enforced by the database where it has them).

Everything happens inside one transaction: if any row is refused, none is written. When the caller
passes the primary key, the table's id sequence is moved past the largest id afterwards, so later
ORM inserts do not collide with the ids given.

Also here: ``next_id`` (where explicit ids may start), ``prepare_rows`` (do the value adaptation
in another process) and ``indexes_deferred`` (build plain indexes, and PostgreSQL's foreign keys,
once after a very large load instead of row by row).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.db.models.fields import NOT_PROVIDED

__all__ = ["bulk_insert", "columns_for", "indexes_deferred", "next_id", "prepare_rows"]

# Field types whose Python values both drivers take as they are; anything else goes through
# the field's own ``get_db_prep_save`` (datetimes on SQLite, JSON, decimals, UUIDs...).
_PLAIN = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "CharField", "TextField", "SlugField",
    "EmailField", "URLField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "BooleanField",
})
# PostgreSQL's driver adapts these natively; SQLite needs Django's text form (naive UTC).
_PLAIN_ON_POSTGRES = frozenset({"DateField", "DateTimeField", "TimeField", "DecimalField", "UUIDField"})


def columns_for(model: type[models.Model], fields: list[str]) -> list[models.Field]:
    """The concrete fields named (by name, e.g. ``account``, or attname, ``account_id``)."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    by_name = {f.name: f for f in model._meta.concrete_fields}
    out = []
    for name in fields:
        field = by_attname.get(name) or by_name.get(name)
        if field is None:
            raise ValueError(f"{model.__name__} has no column {name!r}")
        out.append(field)
    if len({f.column for f in out}) != len(out):
        raise ValueError(f"a column is named twice in {fields!r}")
    return out


def _check_not_null_columns(model: type[models.Model], given: list[models.Field]) -> None:
    given_columns = {f.column for f in given}
    missing = [
        f.attname for f in model._meta.concrete_fields
        if f.column not in given_columns
        and not f.null
        and not f.primary_key
        and getattr(f, "db_default", NOT_PROVIDED) is NOT_PROVIDED
    ]
    if missing:
        raise ValueError(
            f"bulk_insert into {model.__name__} needs a value for every NOT NULL column; "
            f"missing: {', '.join(missing)}"
        )


def _adapter(field: models.Field, connection) -> Callable | None:
    """A function turning a Python value into what the driver should receive, or None (as is)."""
    kind = field.get_internal_type()
    if kind in ("ForeignKey", "OneToOneField"):  # the key's value has its target column's type
        kind = field.target_field.get_internal_type()
    if kind in _PLAIN or (connection.vendor == "postgresql" and kind in _PLAIN_ON_POSTGRES):
        return None
    if kind == "DateTimeField" and connection.vendor == "sqlite" and _utc(connection.timezone):
        # Django stores aware datetimes on SQLite as naive UTC text; doing it here directly (and
        # remembering recent results: generated data repeats timestamps) is ~5x faster than the
        # generic path, which matters at a million rows.
        seen: dict = {}

        def to_text(value, _utc=UTC):
            if value is None:
                return None
            text = seen.get(value)
            if text is not None:
                return text
            if isinstance(value, datetime) and value.tzinfo is not None:
                text = str((value if value.tzinfo is _utc else value.astimezone(_utc)).replace(tzinfo=None))
            else:
                text = field.get_db_prep_save(value, connection)
            if len(seen) > 200_000:
                seen.clear()
            seen[value] = text
            return text

        return to_text
    prep = field.get_db_prep_save
    cache: dict = {}

    def adapt(value):
        if value is None:
            return None
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = prep(value, connection)
            if len(cache) > 100_000:
                cache.clear()
            return result
        except TypeError:  # unhashable (a dict for a JSON column)
            return prep(value, connection)

    return adapt


def _utc(tz) -> bool:
    return tz is not None and datetime(2000, 1, 1, tzinfo=tz).utcoffset().total_seconds() == 0


def _adapted_rows(rows: Iterable[tuple], adapters: list[Callable | None], width: int) -> Iterator[tuple]:
    active = [(i, a) for i, a in enumerate(adapters) if a is not None]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row has {len(row)} values for {width} columns: {row!r}")
        if active:
            row = list(row)
            for i, adapt in active:
                row[i] = adapt(row[i])
        yield row


def prepare_rows(
    model: type[models.Model], fields: list[str], rows: Iterable[tuple], *, using: str = "default",
) -> Iterator[tuple]:
    """``rows`` turned into the values the database driver takes, checked for width.

    ``bulk_insert`` does this itself; a producer in another process may do it there instead and
    pass ``prepared=True``, so the process talking to the database only inserts. Needs no
    database connection, only the backend's settings.
    """
    connection = connections[using]
    given = columns_for(model, fields)
    return _adapted_rows(rows, [_adapter(f, connection) for f in given], len(given))


def bulk_insert(
    model: type[models.Model],
    fields: list[str],
    rows: Iterable[tuple],
    *,
    batch_size: int = 5_000,
    using: str = "default",
    prepared: bool = False,
) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table; return the count.

    ``rows`` may be a generator: it is consumed once, in a streaming way (PostgreSQL: one COPY;
    SQLite: ``batch_size`` rows per ``executemany``). See the module docstring for what the caller
    must supply. ``prepared`` rows have been through ``prepare_rows`` already.
    """
    connection = connections[using]
    given = columns_for(model, fields)
    _check_not_null_columns(model, given)
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(f.column) for f in given)
    stream = rows if prepared else prepare_rows(model, fields, rows, using=using)
    count = 0
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The driver's own cursor does COPY; Django's wrapper turns its errors into
                # django.db ones (IntegrityError...), as for any other query.
                with connection.wrap_database_errors, cursor.cursor.copy(
                    f"COPY {table} ({column_sql}) FROM STDIN"
                ) as copy:
                    write_row = copy.write_row
                    for row in stream:
                        write_row(row)
                        count += 1
            else:
                placeholders = ", ".join(["%s"] * len(given))
                sql = f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})"
                while batch := list(itertools.islice(stream, batch_size)):
                    cursor.executemany(sql, batch)
                    count += len(batch)
            if count and any(f.primary_key for f in given):
                for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
                    cursor.execute(statement)
    return count


def next_id(model: type[models.Model], *, using: str = "default") -> int:
    """The first free primary key above every existing row: where explicit ids may start."""
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {table}")
        return int(cursor.fetchone()[0]) + 1


@contextlib.contextmanager
def indexes_deferred(tables: Iterable[type[models.Model]], *, using: str = "default") -> Iterator[list[str]]:
    """For one very large load: drop these tables' plain indexes (and on PostgreSQL their
    foreign keys), and build them again afterwards from their own stored definitions.

    Maintaining half a dozen random-order indexes row by row, and on PostgreSQL queueing one
    deferred foreign-key check per row until commit, costs several times more than sorting each
    index once and checking each foreign key with one join at the end. Unique indexes and
    constraints stay in place: they are checked row by row as usual.

    Consistency is kept by the transaction: this must run inside ``transaction.atomic``; other
    connections never see the tables without their indexes or keys, re-adding a foreign key
    validates every row, and if anything fails the rollback restores the schema. The price is a
    lock: until commit, the tables (and on PostgreSQL the tables their keys point to) are closed
    to other connections' reads as well. Use it for seeding and bulk loads run while the app is
    idle, not on a live hot path. Yields the list of statements it will run at the end.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_deferred must run inside transaction.atomic()")
    qn = connection.ops.quote_name
    restore_indexes: list[str] = []
    restore_keys: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses to run while deferred checks are queued; run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model in tables:
            table = model._meta.db_table
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
                for name, sql in cursor.fetchall():
                    if not sql.lstrip().upper().startswith("CREATE UNIQUE"):
                        restore_indexes.append(sql)
                        cursor.execute(f"DROP INDEX {qn(name)}")
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                    [qn(table)],
                )
                for name, definition in cursor.fetchall():
                    restore_keys.append(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
                    cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
                    "ORDER BY i.relname",
                    [qn(table)],
                )
                for name, definition in cursor.fetchall():
                    restore_indexes.append(definition)
                    cursor.execute(f"DROP INDEX {qn(name)}")
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    statements = restore_indexes + restore_keys
    yield statements
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in statements:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
