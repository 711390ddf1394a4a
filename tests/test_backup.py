"""covey backup / covey restore: every table and every uploaded file round-trip, on SQLite and PostgreSQL,
and a damaged or foreign archive is refused before anything changes."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from typer.testing import CliRunner

from covey.core.backup import BackupError, backup, restore
from covey.crm.models import Account
from covey.partners.models import Partner

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_backup_restores_every_row_and_file_and_puts_the_replaced_files_aside(world, media, tmp_path):
    from tests.conftest import make_full_world

    make_full_world(world)  # every feature's rows, so every table has something to lose
    default_storage.save("agreements/signed.pdf", ContentFile(b"%PDF-1.4 signed"))
    files = sorted(p.relative_to(media) for p in media.rglob("*") if p.is_file())
    archive = backup(tmp_path / "covey.tar.gz").path
    partners, accounts = Partner.objects.count(), Account.objects.count()

    Account.objects.filter(pk=world.account_b.pk).update(name="Changed after the backup")
    Partner.objects.create(name="Created after the backup", domain="after.example")
    default_storage.delete("agreements/signed.pdf")
    default_storage.save("stray.txt", ContentFile(b"made after"))

    summary = restore(archive)
    assert summary.rows > 0 and summary.files == len(files) >= 2  # the world's countersigned agreement too
    assert sorted(p.relative_to(media) for p in media.rglob("*") if p.is_file()) == files
    assert Partner.objects.count() == partners and Account.objects.count() == accounts
    assert Account.objects.get(pk=world.account_b.pk).name == world.account_b.name
    assert not Partner.objects.filter(name="Created after the backup").exists()
    assert (media / "agreements" / "signed.pdf").read_bytes() == b"%PDF-1.4 signed"
    assert not (media / "stray.txt").exists()
    kept = [p for p in media.parent.iterdir() if p.name.startswith("media.before-restore-")]
    assert len(kept) == 1 and (kept[0] / "stray.txt").read_bytes() == b"made after"


def test_a_damaged_archive_changes_nothing(world, media, tmp_path):
    archive = backup(tmp_path / "good.tar.gz").path
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["row_counts"]["partners_partner"] = 999
                data = json.dumps(manifest).encode()
            elif member.name.startswith("database."):
                data = data[:-10] + b"0123456789"  # the checksum no longer matches
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    Partner.objects.create(name="Made after the backup", domain="later.example")
    with pytest.raises(BackupError, match="checksum"):
        restore(damaged)
    assert Partner.objects.filter(name="Made after the backup").exists()
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tar at all")
    with pytest.raises(BackupError, match="cannot be read"):
        restore(tmp_path / "junk.tar.gz")


def test_the_cli_backs_up_and_restores(world, media, tmp_path):
    from covey.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["backup", "--out", str(tmp_path / "cli.tar.gz")])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    Partner.objects.create(name="Gone after restore", domain="gone.example")
    result = runner.invoke(app, ["restore", str(tmp_path / "cli.tar.gz"), "--yes"])
    assert result.exit_code == 0, result.output
    assert not Partner.objects.filter(name="Gone after restore").exists()
    result = runner.invoke(app, ["restore", str(tmp_path / "missing.tar.gz"), "--yes"])
    assert result.exit_code == 2 and "No backup at" in result.output


def test_the_health_endpoint_answers_without_a_log_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"
