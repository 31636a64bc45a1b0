"""Every test gets its own database under tmp_path and never touches the real home directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store import clock
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
