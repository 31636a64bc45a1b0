"""Backups and restore, as a user meets them: the day's backup, backups before what rewrites many
records, `crmtui backup`, `crmtui backups list`, pruning, and `crmtui restore` with its refusals."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store import backups, clock, migrations
from tests.commands import ok, run
from tests.conftest import FIXED_NOW, fetch, snapshot_of

def refused(db: Path, *args: str) -> str:
    result = run(db, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error:") and "Traceback" not in result.output
    return " ".join(result.stderr.split())


def saved(db: Path) -> list[tuple[str, str]]:
    """The backups of `db`: (reason, UTC time) each, oldest first."""
    return [(b.reason, f"{b.taken_at:%Y-%m-%d %H:%M}") for b in reversed(backups.list_backups(db))]


def titles(db: Path) -> list[str]:
    return [r[0] for r in fetch(db, "SELECT title FROM deal WHERE deleted_at IS NULL ORDER BY id")]


@pytest.fixture
def utc() -> Iterator[None]:
    """The user's clock on UTC, so that days, weeks and months are the same on every machine."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def now(utc: None, fixed_clock: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """A fixed clock, and the day's backup on as for a user (the suite turns it off elsewhere)."""
    monkeypatch.setattr(backups, "daily_on_open", True)
    return fixed_clock


@pytest.fixture
def crm(db_path: Path, now: dt.datetime) -> Path:
    ok(db_path, "add", "deal", "Audit", "--company", "Acme", "--amount", "100")
    return db_path


def test_the_first_open_of_a_day_backs_the_database_up_once_privately(crm: Path) -> None:
    assert saved(crm) == []  # the open that created the database had nothing to back up
    ok(crm, "deals", "list")
    ok(crm, "add", "deal", "Retainer", "--company", "Bolt")
    ok(crm, "deals", "list")
    assert saved(crm) == [("daily", "2026-11-23 09:30")]
    clock.set_fixed_now(FIXED_NOW + dt.timedelta(days=1, hours=-9))  # just after midnight
    ok(crm, "deals", "list")
    ok(crm, "deals", "list")
    assert saved(crm) == [("daily", "2026-11-23 09:30"), ("daily", "2026-11-24 00:30")]

    first, second = reversed(backups.list_backups(crm))
    assert [r[0] for r in fetch(first.path, "SELECT title FROM deal")] == ["Audit"]
    assert [r[0] for r in fetch(second.path, "SELECT title FROM deal")] == ["Audit", "Retainer"]
    folder = crm.parent / "backups"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [first.path.name, second.path.name]  # no -wal, no part
    for backup in (first, second):
        assert backup.path.stat().st_mode & 0o777 == 0o600
        assert backup.path.name.startswith("crm.db-2026-11-2")
        assert fetch(backup.path, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
        assert fetch(backup.path, "PRAGMA integrity_check") == [("ok",)]


def test_when_the_days_backup_cannot_be_written_the_command_still_runs_and_says_so(crm: Path) -> None:
    (crm.parent / "backups").write_text("a file where the folder should be")
    result = ok(crm, "add", "deal", "Retainer")
    assert result.stderr == (f"Warning: no backup today: {crm.parent / 'backups'}: cannot write a backup"
                             " (File exists)\n")
    assert titles(crm) == ["Audit", "Retainer"]


def test_an_upgrade_backs_the_older_schema_up_into_backups(db_path: Path, now: dt.datetime) -> None:
    conn = migrations.connect_raw(db_path)
    migrations.migrate(conn, upto=3)
    conn.close()
    result = ok(db_path, "deals", "list")
    [backup] = backups.list_backups(db_path)
    assert result.stderr.splitlines()[0] == f"Upgraded the database; a copy of the old one is at {backup.path}"
    assert backup.reason == "before-upgrade-from-schema-3" and backup.path.stat().st_mode & 0o777 == 0o600
    assert fetch(backup.path, "PRAGMA user_version") == [(3,)]
    ok(db_path, "deals", "list")
    assert len(backups.list_backups(db_path)) == 1  # that was the day's backup


def test_a_backup_is_taken_while_another_connection_writes_and_holds_what_is_committed(crm: Path) -> None:
    committed = sqlite3.connect(crm, isolation_level=None)
    committed.execute("PRAGMA wal_autocheckpoint = 0")  # what it commits stays in the WAL
    committed.execute("INSERT INTO deal (title, pipeline_id, stage_id, stage_entered_at, created_at, updated_at)"
                      " VALUES ('In the WAL', 1, 1, '2026-11-23', '2026-11-23', '2026-11-23')")
    writing = sqlite3.connect(crm, isolation_level=None)
    writing.execute("BEGIN IMMEDIATE")  # the app in the middle of a write
    writing.execute("UPDATE deal SET title = 'Not yet committed' WHERE id = 1")
    try:
        result = ok(crm, "backup")
    finally:
        writing.execute("ROLLBACK")
        writing.close()
        committed.close()
    [backup] = backups.list_backups(crm)
    assert result.stdout.strip() == f"Backed up crm.db (2 deals, {_size(backup.path)}) to {backup.path}"
    assert backup.reason == "manual"
    assert [r[0] for r in fetch(backup.path, "SELECT title FROM deal")] == ["Audit", "In the WAL"]


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1000:,.0f} KB"


def test_a_backup_is_taken_before_an_import_undo_and_before_a_stage_or_pipeline_delete(
        crm: Path, tmp_path: Path) -> None:
    csv = tmp_path / "deals.csv"
    csv.write_text("Deal Name,Company,Amount\nLogo,Eon,500\nWebsite,Dune,400\n", encoding="utf-8")
    ok(crm, "import", str(csv), "--quiet")
    ok(crm, "imports", "undo", "1", "--yes")
    ok(crm, "pipelines", "add", "Workshops")
    ok(crm, "stages", "delete", "N/A", "--pipeline", "Workshops")
    ok(crm, "pipelines", "delete", "Workshops")

    taken = {b.reason: b.path for b in backups.list_backups(crm)}
    assert sorted(taken) == ["before-import-undo", "before-pipeline-delete", "before-stage-delete", "daily"]
    assert titles(taken["before-import-undo"]) == ["Audit", "Logo", "Website"]
    assert titles(crm) == ["Audit"]
    stages = "SELECT count(*) FROM stage s JOIN pipeline p ON p.id = s.pipeline_id WHERE p.name = 'Workshops'" \
             " AND s.deleted_at IS NULL"
    assert fetch(taken["before-stage-delete"], stages) == [(9,)]
    assert fetch(taken["before-pipeline-delete"], stages) == [(8,)]
    assert fetch(taken["before-pipeline-delete"], "SELECT deleted_at FROM pipeline WHERE name = 'Workshops'") \
        == [(None,)]


def _fake_backup(db: Path, when: dt.datetime, reason: str = "daily") -> Path:
    folder = db.parent / "backups"
    folder.mkdir(exist_ok=True)
    path = folder / f"{db.name}-{when:%Y-%m-%dT%H%M%SZ}-{reason}.db"
    path.write_bytes(b"")
    return path


def test_backups_are_pruned_to_the_last_7_days_4_weeks_and_12_months(crm: Path) -> None:
    day = dt.datetime(2025, 6, 1, 12, 0)
    while day < FIXED_NOW - dt.timedelta(days=1):  # one a day until the day before yesterday
        _fake_backup(crm, day)
        day += dt.timedelta(days=1)
    _fake_backup(crm, dt.datetime(2026, 11, 22, 7, 0), "before-stage-delete")  # a day's older one goes,
    _fake_backup(crm, dt.datetime(2026, 11, 22, 10, 0), "before-stage-delete")  # unless of the last 24 hours
    _fake_backup(crm, dt.datetime(2026, 11, 22, 12, 0), "before-import-undo")
    other = _fake_backup(crm.with_name("other.db"), dt.datetime(2025, 6, 1, 12, 0))
    ok(crm, "backup")

    expected = ["2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30",
                "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31",  # monthly (with November's, today's)
                "2026-11-08", "2026-11-15",  # weekly (with this week's and last week's)
                "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]  # daily
    assert saved(crm) == [*[("daily", f"{d} 12:00") for d in expected], ("before-stage-delete", "2026-11-22 10:00"),
                          ("before-import-undo", "2026-11-22 12:00"), ("manual", "2026-11-23 09:30")]
    assert other.exists()  # another database's backup in the same folder

    ok(crm, "settings", "set", "backup-keep", "2 daily, 1 monthly")
    clock.set_fixed_now(FIXED_NOW + dt.timedelta(days=2))
    ok(crm, "deals", "list")  # the day's backup prunes too
    assert saved(crm) == [("manual", "2026-11-23 09:30"), ("daily", "2026-11-25 09:30")]
    message = refused(crm, "settings", "set", "backup-keep", "7 daily, 2 yearly")
    assert message == "Error: backup-keep: '7 daily, 2 yearly' is not like '7 daily, 4 weekly, 12 monthly' (each" \
                      " up to 1000)"


def test_backups_list_says_when_why_how_big_and_how_many_deals(crm: Path) -> None:
    assert ok(crm, "backups", "list").stdout.strip() == \
        f"No backups of {crm} yet (they go to {crm.parent / 'backups'})."
    assert json.loads(ok(crm, "backups", "list", "--json").stdout) == []
    ok(crm, "backup")
    clock.set_fixed_now(FIXED_NOW + dt.timedelta(hours=1))
    ok(crm, "add", "deal", "Retainer")
    ok(crm, "backup")
    listed = json.loads(ok(crm, "backups", "list", "--json").stdout)
    assert [(b["taken_at"], b["reason"], b["deals"]) for b in listed] == [
        ("2026-11-23T10:30:00+00:00", "manual", 2), ("2026-11-23T09:30:00+00:00", "manual", 1)]
    assert all(b["size"] == Path(b["path"]).stat().st_size > 0 for b in listed)
    table = ok(crm, "backups", "list").stdout
    assert "2026-11-23 10:30 │ manual" in table and Path(listed[0]["path"]).name in table


def test_a_backup_to_a_file_of_ones_choosing(crm: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "copy.db"
    target.parent.mkdir()
    ok(crm, "backup", "-o", str(target))
    assert titles(target) == ["Audit"] and target.stat().st_mode & 0o777 == 0o600
    assert refused(crm, "backup", "-o", str(target)) == f"Error: {target}: already exists; give a new file name"
    assert refused(tmp_path / "missing.db", "backup") == f"Error: {tmp_path / 'missing.db'}: no such database"
    assert not (tmp_path / "missing.db").exists()


def _crashed_with_a_commit_in_the_wal(db: Path) -> None:
    """Leave `db` as a crash would: a commit in its -wal that SQLite has not copied into the file."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE deal SET title = 'Renamed in the WAL' WHERE id = 1")
    main, wal = db.read_bytes(), Path(f"{db}-wal").read_bytes()
    conn.close()  # checkpoints and deletes the WAL
    db.write_bytes(main)
    Path(f"{db}-wal").write_bytes(wal)


