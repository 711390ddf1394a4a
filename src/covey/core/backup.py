"""Backups: one archive holding the whole database and every uploaded file, and its restore.

A backup is a ``.tar.gz`` with

- ``manifest.json``: format, Covey version, database vendor, when it was taken, the applied
  migrations, every table's row count, and each file's size and SHA-256;
- ``database.sqlite3`` (SQLite: a consistent copy through SQLite's online backup API, so it can be
  taken while the app runs) or ``database.dump`` (PostgreSQL: ``pg_dump`` custom format — the
  database's own tool keeps sequences, constraints, indexes and the ledger's append-only triggers);
- ``media/…``: the uploaded files (agreements, dispute evidence, library files…).

Restore reads and checks the whole archive first (manifest, every checksum, safe member names, the
same database vendor) and changes nothing when any check fails. Then it replaces the database, puts
the current media directory aside (``media.before-restore-<time>``, never deleted) and unpacks the
backup's files, and finally compares every table's row count with the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

FORMAT = "covey-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
MEDIA_PREFIX = "media/"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    path: Path
    vendor: str
    tables: int
    rows: int
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _row_counts(connection) -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _migrations(connection) -> list[str]:
    from django.db.migrations.recorder import MigrationRecorder

    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def _pg_env(settings_dict: dict) -> tuple[list[str], dict]:
    """libpq arguments and environment for pg_dump/pg_restore, from Django's connection settings."""
    args = ["--dbname", settings_dict["NAME"]]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed; PostgreSQL backups use it "
                          "(Debian/Ubuntu: apt-get install postgresql-client, matching the server's version).")
    return found


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def backup(out: Path, *, media_root: Path | None = None, now: datetime | None = None) -> Summary:
    """Write the archive to ``out`` (created atomically: a partial file never carries the final name)."""
    from django.conf import settings
    from django.db import connection

    import covey

    media_root = Path(media_root or settings.MEDIA_ROOT)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    with tempfile.TemporaryDirectory(prefix="covey-backup-") as work:
        work_dir = Path(work)
        connection.ensure_connection()
        counts = _row_counts(connection)
        migrations = _migrations(connection)
        if vendor == "sqlite":
            member, dumped = SQLITE_MEMBER, work_dir / SQLITE_MEMBER
            target = sqlite3.connect(dumped)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        else:
            member, dumped = PG_MEMBER, work_dir / PG_MEMBER
            args, env = _pg_env(connection.settings_dict)
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dumped), *args], env)
        files = {member: {"size": dumped.stat().st_size, "sha256": _sha256(dumped)}}
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
        for path in media:
            name = MEDIA_PREFIX + path.relative_to(media_root).as_posix()
            files[name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
        manifest = {
            "format": FORMAT, "covey_version": covey.__version__, "vendor": vendor,
            "taken_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "migrations": migrations, "row_counts": counts, "files": files,
        }
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dumped, arcname=member)
            for path in media:
                tar.add(path, arcname=MEDIA_PREFIX + path.relative_to(media_root).as_posix())
        partial.replace(out)
    return Summary(path=out, vendor=vendor, tables=len(counts), rows=sum(counts.values()), files=len(media))


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def read_checked(archive: Path, work_dir: Path) -> dict:
    """Unpack ``archive`` into ``work_dir`` and check it against its manifest; the manifest."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for m in members:
                if not _safe(m.name) or not (m.isfile() or m.isdir()):
                    raise BackupError(f"The archive holds an unsafe entry ({m.name!r}); it was not made by covey backup.")
            names = {m.name for m in members if m.isfile()}
            if MANIFEST not in names:
                raise BackupError("The archive has no manifest.json; it was not made by covey backup.")
            tar.extractall(work_dir, members=[m for m in members if m.isfile()])
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"The backup cannot be read ({exc}); it is damaged or not a covey backup.") from None
    try:
        manifest = json.loads((work_dir / MANIFEST).read_text())
    except ValueError:
        raise BackupError("The archive's manifest.json is not valid JSON.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r} (this Covey reads {FORMAT}).")
    listed = manifest.get("files", {})
    extra = names - set(listed) - {MANIFEST}
    missing = set(listed) - names
    if extra or missing:
        raise BackupError(f"The archive does not match its manifest: missing {sorted(missing)[:5]}, unlisted {sorted(extra)[:5]}.")
    for name, facts in listed.items():
        path = work_dir / name
        if path.stat().st_size != facts["size"] or _sha256(path) != facts["sha256"]:
            raise BackupError(f"{name} does not match the checksum in the manifest; the backup is damaged.")
    return manifest


def restore(archive: Path, *, media_root: Path | None = None, now: datetime | None = None) -> Summary:
    """Replace the database and the uploaded files with the backup's; the current media is kept aside."""
    from django.conf import settings
    from django.db import connection

    media_root = Path(media_root or settings.MEDIA_ROOT)
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"No backup at {archive}.")
    vendor = connection.vendor
    with tempfile.TemporaryDirectory(prefix="covey-restore-") as work:
        work_dir = Path(work)
        manifest = read_checked(archive, work_dir)
        if manifest["vendor"] != vendor:
            raise BackupError(f"This is a {manifest['vendor']} backup and the configured database is {vendor}; "
                              "restore it into the same kind of database it was taken from.")
        if connection.in_atomic_block:
            raise BackupError("Restore cannot run inside a transaction.")
        connection.ensure_connection()
        if vendor == "sqlite":
            source = sqlite3.connect(work_dir / SQLITE_MEMBER)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
        else:
            args, env = _pg_env(connection.settings_dict)
            connection.close()  # pg_restore --clean drops tables; our session must hold no locks on them
            _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", "--exit-on-error", *args, str(work_dir / PG_MEMBER)], env)
        media_files = [name for name in manifest["files"] if name.startswith(MEDIA_PREFIX)]
        if media_root.exists() and any(media_root.iterdir()):
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
            media_root.rename(media_root.with_name(f"{media_root.name}.before-restore-{stamp}"))
        media_root.mkdir(parents=True, exist_ok=True)
        for name in media_files:
            target = media_root / name[len(MEDIA_PREFIX):]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work_dir / name, target)
    counts = _row_counts(connection)
    expected = manifest["row_counts"]
    differ = {t: (expected.get(t), counts.get(t)) for t in set(expected) | set(counts)
              if t in expected and expected.get(t) != counts.get(t)}
    if differ:
        raise BackupError(f"After the restore some tables do not hold the backup's rows: {dict(sorted(differ.items())[:5])}")
    return Summary(path=archive, vendor=vendor, tables=len(expected), rows=sum(expected.values()), files=len(media_files))
