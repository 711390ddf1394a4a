"""Prepared statements for the few hot-path queries Covey writes in plain SQL.

Django sends every query as text with its values inlined, so PostgreSQL parses and plans it anew
each time. For the handful of statements that run on every API call or registration — the token
lookup, the account facts, the registration insert — planning cost PostgreSQL more CPU than running
them (``covey bench registrations``). ``prepared_cursor`` gives a cursor that sends values as
parameters and lets PostgreSQL keep the statement, and after a few runs its plan, per connection.

Only statements whose best plan does not depend on the values belong here: a kept (generic) plan is
chosen without seeing them. Write constants (stage names, flags) into the text rather than passing
them, or the plan cannot use them. The ORM's own queries stay as they are (planned per execution).
On SQLite, or with ``DB_PREPARED_STATEMENTS`` off, this is an ordinary cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

PREPARE_AFTER = 2  # executions of the same text on one connection before PostgreSQL keeps it


class _LoggedCursor(CursorDebugWrapper):
    """Logs the statement as written (with its placeholders): a prepared statement has no "last
    executed query" text for Django to read back, and the query log must not lose it."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params, use_last_executed_query=False):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor(using: str = "default") -> Iterator[CursorWrapper]:
    """A Django cursor (errors wrapped, queries logged in tests) whose statements are prepared."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    # Only server-binding cursors (this one) prepare; the ORM's client-side cursors never do.
    raw.prepare_threshold = PREPARE_AFTER
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(raw)
    wrapper = (_LoggedCursor if connection.queries_logged else CursorWrapper)(cursor, connection)
    with wrapper:
        yield wrapper
