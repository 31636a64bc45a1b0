"""Every test gets its own database under tmp_path and never touches the real home directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store import backups, clock
from crmtui.store.db import Database, open_database

FIXED_NOW = dt.datetime(2026, 11, 23, 9, 30, 0)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("CRMTUI_DB", raising=False)
    monkeypatch.delenv("CRMTUI_NOW", raising=False)
    monkeypatch.setenv("CRMTUI_BUSY_TIMEOUT", "0.2")
    # Tests open databases thousands of times a day; tests/test_backups.py turns the day's backup on.
    monkeypatch.setattr(backups, "daily_on_open", False)
    return home


@pytest.fixture
def fixed_clock() -> Iterator[dt.datetime]:
    clock.set_fixed_now(FIXED_NOW)
    yield FIXED_NOW
    clock.set_fixed_now(None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.close()


def fetch(db_path: Path, sql: str, *params: object) -> list[tuple]:
    """Read the database with plain sqlite3: what is really on disk."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def snapshot_of(db_path: Path) -> list[tuple]:
    """Every row of every table: to assert that a failed command wrote nothing."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        rows: list[tuple] = []
        for t in tables:
            rows.append((t,))
            rows.extend(conn.execute(f'SELECT * FROM "{t}" ORDER BY 1'))
        return rows
    finally:
        conn.close()


def finder_terms(db_path: Path) -> tuple[list[tuple], list[tuple]]:
    """What the finder's index holds, and what it should hold: every term with its rowid, column
    and position, read from the index itself (fts5vocab), and the same from an index built afresh
    from the live records. The index is contentless: a trigger that forgot a row with other
    values than it indexed would leave terms behind, and only this shows it."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fresh USING fts5(name, extra, content = '',"
                     " tokenize = 'unicode61 remove_diacritics 2')")
        conn.execute("INSERT INTO temp.fresh (rowid, name, extra) SELECT id * 4 + 1, title, '' FROM deal"
                     " WHERE deleted_at IS NULL")
        conn.execute("INSERT INTO temp.fresh (rowid, name, extra) SELECT id * 4 + 2, name,"
                     " trim(coalesce(domain, '') || ' ' || coalesce(email, '')) FROM company WHERE deleted_at IS NULL")
        conn.execute("INSERT INTO temp.fresh (rowid, name, extra) SELECT id * 4 + 3, name, coalesce(email, '')"
                     " FROM contact WHERE deleted_at IS NULL")
        conn.execute("CREATE VIRTUAL TABLE temp.held_terms USING fts5vocab(main, search_index, 'instance')")
        conn.execute("CREATE VIRTUAL TABLE temp.fresh_terms USING fts5vocab(temp, fresh, 'instance')")
        held = conn.execute("SELECT * FROM temp.held_terms ORDER BY 1, 2, 3, 4").fetchall()
        fresh = conn.execute("SELECT * FROM temp.fresh_terms ORDER BY 1, 2, 3, 4").fetchall()
        # and the sizes bm25 ranks by: each record's, and the totals (the averages record, id 1)
        for table, out in (("main.search_index", held), ("temp.fresh", fresh)):
            out.extend(conn.execute(f"SELECT 'size', id, sz FROM {table}_docsize ORDER BY id"))
            block = conn.execute(f"SELECT block FROM {table}_data WHERE id = 1").fetchone()
            out.append(("totals", _varints(block[0] if block else b"") or [0, 0, 0]))  # records, tokens per column
        return held, fresh
    finally:
        conn.close()


def _varints(data: bytes) -> list[int]:
    """SQLite's variable-length integers, one after the other (FTS5's averages record)."""
    values, i = [], 0
    while i < len(data):
        value = 0
        for k in range(9):
            byte = data[i]
            i += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values


def assert_finder_in_step(db_path: Path) -> None:
    held, fresh = finder_terms(db_path)
    assert held == fresh
    assert fetch(db_path, "SELECT count(*) FROM search_index") == fetch(
        db_path, "SELECT (SELECT count(*) FROM deal WHERE deleted_at IS NULL)"
                 " + (SELECT count(*) FROM company WHERE deleted_at IS NULL)"
                 " + (SELECT count(*) FROM contact WHERE deleted_at IS NULL)")
