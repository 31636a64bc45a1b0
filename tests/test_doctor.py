"""`crmtui doctor`: each thing derived from the records, broken by hand, is found and repaired
(after a backup); damage and broken references are found and left for a restore."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from crmtui.store import backups, clock, doctor
from crmtui.store.db import Database
from tests.commands import ok, run
from tests.conftest import FIXED_NOW, assert_finder_in_step, fetch, snapshot_of

def found(db: Path, *args: str) -> list[str]:
    """The findings doctor prints (exit 1), one line each."""
    result = run(db, "doctor", *args)
    assert result.exit_code == 1, result.output
    return result.stdout.splitlines()


def sql(db: Path, *statements: str) -> None:
    """Change the file by hand, as no crmtui code would."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


DERIVED = ("SELECT id, open_tasks, next_task_due, last_task_due, last_touch_at FROM deal ORDER BY id")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deals with tasks, a done task and a note, made once for the module's tests to copy."""
    db = tmp_path_factory.mktemp("made") / "crm.db"
    clock.set_fixed_now(FIXED_NOW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backups, "daily_on_open", False)
        ok(db, "add", "deal", "Website relaunch", "--company", "Acme", "--contact", "jo@acme.example")
        ok(db, "add", "deal", "Brand refresh", "--company", "Bolt")
        ok(db, "task", "add", "1", "Send the quote", "--due", "2026-11-25")
        ok(db, "task", "add", "1", "Call back", "--due", "2026-12-01")
        ok(db, "task", "add", "2", "Book a workshop", "--due", "2026-11-30")
        ok(db, "task", "done", "3")
        ok(db, "log", "2", "--note", "Met at the fair", "--date", "2026-11-20")
    clock.set_fixed_now(None)
    assert not (db.parent / "backups").exists()
    return db


@pytest.fixture
def crm(made: Path, db_path: Path, fixed_clock: object) -> Path:
    """A copy of the made database, backed up today."""
    shutil.copy(made, db_path)
    ok(db_path, "backup")
    return db_path


def test_a_sound_database_has_no_findings(crm: Path) -> None:
    result = ok(crm, "doctor")
    assert result.stdout.strip() == (f"{crm}: no problems (integrity, foreign keys, finder, follow-ups, journal,"
                                     " permissions, backup checked).")
    assert json.loads(ok(crm, "doctor", "--json").stdout) == {"database": str(crm), "findings": []}


