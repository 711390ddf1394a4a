"""Crash safety: ``covey payouts run`` and ``covey import`` killed with SIGKILL mid-way leave nothing
half-written, and running them again completes with the right totals.

Each command runs as a real subprocess against a file database: the test's own PostgreSQL database,
or a file copy of the in-memory SQLite test database (``sqlite3`` backup). It is killed once it is
demonstrably writing: on PostgreSQL its backend holds a write lock on the target table inside an open
transaction; on SQLite it holds the database's write lock and its WAL has grown by pages it has not
committed. Both commands do their writes in one transaction, which the database rolls back when the
connection dies.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

QUARTER = "2026Q2"
PROGRAM = "Bench Partner Program"
IMPORT_ROWS = 150_000


class Scratch:
    """The database the subprocess works on, and plain SQL against it from the test."""

    def __init__(self, tmp_path: Path):
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            self.path = tmp_path / "covey.sqlite3"
            target = sqlite3.connect(self.path)
            connection.ensure_connection()
            connection.connection.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
            target.close()
            self.url = f"sqlite:///{self.path}"
        else:
            s = connection.settings_dict
            login = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else "")
            self.url = f"postgresql://{login}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def one(self, sql: str):
        if self.sqlite:
            with sqlite3.connect(self.path, timeout=20) as db:
                return db.execute(sql).fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    def writing(self, table: str, wal_start: int) -> bool:
        """The subprocess has an open transaction that has written to ``table`` (or, on SQLite, to the database)."""
        if self.sqlite:
            wal = self.path.with_name(self.path.name + "-wal")
            grown = wal.exists() and wal.stat().st_size > wal_start + 1_000_000
            if not grown:
                return False
            probe = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return False  # nobody holds the write lock
            except sqlite3.OperationalError:
                return True
            finally:
                probe.close()
        return bool(self.one(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE c.relname = '{table}' AND l.mode = 'RowExclusiveLock' AND l.granted AND a.pid <> pg_backend_pid() "
            "AND a.xact_start IS NOT NULL"
        ))

    def wal_size(self) -> int:
        wal = Path(f"{self.path}-wal") if self.sqlite else None
        return wal.stat().st_size if wal is not None and wal.exists() else 0

    def covey(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "covey.cli", *args], env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def env(self) -> dict:
        return os.environ | {"DATABASE_URL": self.url}

    def kill_while_writing(self, table: str, *args: str, limit: float = 300) -> None:
        wal_start = self.wal_size()
        process = subprocess.Popen([sys.executable, "-m", "covey.cli", *args], env=self.env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + limit
        try:
            while not self.writing(table, wal_start):
                assert process.poll() is None, f"finished before it could be caught writing: {process.stderr.read()!r}"
                assert time.monotonic() < deadline, "never seen writing"
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL


@pytest.mark.django_db(transaction=True)
def test_a_payout_run_killed_while_posting_leaves_no_entries_and_a_rerun_posts_them_all(tmp_path):
    from covey.bench import payouts_data
    from covey.payouts.services import compute_quarter, parse_period
    from covey.programs.models import Program

    generated = payouts_data.generate(lines=60_000, partners=2_000, progress=lambda *_: None)
    expected = compute_quarter(Program.objects.get(pk=generated.program_id), parse_period(QUARTER))
    assert expected.height > 10_000
    scratch = Scratch(tmp_path)

    scratch.kill_while_writing("payouts_ledgerentry", "payouts", "run", "--program", PROGRAM, "--period", QUARTER)

    assert scratch.one("SELECT count(*) FROM payouts_ledgerentry") == 0
    assert scratch.one("SELECT count(*) FROM payouts_payoutrun") == 0
    again = scratch.covey("payouts", "run", "--program", PROGRAM, "--period", QUARTER)
    assert again.returncode == 0, again.stderr
    assert scratch.one("SELECT count(*) FROM payouts_payoutrun WHERE status = 'done'") == 1
    assert scratch.one("SELECT count(*) FROM payouts_ledgerentry") == expected.height
    assert scratch.one("SELECT sum(amount_minor) FROM payouts_ledgerentry") == expected["amount_minor"].sum()


def _accounts_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_id", "name", "domain", "country", "employees", "status"])
        for i in range(rows):
            writer.writerow([f"ACC-{i:06d}", f"Customer {i} GmbH", f"customer-{i}.example", "DE", i % 5000, "customer"])


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_while_writing_leaves_no_half_batch_and_a_rerun_imports_every_row(tmp_path):
    scratch = Scratch(tmp_path)
    path = tmp_path / "accounts.csv"
    _accounts_csv(path, IMPORT_ROWS)
    audit_before = scratch.one("SELECT count(*) FROM core_auditevent")

    scratch.kill_while_writing("crm_account", "import", "accounts", str(path))

    assert scratch.one("SELECT count(*) FROM crm_account") == 0
    assert scratch.one("SELECT count(*) FROM core_auditevent") == audit_before
    again = scratch.covey("import", "accounts", str(path))
    assert again.returncode == 0, again.stderr
    assert scratch.one("SELECT count(*) FROM crm_account") == IMPORT_ROWS
    assert scratch.one("SELECT sum(employees) FROM crm_account") == sum(i % 5000 for i in range(IMPORT_ROWS))
    assert scratch.one("SELECT count(*) FROM core_auditevent") == audit_before + IMPORT_ROWS
    # Once more: every row is unchanged, nothing is written.
    third = scratch.covey("import", "accounts", str(path))
    assert third.returncode == 0 and scratch.one("SELECT count(*) FROM core_auditevent") == audit_before + IMPORT_ROWS
