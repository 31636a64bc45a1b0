"""The demo gives the same data for the same seed and day, release after release: benchmarks,
screenshots and bug reports made on `crmtui demo --seed N` stay comparable."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from crmtui.store.clock import to_db
from crmtui.store.db import open_database
from crmtui.store.demo import _stamper, generate_demo

# `fingerprint` of 300 deals, seed 42, on the tests' fixed day.
PINNED = "06bb6d07e2d8e8289f29f353ad3e7cbe2838138c92abec09412537f30ce12f5a"


# What the demo writes (and the seed decides); the finder's index by what it holds. Columns
# added to a table since the pin are the schema's, not the demo's: they are left out.
TABLES = ("company", "contact", "deal", "tag", "deal_tag", "stage_change", "activity")
ADDED_SINCE = {"activity": ("playbook_task_id", "due_hook_at"), "deal": ("discount_bp", "discount_cents")}


def fingerprint(path: Path) -> str:
    """Every row of the demo's tables in rowid order, and every entry of the finder's full-text
    index (term, row, column, place), not how its pages happen to be laid out."""
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_index, instance)")
        queries = []  # (what is hashed as the query, what is run)
        for table in TABLES:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                       if r[1] not in ADDED_SINCE.get(table, ())]
            queries.append((f"SELECT * FROM {table} ORDER BY rowid",
                            f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"))
        terms = "SELECT * FROM temp.terms ORDER BY 1, 2, 3, 4"
        for label, query in [*queries, (terms, terms)]:
            digest.update(label.encode())
            for row in conn.execute(query):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_data_as_before(tmp_path: Path, fixed_clock) -> None:
    db = open_database(tmp_path / "demo.db")
    summary = generate_demo(db, deals=300, seed=42)
    db.close()
    assert (summary.deals, summary.open_deals, summary.companies, summary.contacts) == (300, 162, 100, 141)
    assert fingerprint(tmp_path / "demo.db") == PINNED


def test_demo_rows_pass_the_checks_the_bulk_write_skips(tmp_path: Path, fixed_clock) -> None:
    """The demo writes without foreign key and CHECK constraint checks: its rows must pass them."""
    db = open_database(tmp_path / "demo.db")
    generate_demo(db, deals=300, seed=42)
    generate_demo(db, deals=50, seed=1, force=True)  # into tables that already have rows
    db.close()
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]  # CHECK and NOT NULL too
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


START = dt.datetime(2025, 5, 24, 9, 30, 17)
STAMP = _stamper(START, 548)


@given(st.floats(min_value=0, max_value=548 * 86400) | st.integers(min_value=0, max_value=548 * 86400))
@example(2.5e-06)  # exactly half a microsecond: rounds to even
@example(86399.9999996)  # rounds up into the next day
def test_demo_timestamps_are_those_of_a_datetime(seconds: float) -> None:
    """The demo formats its timestamps from lists; they must be to_db's to the microsecond."""
    assert STAMP(seconds) == to_db(START + dt.timedelta(seconds=seconds))