BREAKAGES = {
    "a record missing from the finder": (
        ["INSERT INTO search_index (search_index, rowid, name, extra)"
         " VALUES ('delete', 2 * 4 + 1, 'Brand refresh', '')"],
        "finder: the index is out of step with 1 record (deal 2): searching may miss records or find"
        " ones that are gone"),
    "a record the finder holds with other words": (
        ["INSERT INTO search_index (search_index, rowid, name, extra) VALUES ('delete', 1 * 4 + 2, 'Acme', '')",
         "INSERT INTO search_index (rowid, name, extra) VALUES (1 * 4 + 2, 'Acne', '')"],
        "finder: the index is out of step with 1 record (company 1): searching may miss records or find"
        " ones that are gone"),
    "a record gone but still in the finder": (
        ["INSERT INTO search_index (rowid, name, extra) VALUES (9 * 4 + 3, 'Ghost', 'ghost@example.com')"],
        "finder: the index is out of step with 1 record (contact 9): searching may miss records or find"
        " ones that are gone"),
    "a wrong count of open tasks": (
        ["UPDATE deal SET open_tasks = 0 WHERE id = 1"],
        "follow-ups: 1 deal out of step with its activities (deal 1): open-task count wrong on 1"),
    "a wrong next task due": (
        ["UPDATE deal SET next_task_due = '2026-12-01' WHERE id = 1"],
        "follow-ups: 1 deal out of step with its activities (deal 1): next task due wrong on 1"),
    "a wrong last task due": (
        ["UPDATE deal SET last_task_due = NULL WHERE id = 2",
         "UPDATE deal SET last_task_due = '2027-01-01' WHERE id = 1"],
        "follow-ups: 2 deals out of step with their activities (deal 1, 2): last task due wrong on 2"),
    "a last touch before the latest activity": (
        ["UPDATE deal SET last_touch_at = '2026-01-01 00:00:00' WHERE id = 2"],
        "follow-ups: 1 deal out of step with its activities (deal 2): last touch wrong on 1"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_doctor_finds_what_is_out_of_step_and_repairs_it_after_a_backup(crm: Path, breakage: str) -> None:
    statements, finding = BREAKAGES[breakage]
    sound = fetch(crm, DERIVED)
    sql(crm, *statements)
    broken = snapshot_of(crm)

    assert found(crm) == [f"{crm}: 1 problem", f"  {finding}",
                          "crmtui doctor --repair rebuilds what is derived, after a backup."]
    assert snapshot_of(crm) == broken  # looking changes nothing
    data = json.loads(run(crm, "doctor", "--json").stdout)
    assert [(f["check"], f["repairable"]) for f in data["findings"]] == [(finding.split(":")[0], True)]

    result = ok(crm, "doctor", "--repair")
    before_repair = next(b for b in backups.list_backups(crm) if b.reason == "before-repair")
    lines = result.stdout.splitlines()
    assert lines[:4] == [f"{crm}: 1 problem", f"  {finding}", "Repaired:", f"  backup: took {before_repair.path}"]
    assert lines[-1] == "No problems left."
    assert snapshot_of(before_repair.path) == broken
    assert fetch(crm, DERIVED) == sound
    assert_finder_in_step(crm)
    assert ok(crm, "doctor").stdout.endswith("checked).\n")


def test_repair_says_what_it_changed(crm: Path) -> None:
    sql(crm, *BREAKAGES["a record missing from the finder"][0], "UPDATE deal SET open_tasks = 7 WHERE id IN (1, 2)")
    lines = ok(crm, "doctor", "--repair").stdout.splitlines()
    assert lines[-3:] == ["  finder: rebuilt the index of 5 records",
                          "  follow-ups: recomputed open tasks, task due dates and last touch of 2 deals (1, 2)",
                          "No problems left."]


def test_broken_references_and_damage_are_found_and_left_for_a_restore(crm: Path) -> None:
    sql(crm, "PRAGMA foreign_keys = OFF", "UPDATE deal SET contact_id = 99 WHERE id = 1")
    assert found(crm)[1] == "  foreign keys: 1 deal row point at a missing contact (deal 1)"
    result = run(crm, "doctor", "--repair")
    assert result.exit_code == 1 and result.stdout.splitlines()[-2:] == [
        "  foreign keys: 1 deal row point at a missing contact (deal 1)",
        "Nothing to repair: doctor rebuilds what is derived from the records, and these are not."]

    sql(crm, "UPDATE deal SET contact_id = 1 WHERE id = 1", "PRAGMA journal_mode = DELETE")
    data = bytearray(crm.read_bytes())  # a flipped byte in the company name index
    page = fetch(crm, "SELECT rootpage FROM sqlite_master WHERE name = 'ix_company_name'")[0][0]
    size = fetch(crm, "PRAGMA page_size")[0][0]
    at = data.index(b"Bolt", (page - 1) * size, page * size)
    data[at] = ord("C")
    crm.write_bytes(bytes(data))
    assert found(crm)[1] == ("  integrity: the file is damaged: row 2 missing from index ix_company_name; restore a"
                             " backup (crmtui backups list, crmtui restore latest)")
    before = snapshot_of(crm)
    result = run(crm, "doctor", "--repair")
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (f"Error: {crm}: the database is damaged; doctor does not repair it:"
                                               " restore a backup (crmtui backups list, crmtui restore latest)")
    assert snapshot_of(crm) == before


def test_doctor_checks_permissions_and_the_age_of_the_last_backup(crm: Path, tmp_path: Path) -> None:
    crm.chmod(0o644)
    (crm.parent / "backups").chmod(0o755)
    clock.set_fixed_now(FIXED_NOW + dt.timedelta(days=3))
    assert found(crm)[1:3] == [  # its -wal and -shm, made while doctor has it open, take its mode
        "  permissions: other users may read or write crm.db (644), crm.db-wal (644), crm.db-shm (644), backups (755);"
        " only you should",
        "  backup: the last backup was taken 3 days ago (2026-11-23 09:30)"]
    lines = ok(crm, "doctor", "--repair").stdout.splitlines()
    assert "  permissions: crm.db 644 -> 600" in lines and "  permissions: backups 755 -> 700" in lines
    assert crm.stat().st_mode & 0o777 == 0o600 and (crm.parent / "backups").stat().st_mode & 0o777 == 0o700
    assert backups.list_backups(crm)[0].reason == "before-repair"

    fresh = tmp_path / "fresh.db"
    ok(fresh, "add", "deal", "First deal")
    assert found(fresh)[1] == "  backup: the database has no backup yet"


def test_a_journal_left_out_of_wal_is_found_and_switched_back(crm: Path) -> None:
    sql(crm, "PRAGMA journal_mode = DELETE")  # as a big import killed halfway leaves it
    database = Database(crm, 0.2)  # opening it with open_database would switch it back already
    assert [(f.check, f.problem) for f in doctor.examine(database)] == [
        ("journal", "the journal mode is delete, not WAL: the app and commands wait for each other more, and a"
                    " write cut short by a crash is riskier")]
    assert "journal: switched to WAL" in doctor.repair(database, doctor.examine(database))
    assert fetch(crm, "PRAGMA journal_mode") == [("wal",)] and doctor.examine(database) == []