def test_restore_puts_the_backup_back_after_backing_the_current_database_up(crm: Path) -> None:
    ok(crm, "backup")
    clock.set_fixed_now(FIXED_NOW + dt.timedelta(minutes=5))
    ok(crm, "add", "deal", "Retainer")
    _crashed_with_a_commit_in_the_wal(crm)

    result = ok(crm, "restore", "latest")
    [before, restored_from] = backups.list_backups(crm)
    assert result.stdout.splitlines() == [f"Restored {crm} from {restored_from.path} (1 deal).",
                                          f"The database as it was is backed up at {before.path}"]
    assert titles(crm) == ["Audit"]  # the old WAL was not applied to the restored file
    assert before.reason == "before-restore" and titles(before.path) == ["Renamed in the WAL", "Retainer"]
    assert fetch(crm, "PRAGMA integrity_check") == [("ok",)] and fetch(crm, "PRAGMA journal_mode") == [("wal",)]
    assert crm.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in crm.parent.iterdir() if p.name.startswith(".")) == []  # no temporary file left

    ok(crm, "restore", "latest")  # the newest backup is the one the restore took: back again
    assert titles(crm) == ["Renamed in the WAL", "Retainer"]


def test_restore_replaces_a_database_sqlite_cannot_read_and_keeps_a_copy_of_it(crm: Path) -> None:
    ok(crm, "backup")
    clock.set_fixed_now(FIXED_NOW + dt.timedelta(minutes=5))
    _crashed_with_a_commit_in_the_wal(crm)
    with crm.open("r+b") as fh:
        fh.write(b"scrambled header")

    ok(crm, "restore", "latest")
    assert titles(crm) == ["Audit"] and fetch(crm, "PRAGMA integrity_check") == [("ok",)]
    before = backups.list_backups(crm)[0]
    assert before.reason == "before-restore"
    kept = before.path.read_bytes() + (Path(f"{before.path}-wal").read_bytes()
                                       if Path(f"{before.path}-wal").exists() else b"")
    assert kept.startswith(b"scrambled header") and b"Renamed in the WAL" in kept  # the commit in its WAL too


