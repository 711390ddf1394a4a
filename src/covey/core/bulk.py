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

For the other end of the scale, ``insert_instances(objs)`` writes a few new model instances (one
request's registration, its audit record, a notification) with one plain ``INSERT … RETURNING``:
it applies what ``save()`` would (defaults were set by the constructor; ``pre_save`` fills public
ids and ``auto_now`` stamps) but skips the ORM's statement compiler, which on a hot path cost more
CPU than the database spent on the row. ``insert_together(parent_group, *child_groups)`` writes a
new row and the rows that come with it (its links, its audit record, its notifications) all or
nothing — on PostgreSQL as one statement, so one round trip and, outside a transaction, no
BEGIN/COMMIT either.

Also here: ``next_id`` (where explicit ids may start), ``prepare_rows`` (do the value adaptation
in another process) and ``indexes_deferred`` (build plain indexes, and PostgreSQL's foreign keys,
once after a very large load instead of row by row).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.db.models.fields import NOT_PROVIDED

from covey.core.sql import prepared_cursor

__all__ = [
    "bulk_insert", "columns_for", "indexes_deferred", "insert_frame", "insert_instances", "insert_together", "next_id",
    "prepare_rows", "read_frame",
]

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


@functools.lru_cache(maxsize=64)
def _insert_plan(model: type[models.Model], alias: str, vendor: str) -> tuple[str, str, list, list]:
    """(INSERT … VALUES prefix, one row's placeholders + RETURNING suffix, fields, adapters) for every
    concrete column but an auto primary key. ``vendor`` is part of the key: tests switch databases."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
    prefix = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return prefix, row, fields, [_adapter(f, connection) for f in fields]


def _row_values(obj: models.Model, fields: list, adapters: list) -> list:
    values = []
    for field, adapt in zip(fields, adapters, strict=True):
        value = field.pre_save(obj, True)
        values.append(value if adapt is None or value is None else adapt(value))
    return values


def _check_new(objs: list[models.Model], fields: list) -> type[models.Model]:
    model = type(objs[0])
    for obj in objs:
        if type(obj) is not model or (obj.pk is not None and model._meta.pk not in fields):
            raise ValueError("insert_instances takes new instances of one model")
    return model


def _saved(objs: list[models.Model], keys: list, using: str) -> None:
    pk = objs[0]._meta.pk
    for obj, key in zip(objs, keys or [None] * len(objs), strict=True):
        if key is not None:
            setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = using


def insert_instances(objs: list[models.Model], *, using: str = "default") -> None:
    """Insert new, unsaved instances of one model in one statement and set their primary keys.

    What ``Model.save()`` does for a new row, minus signals and the ORM's SQL compiler: every
    field's ``pre_save(add=True)`` runs (public ids, ``auto_now_add``), values are adapted as the
    ORM would, and database errors arrive as ``django.db`` exceptions (a unique index refusing the
    row is an ``IntegrityError``). Call it inside the caller's transaction as usual.
    """
    if not objs:
        return
    connection = connections[using]
    prefix, row, fields, adapters = _insert_plan(type(objs[0]), using, connection.vendor)
    model = _check_new(objs, fields)
    params = [value for obj in objs for value in _row_values(obj, fields, adapters)]
    pk = model._meta.pk
    returning = f" RETURNING {connection.ops.quote_name(pk.column)}" if pk not in fields else ""
    with connection.cursor() as cursor:
        cursor.execute(prefix + ", ".join([row] * len(objs)) + returning, params)
        keys = [r[0] for r in cursor.fetchall()] if returning else []
    _saved(objs, keys, using)


def _links_to(obj: models.Model, parent: models.Model) -> list:
    """The foreign keys of ``obj`` whose cached target is ``parent`` itself (still unsaved)."""
    return [
        f for f in obj._meta.concrete_fields
        if f.is_relation and f.many_to_one and f.is_cached(obj) and f.get_cached_value(obj) is parent
    ]


def insert_together(parents: list[models.Model], *groups: list[models.Model], using: str = "default") -> None:
    """Insert one new row (``parents``, a list of one) and groups of new rows that come with it, all
    or nothing, and set every primary key.

    A row in a group points at the parent by having the unsaved parent instance assigned to a foreign
    key (``through(registration=registration, product=p)``); it gets the parent's new key.

    On PostgreSQL this is one prepared statement: the parent's INSERT … RETURNING and each group's
    INSERT as data-modifying CTEs, the groups reading the new key with ``(SELECT id FROM g0)``. Each
    group's rows travel as one JSON parameter (``jsonb_populate_recordset`` turns them into rows of
    the table's own type), so the statement's text and plan are the same whatever the number of rows
    and values, and the driver has a handful of parameters to bind instead of hundreds. A statement
    is atomic by itself, so outside a transaction this costs one round trip (no BEGIN/COMMIT); inside
    one, it runs in a savepoint so a refused row (``IntegrityError``) leaves the caller's transaction
    usable, as ``transaction.atomic`` would. Elsewhere (SQLite, in-process, where round trips are
    cheap) it is one ``insert_instances`` per group inside ``transaction.atomic``.
    """
    if len(parents) != 1:
        raise ValueError("insert_together takes exactly one parent row")
    groups = tuple(g for g in groups if g)
    parent = parents[0]
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            insert_instances(parents, using=using)
            for group in groups:
                for obj in group:
                    for field in _links_to(obj, parent):
                        setattr(obj, field.attname, parent.pk)
                insert_instances(group, using=using)
        return
    shape = []
    for number, objs in enumerate((parents, *groups)):
        _check_new(objs, _insert_plan(type(objs[0]), using, connection.vendor)[2])
        links = frozenset(f.attname for f in _links_to(objs[0], parent)) if number else frozenset()
        if any(frozenset(f.attname for f in _links_to(obj, parent)) != links for obj in objs):
            raise ValueError("every row of a group must point at the parent the same way")
        shape.append((type(objs[0]), links))
    sql, group_fields = _together_sql(tuple(shape), using)
    params = [
        json.dumps([{f.column: f.pre_save(obj, True) for f in fields} for obj in objs], default=_json_default)
        for objs, fields in zip((parents, *groups), group_fields, strict=True)
    ]
    savepoint = transaction.atomic(using=using) if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, prepared_cursor(using) as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    keys: dict[int, list] = {}
    for number, key in returned:
        keys.setdefault(number, []).append(key)
    for number, objs in enumerate((parents, *groups)):
        if number:
            for obj in objs:
                for field in _links_to(obj, parent):
                    setattr(obj, field.attname, parent.pk)
        _saved(objs, keys.get(number, []), using)


@functools.lru_cache(maxsize=64)
def _together_sql(shape: tuple[tuple[type[models.Model], frozenset[str]], ...], alias: str) -> tuple[str, list]:
    """The statement for groups of these models (with these links to the parent), and per group the
    fields whose values its JSON rows carry."""
    qn = connections[alias].ops.quote_name
    parent_key = f"(SELECT {qn(shape[0][0]._meta.pk.column)} FROM g0)"
    ctes, selects, group_fields = [], [], []
    for number, (model, links) in enumerate(shape):
        fields = _insert_plan(model, alias, "postgresql")[2]
        table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
        columns = ", ".join(qn(f.column) for f in fields)
        values = ", ".join(parent_key if f.attname in links else f"r.{qn(f.column)}" for f in fields)
        ctes.append(
            f"g{number} AS (INSERT INTO {table} ({columns}) SELECT {values} "
            f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) r RETURNING {pk})"
        )
        selects.append(f"SELECT {number}, {pk} FROM g{number}")
        group_fields.append([f for f in fields if f.attname not in links])
    return "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects), group_fields


def _json_default(value):
    """What ``json.dumps`` cannot write itself, in the text form PostgreSQL reads back exactly."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()  # microseconds and the UTC offset included
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written by insert_together")


COPY_SLICE = 100_000


def insert_frame(model: type[models.Model], frame, *, using: str = "default") -> int:
    """Insert the rows of a Polars frame whose columns are ``model``'s attnames; return the count.

    PostgreSQL: the frame is written as CSV by Polars (native code) and streamed into one
    ``COPY … FROM STDIN``, so millions of rows never become Python objects. SQLite: ``executemany``.
    Like ``bulk_insert``, it applies no model defaults: give every NOT NULL column.
    """
    import polars as pl

    if not frame.height:
        return 0
    connection = connections[using]
    given = columns_for(model, list(frame.columns))
    _check_not_null_columns(model, given)
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(f.column) for f in given)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with connection.wrap_database_errors, cursor.cursor.copy(
                f"COPY {table} ({column_sql}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            ) as copy:
                for offset in range(0, frame.height, COPY_SLICE):  # bounded memory for millions of rows
                    copy.write(frame.slice(offset, COPY_SLICE).write_csv(
                        include_header=False, null_value="\\N", quote_style="non_numeric",
                        datetime_format="%Y-%m-%dT%H:%M:%S%.f%z").encode())
            if "id" in frame.columns:  # explicit keys: move the sequence past them, as bulk_insert does
                for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
                    cursor.execute(statement)
        else:
            text = frame.with_columns(
                [pl.col(c).cast(pl.Utf8) for c, t in frame.schema.items() if t == pl.Date]
                + [pl.col(c).dt.replace_time_zone(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f").alias(c)
                   for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
            )
            placeholders = ", ".join(["%s"] * len(given))
            cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", text.rows())
    return frame.height


def read_frame(sql: str, params: list, schema: dict, *, using: str = "default"):
    """The rows of a query as a Polars frame with ``schema`` (column → dtype, in SELECT order).

    On PostgreSQL the rows stream out through ``COPY (query) TO STDOUT`` as CSV, which psycopg reads
    in bulk and Polars parses in native code: no Python object per value, the way a million rows come
    out in seconds. Booleans must be selected as 0/1 integers (CSV has no boolean). Elsewhere it is
    an ordinary cursor.
    """
    import io

    import polars as pl

    connection = connections[using]
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        with connection.cursor() as cursor, connection.wrap_database_errors:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for chunk in copy:
                    buffer.write(chunk)
        if not buffer.tell():
            return pl.DataFrame(schema=schema)
        wire = {name: (pl.Int8 if dtype == pl.Boolean else pl.Utf8 if isinstance(dtype, pl.List) else dtype)
                for name, dtype in schema.items()}
        frame = pl.read_csv(buffer.getvalue(), has_header=False, new_columns=list(schema), schema_overrides=wire,
                            try_parse_dates=False)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        # SQLite answers dates as date objects for date columns and as text for expressions.
        dates = [i for i, dtype in enumerate(schema.values()) if dtype == pl.Date]
        if dates and rows:
            rows = [list(row) for row in rows]
            for row in rows:
                for i in dates:
                    value = row[i]
                    if isinstance(value, str):
                        row[i] = date.fromisoformat(value[:10])
                    elif isinstance(value, datetime):
                        row[i] = value.date()
        wire = {name: (pl.Int8 if dtype == pl.Boolean else pl.Utf8 if isinstance(dtype, pl.List) else dtype)
                for name, dtype in schema.items()}
        frame = pl.DataFrame(rows, schema=wire, orient="row")
    casts = []
    for name, dtype in schema.items():
        if dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Boolean))
        elif isinstance(dtype, pl.List):
            casts.append(pl.col(name).fill_null("").str.split("|").list.filter(pl.element() != "").alias(name))
        elif dtype == pl.Date and frame.schema[name] == pl.Utf8:
            casts.append(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d"))
    return frame.with_columns(casts) if casts else frame


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
