"""Opening, protecting and migrating the database file."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from crmtui.locations import default_db_path, resolve_db_path
from crmtui.store import migrations, models  # noqa: F401  (registers the tables)
from crmtui.store.db import open_database
from crmtui.store.errors import DatabaseError
from crmtui.store.sql import Record
from tests.conftest import fetch


def test_new_database_is_private_and_safe(db_path: Path) -> None:
    db = open_database(db_path)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert fetch(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert fetch(db_path, "PRAGMA user_version") == [(migrations.LATEST_VERSION,)]
    with db.session() as s:
        assert s.execute("PRAGMA foreign_keys").scalar() == 1
        assert s.execute("PRAGMA synchronous").scalar() == 2  # FULL
        assert s.execute("PRAGMA busy_timeout").scalar() > 0
    db.close()


def test_opening_a_database_left_in_rollback_journal_mode_puts_it_back_in_wal_mode(db_path: Path) -> None:
    # (what a big import killed before switching back leaves: see bulk.write_pages_once)
    open_database(db_path).close()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    conn.close()
    assert db_path.read_bytes()[18:20] == b"\x01\x01"  # the file header's rollback journal mode
    open_database(db_path).close()
    assert db_path.read_bytes()[18:20] == b"\x02\x02"  # and WAL again
    assert fetch(db_path, "PRAGMA journal_mode") == [("wal",)]
    # while a big import is at work in rollback mode, opening does not wait for it to switch
    importer = sqlite3.connect(db_path, isolation_level=None)
    assert importer.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    importer.execute("BEGIN IMMEDIATE")
    importer.execute("INSERT INTO tag (name) VALUES ('imported')")
    try:
        open_database(db_path).close()  # (it would time out switching, and call the file locked)
    finally:
        importer.execute("COMMIT")
        assert importer.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
        importer.close()
    assert fetch(db_path, "SELECT name FROM tag") == [("imported",)]


def test_directory_is_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "crm.db"
    open_database(path).close()
    assert path.exists()


def test_default_pipeline_and_choice_lists(db_path: Path) -> None:
    open_database(db_path).close()
    stages = fetch(db_path, "SELECT name, kind, probability, expected_days FROM stage ORDER BY position")
    assert stages == [
        ("Unqualified", "open", 10, 7),
        ("Qualification", "open", 20, 14),
        ("Writing proposal", "open", 40, 7),
        ("Proposal sent", "open", 50, 14),
        ("Negotiation", "open", 70, 21),
        ("Contract out for signature", "open", 90, 7),
        ("Won", "won", 100, None),
        ("Lost", "lost", 0, None),
        ("N/A", "closed", 0, None),
    ]
    lists = {r[0] for r in fetch(db_path, "SELECT DISTINCT list_name FROM choice")}
    assert {"source", "lost_reason", "customer_size"} <= lists


def test_schema_matches_the_models(db_path: Path) -> None:
    """The hand-written migrations and the table classes describe the same columns and keys."""
    open_database(db_path).close()
    tables = [c for c in vars(models).values() if isinstance(c, type) and issubclass(c, Record) and c is not Record]
    assert len(tables) == 24
    for table in tables:
        on_disk = {r[1]: r for r in fetch(db_path, f'PRAGMA table_info("{table.__table__}")')}
        assert set(on_disk) == set(table.__columns__), table.__table__
        assert tuple(name for name, r in sorted(on_disk.items(), key=lambda kv: kv[1][5]) if r[5]) == table.__key__
        hints = typing.get_type_hints(table)
        for name in table.__columns__:
            optional = type(None) in typing.get_args(hints[name])
            assert bool(on_disk[name][3]) == (not optional) or name in table.__key__, (table.__table__, name)


def test_a_file_that_is_not_sqlite_is_refused(db_path: Path) -> None:
    db_path.write_text("name,email\nAnn,ann@x.com\n")
    with pytest.raises(DatabaseError, match="not a crmtui database"):
        open_database(db_path)
    assert db_path.read_text().startswith("name,email")


def test_another_programs_sqlite_file_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE things (x)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a crmtui database"):
        open_database(db_path)
    assert fetch(db_path, "SELECT name FROM sqlite_master") == [("things",)]


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    open_database(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(DatabaseError, match="newer crmtui"):
        open_database(db_path)


def test_a_damaged_file_gives_a_clear_error(db_path: Path) -> None:
    open_database(db_path).close()
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # trash the first page after the header
    db_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseError) as info:
        open_database(db_path)
    assert str(db_path) in str(info.value)


def test_migrating_an_older_database_keeps_its_data_and_a_backup(db_path: Path) -> None:
    conn = migrations.connect_raw(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, upto=1)
    conn.execute(
        "INSERT INTO company (name, created_at, updated_at) VALUES ('Acme', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
    )
    conn.execute(
        "INSERT INTO deal (title, company_id, pipeline_id, stage_id, stage_entered_at, amount_cents, created_at,"
        " updated_at) VALUES ('Old deal', 1, 1, 2, '2025-01-02 00:00:00', 500000, '2025-01-02 00:00:00',"
        " '2025-01-02 00:00:00')"
    )
    conn.close()
    assert fetch(db_path, "PRAGMA user_version") == [(1,)]

    db = open_database(db_path)
    assert db.backup_path is not None and db.backup_path.exists()
    assert fetch(db.backup_path, "PRAGMA user_version") == [(1,)]
    assert fetch(db.backup_path, "SELECT title FROM deal") == [("Old deal",)]
    assert fetch(db_path, "PRAGMA user_version") == [(migrations.LATEST_VERSION,)]
    assert fetch(db_path, "SELECT title, amount_cents FROM deal") == [("Old deal", 500000)]
    assert fetch(db_path, "SELECT value FROM setting WHERE key = 'currency'") == [("USD",)]
    from crmtui.store.deals import deal_rows

    with db.session() as s:
        assert deal_rows(s)[0]["company"] == "Acme"
    db.close()
    # Opening again migrates nothing and writes no second backup.
    again = open_database(db_path)
    assert again.backup_path is None
    again.close()


def test_schema_8_drops_the_unused_deal_indexes_and_the_board_still_finds_closed_deals(db_path: Path) -> None:
    """Schema 8 drops two deal indexes no query used and keeps only closed deals in the close-date
    index; the board's closed columns still seek that index."""
    import datetime as dt

    from crmtui.store.board import load_board

    conn = migrations.connect_raw(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, upto=7)
    won = conn.execute("SELECT id FROM stage WHERE kind = 'won'").fetchone()[0]
    for title, stage, closed in (("Open one", 2, None), ("Won one", won, "2026-11-20"), ("Won long ago", won, "2025-01-05")):
        conn.execute(
            "INSERT INTO deal (title, pipeline_id, stage_id, stage_entered_at, amount_cents, closed_on, created_at,"
            " updated_at) VALUES (?, 1, ?, '2025-01-02 00:00:00', 100, ?, '2025-01-02 00:00:00', '2025-01-02 00:00:00')",
            (title, stage, closed))
    conn.close()
    open_database(db_path).close()

    indexes = dict(fetch(db_path, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deal'"))
    assert "ix_deal_stage" not in indexes and "ix_deal_expected_close" not in indexes
    assert indexes["ix_deal_closed"].endswith("WHERE closed_on IS NOT NULL")
    assert fetch(db_path, "PRAGMA integrity_check") == [("ok",)]

    conn = sqlite3.connect(db_path)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    snap = load_board(conn, today=dt.date(2026, 11, 23))
    assert [len(snap.columns[s].ids) for s in (2, won)] == [1, 1]  # the old win is past the closed window
    closed_sql = next(s for s in statements if "closed_on >=" in s)
    plan = " / ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + closed_sql))
    assert "INDEX ix_deal_closed (closed_on>?)" in plan, plan
    conn.close()


def test_schemas_9_and_10_drop_the_external_id_indexes_and_make_the_finder_contentless(db_path: Path) -> None:
    from crmtui.store.search import find_records
    from tests.conftest import assert_finder_in_step

    conn = migrations.connect_raw(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, upto=8)
    conn.execute("INSERT INTO company (name, domain, email, external_id, created_at, updated_at)"
                 " VALUES ('Old Co', 'oldco.example', 'hi@oldco.example', 'C1', '2025-01-01', '2025-01-01')")
    conn.execute("INSERT INTO company (name, created_at, updated_at, deleted_at)"
                 " VALUES ('Gone Co', '2025-01-01', '2025-01-01', '2025-02-01')")
    conn.execute("INSERT INTO contact (name, email, company_id, created_at, updated_at)"
                 " VALUES ('Ann Old', 'ann@oldco.example', 1, '2025-01-01', '2025-01-01')")
    conn.execute("INSERT INTO deal (title, company_id, pipeline_id, stage_id, stage_entered_at, external_id, created_at,"
                 " updated_at) VALUES ('Legacy deal', 1, 1, 1, '2025-01-01', 'D1', '2025-01-01', '2025-01-01')")
    conn.close()
    db = open_database(db_path)
    assert db.backup_path is not None
    names = {r[0] for r in fetch(db_path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not names & {"ix_deal_external", "ix_company_external", "ix_contact_external"}
    assert "content = ''" in fetch(db_path, "SELECT sql FROM sqlite_master WHERE name = 'search_index'")[0][0]
    assert fetch(db_path, "SELECT count(*) FROM sqlite_master WHERE name = 'search_index_content'") == [(0,)]
    assert_finder_in_step(db_path)
    with db.session() as s:
        assert [(f.kind, f.label) for f in find_records(s, "old")] == [("company", "Old Co"), ("contact", "Ann Old")]
        assert [f.label for f in find_records(s, "legacy")] == ["Legacy deal"]
        assert find_records(s, "gone") == []
    # the triggers keep it in step: rename, trash, delete for good
    conn = db.raw()
    conn.execute("UPDATE deal SET title = 'Renewed deal' WHERE id = 1")
    conn.execute("UPDATE company SET deleted_at = '2026-01-01' WHERE id = 1")
    conn.execute("DELETE FROM company WHERE id = 2")
    conn.close()
    assert_finder_in_step(db_path)
    with db.session() as s:
        assert [f.label for f in find_records(s, "renewed")] == ["Renewed deal"]
        assert [(f.kind, f.label) for f in find_records(s, "old")] == [("contact", "Ann Old")]
    db.close()
    assert fetch(db_path, "PRAGMA integrity_check") == [("ok",)]


def test_locations_follow_flag_then_env_then_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_db_path(None) == default_db_path()
    assert str(default_db_path()).startswith(str(tmp_path))  # the test's HOME, never the real one
    monkeypatch.setenv("CRMTUI_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(None) == tmp_path / "env.db"
    assert resolve_db_path(tmp_path / "flag.db") == tmp_path / "flag.db"


def test_store_never_imports_textual() -> None:
    code = (
        "import sys, crmtui.store, crmtui.store.deals, crmtui.store.demo, crmtui.store.listing, "
        "crmtui.store.reports_basic, crmtui.cli; "
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_11_keeps_stages_and_fields_and_gives_them_colours_required_and_lookups(db_path: Path) -> None:
    conn = migrations.connect_raw(db_path)
    migrations.migrate(conn, upto=10)
    conn.execute("INSERT INTO custom_field (entity, name, kind, options, position) VALUES ('deal', 'Budget', 'money',"
                 " NULL, 1)")
    conn.execute("INSERT INTO custom_value (field_id, entity_id, value) VALUES (1, 7, '250000')")
    conn.close()
    db = open_database(db_path)
    assert db.backup_path is not None
    db.close()
    assert fetch(db_path, "SELECT name, kind, required, lookup FROM custom_field") == [("Budget", "money", 0, None)]
    assert fetch(db_path, "SELECT value FROM custom_value") == [("250000",)]
    assert {color for (color,) in fetch(db_path, "SELECT color FROM stage")} == {None}
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError):  # one field of a name per record type
        conn.execute("INSERT INTO custom_field (entity, name, kind) VALUES ('deal', 'budget', 'text')")
    conn.execute("INSERT INTO custom_field (entity, name, kind) VALUES ('company', 'Budget', 'text')")
    conn.close()


# --- a full disk, a read-only file ------------------------------------------------------------

FULL = "the disk is full (or the database reached its size limit); nothing was saved. Free some space and try again"
READ_ONLY = "the database file is read-only; nothing was saved (check the file's permissions)"
LONG_NOTE = "Call with the board: " + "budget, scope and dates agreed; " * 150  # pages more than the file has


@pytest.fixture
def a_deal(db_path: Path) -> Path:
    from crmtui.store.deals import create_deal

    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Website relaunch", company="Acme", amount="12500")
    db.close()
    conn = sqlite3.connect(db_path)
    conn.execute("VACUUM")  # no free pages left: what is written next needs new ones
    conn.close()
    return db_path


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection crmtui opens may not grow the file (`max_page_count`: SQLite's SQLITE_FULL,
    as on a full disk)."""
    from crmtui.store import db

    apply_pragmas = db._apply_pragmas

    def no_room(conn: sqlite3.Connection, busy_timeout: float) -> None:
        apply_pragmas(conn, busy_timeout)
        conn.execute("PRAGMA max_page_count = 1")  # (never below the pages the file has)

    monkeypatch.setattr(db, "_apply_pragmas", no_room)


@pytest.fixture
def read_only_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """crmtui writes over a read-only open of the file, as SQLite opens a file the user may not
    write (chmod 0444). Tests run as root too, whom chmod does not stop: so the open is made so."""
    from crmtui.store import db

    connect = db.connect
    monkeypatch.setattr(db, "connect", lambda path, timeout, **kw: connect(
        f"file:{path}?mode=ro", timeout, uri=True, **kw))


def _crmtui(*args: str):  # noqa: ANN202
    from typer.testing import CliRunner

    from crmtui.cli import app

    return CliRunner().invoke(app, list(args))


def test_a_full_disk_refuses_a_command_and_an_import_clearly_and_writes_nothing(
    a_deal: Path, tmp_path: Path, full_disk: None
) -> None:
    from tests.conftest import snapshot_of

    before = snapshot_of(a_deal)
    logged = _crmtui("--db", str(a_deal), "log", "1", "--call", LONG_NOTE)
    deals = tmp_path / "deals.csv"
    deals.write_text("title,company,amount\n" + "".join(f"Deal {i},Company {i},{i}00\n" for i in range(300)))
    imported = _crmtui("--db", str(a_deal), "import", str(deals), "--quiet")
    for result in (logged, imported):
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == f"Error: {a_deal}: {FULL}"
    assert snapshot_of(a_deal) == before
    assert fetch(a_deal, "PRAGMA integrity_check") == [("ok",)]
    assert fetch(a_deal, "PRAGMA journal_mode") == [("wal",)]


def test_a_read_only_file_refuses_a_command_clearly(a_deal: Path, read_only_file: None) -> None:
    from tests.conftest import snapshot_of

    before = snapshot_of(a_deal)
    result = _crmtui("--db", str(a_deal), "log", "1", "--call", "Budget agreed")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"Error: {a_deal}: {READ_ONLY}"
    listed = _crmtui("--db", str(a_deal), "deals", "list")  # reading still works
    assert listed.exit_code == 0 and "Website relaunch" in listed.stdout
    assert snapshot_of(a_deal) == before


@pytest.mark.parametrize(("trouble", "message"), [("full_disk", FULL), ("read_only_file", READ_ONLY)])
async def test_the_app_keeps_what_was_typed_when_the_disk_is_full_or_the_file_read_only(
    a_deal: Path, request: pytest.FixtureRequest, trouble: str, message: str
) -> None:
    from textual.widgets import Input, Static

    from crmtui.app import make_app
    from crmtui.screens.deal_detail import DealDetailScreen
    from crmtui.screens.edit_forms import FormScreen
    from tests.conftest import snapshot_of

    before = snapshot_of(a_deal)
    request.getfixturevalue(trouble)
    app = make_app(open_database(a_deal))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.press("a")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-text", Input).value = LONG_NOTE
        await pilot.pause()
        typed = form.values()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and form.values() == typed
        assert str(form.query_one("#form-message", Static).render()) == f"Not saved: {a_deal}: {message}"
        assert snapshot_of(a_deal) == before
        await pilot.press("escape", "y")  # drop it: the app goes on
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
    assert snapshot_of(a_deal) == before


def test_schema_13_lets_an_import_be_of_products_and_keeps_past_imports_and_what_they_did(db_path: Path) -> None:
    conn = migrations.connect_raw(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")  # as when the app opens it: the migration must not cascade
    migrations.migrate(conn, upto=12)
    conn.execute("INSERT INTO import_run (source, record_type, encoding, delimiter, rows_read, summary, created_at)"
                 " VALUES ('old.csv', 'deals', 'utf-8', 'comma', 2, '{}', '2026-01-02 00:00:00')")
    conn.execute("INSERT INTO import_change (import_id, entity, action, first_id, last_id) VALUES (1, 'deal', 'created', 1, 2)")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO import_run (source, record_type, encoding, delimiter, created_at)"
                     " VALUES ('p.csv', 'products', 'utf-8', 'comma', '2026-01-03 00:00:00')")
    conn.close()

    open_database(db_path).close()
    assert fetch(db_path, "SELECT id, source, record_type, rows_read FROM import_run") == [(1, "old.csv", "deals", 2)]
    assert fetch(db_path, "SELECT import_id, entity, first_id, last_id FROM import_change") == [(1, "deal", 1, 2)]
    with sqlite3.connect(db_path) as raw:
        raw.execute("INSERT INTO import_run (source, record_type, encoding, delimiter, created_at)"
                    " VALUES ('p.csv', 'products', 'utf-8', 'comma', '2026-01-03 00:00:00')")
        assert "import_run_new" not in [r[0] for r in raw.execute("SELECT name FROM sqlite_master")]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