def test_restore_brings_an_older_schema_up_to_date(crm: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = migrations.connect_raw(old)
    migrations.migrate(conn, upto=3)
    conn.execute("INSERT INTO deal (title, pipeline_id, stage_id, stage_entered_at, created_at, updated_at)"
                 " VALUES ('Old deal', 1, 1, '2025-01-01', '2025-01-01', '2025-01-01')")
    conn.close()
    result = ok(crm, "restore", str(old))
    assert result.stdout.splitlines()[0] == f"Restored {crm} from {old} (1 deal, upgraded from schema 3)."
    assert fetch(crm, "PRAGMA user_version") == [(migrations.LATEST_VERSION,)]
    assert titles(crm) == ["Old deal"] and fetch(old, "PRAGMA user_version") == [(3,)]
    assert ok(crm, "deals", "list", "--json").stdout.count("Old deal") == 1


def test_restore_refuses_a_file_that_is_not_a_crmtui_database(crm: Path, tmp_path: Path) -> None:
    before, kept = snapshot_of(crm), saved(crm)
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    foreign = tmp_path / "other-app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE things (x)")
    conn.close()
    assert refused(crm, "restore", str(text)) == f"Error: {text}: not a crmtui database (not an SQLite file)"
    assert refused(crm, "restore", str(foreign)) == f"Error: {foreign}: not a crmtui database"
    assert refused(crm, "restore", str(tmp_path / "nope.db")) == f"Error: {tmp_path / 'nope.db'}: no such file"
    assert refused(crm, "restore", str(crm)) == f"Error: {crm}: is the database itself; give a backup (crmtui" \
                                                f" backups list)"
    assert snapshot_of(crm) == before and saved(crm) == kept


def test_restore_refuses_a_damaged_backup(crm: Path) -> None:
    conn = sqlite3.connect(crm)
    conn.executemany("INSERT INTO contact (name, created_at, updated_at) VALUES (?, '2026-01-01', '2026-01-01')",
                     [(f"Person {n:04}",) for n in range(3)])
    conn.commit()
    conn.close()
    ok(crm, "backup")
    [backup] = backups.list_backups(crm)
    # A flipped byte in the name index: it no longer agrees with the contacts it indexes.
    page = fetch(backup.path, "SELECT rootpage FROM sqlite_master WHERE name = 'ix_contact_name'")[0][0]
    size = fetch(backup.path, "PRAGMA page_size")[0][0]
    data = bytearray(backup.path.read_bytes())
    at = data.index(b"Person 0001", (page - 1) * size, page * size)
    data[at + 7] = ord("9")
    backup.path.write_bytes(bytes(data))
    before = snapshot_of(crm)

    assert refused(crm, "restore", str(backup.path)) == (
        f"Error: {backup.path}: the file is damaged (integrity_check: row 2 missing from index ix_contact_name);"
        " choose another backup (crmtui backups list)")
    assert snapshot_of(crm) == before
    assert [b.reason for b in backups.list_backups(crm)].count("before-restore") == 0


def test_restore_refuses_while_another_program_has_the_database_open_and_names_it(crm: Path) -> None:
    ok(crm, "backup")
    code = ("import sys; from crmtui.store.db import open_database; "
            "db = open_database(sys.argv[1], daily_backup=False); "
            "conn = db.raw(); conn.execute('SELECT count(*) FROM deal').fetchone(); print('ready', flush=True);"
            " sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(crm)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        ok(crm, "add", "deal", "Retainer")
        before = snapshot_of(crm)
        message = refused(crm, "restore", "latest")
    finally:
        holder.communicate("", timeout=30)
    assert message.startswith(f"Error: {crm}: open in another program (pid {holder.pid}: {sys.executable} -c import")
    assert message.endswith(f"{crm}); close it, then restore")
    assert snapshot_of(crm) == before
    ok(crm, "restore", "latest")  # once it is closed
    assert titles(crm) == ["Audit"]


async def test_the_app_takes_the_days_backup_once_the_board_shows(crm: Path) -> None:
    from crmtui.app import make_app
    from crmtui.store.db import open_database

    app = make_app(open_database(crm, daily_backup=False), own_process=False)
    assert backups.list_backups(crm) == []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        [backup] = backups.list_backups(crm)
        assert backup.reason == "daily" and backup.path.stat().st_mode & 0o777 == 0o600


async def test_the_app_says_once_when_the_days_backup_cannot_be_written(crm: Path) -> None:
    from crmtui.app import make_app
    from crmtui.store.db import open_database

    (crm.parent / "backups").write_text("a file where the folder should be")
    app = make_app(open_database(crm, daily_backup=False), own_process=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [n.message for n in app._notifications if "No backup today" in n.message] == [
            f"No backup today: {crm.parent / 'backups'}: cannot write a backup (File exists)"]
