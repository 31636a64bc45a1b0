"""Writing many rows at once (a big import, the demo): statements of many rows, and each page
written once through a rollback journal instead of the write-ahead log."""

from __future__ import annotations

import sqlite3
from itertools import chain, islice
from typing import Any

from crmtui.store.db import switch_journal_now

# Values per statement: 1,000 is as fast as SQLite's maximum (32,766), and such a statement
# takes ~5 MB compiled, kept in the statement cache (+23 MB peak for an import of 100,000 deals).
INSERT_MANY_VALUES = 1000


def insert_many(conn: sqlite3.Connection, insert: str, width: int, rows: Any,
                values: int = INSERT_MANY_VALUES) -> None:
    """`insert` ("INSERT ... VALUES") for every row of `rows` (tuples of `width` values), as
    statements of up to `values` values: one step per ~50 rows instead of one per row (staging
    100,000 deals: 0.38 -> 0.28 s; stage changes and tag links: 0.16 -> 0.09 s each)."""
    per = max(1, min(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), values) // width)
    row_marks = "(" + ", ".join("?" * width) + ")"
    full = f"{insert} " + ", ".join([row_marks] * per)
    rows = iter(rows)
    while batch := list(islice(rows, per)):
        values = tuple(chain.from_iterable(batch))
        if len(values) != len(batch) * width:
            raise ValueError(f"{insert}: a row without {width} values")
        conn.execute(full if len(batch) == per else f"{insert} " + ", ".join([row_marks] * len(batch)), values)


# Each index built sorts its keys in memory up to the cache's size, on the connection's thread.
# With a small cache SQLite sorts them in runs of that size, each by a second thread (`PRAGMA
# threads`) while this one reads on, and merges the runs: an import of 100,000 deals, eight turns
# each, rebuilt its indexes (and wrote the rest of its plan) in 0.72 s (median) against 0.775 s
# with a 64 MB cache and ~0.89 s with 8 MB; 2 MB was as slow as 8; the demo's 100,000 deals, from
# a 256 MB cache, 1.13 s against 1.28. The runs go to temporary files: faster than in memory.
INDEX_BUILD_CACHE_KIB = 512


def build_indexes(conn: sqlite3.Connection, statements: list[str]) -> None:
    """After a bulk write: run the CREATE statements of the indexes (and triggers) it set aside,
    then ANALYZE, from a sample of each index rather than every row (0.12 s -> 0.01 s for 100,000
    deals). Leaves the connection with a small page cache: the caller is done writing."""
    conn.execute(f"PRAGMA cache_size = -{INDEX_BUILD_CACHE_KIB}")
    conn.execute("PRAGMA threads = 2")
    conn.execute("PRAGMA temp_store = DEFAULT")
    for sql in statements:
        conn.execute(sql)
    conn.execute("PRAGMA analysis_limit = 1000")
    conn.execute("ANALYZE")


def write_pages_once(conn: sqlite3.Connection, busy_timeout: float) -> bool:
    """Have a bulk write (a big import, the demo) write each page once, into the database file,
    with a rollback journal that holds the pages it changes as they were; instead of writing every
    page to the write-ahead log first and copying it into the database at the commit (checkpoint).

    New pages are not journaled, so for a file of 100,000 new deals that is 80 MB written and
    synced once, not twice: 1.95 s against 2.15 s into an empty database, 2.63 against 2.81 s
    into one with 20,000 deals. The journal keeps the one transaction as safe: a crash or a kill
    leaves a journal that the next connection rolls back from. Only while no other connection
    has the database open (WAL mode cannot be left then): with crmtui open elsewhere, the import
    stays in WAL mode and the other program reads on meanwhile. Returns whether it switched;
    `back_to_wal` switches back after the commit (or, after a crash, `db.prepare_file`)."""
    if switch_journal_now(conn, "DELETE", busy_timeout) != "delete":  # open elsewhere: import in WAL mode
        return False
    # A commit in DELETE mode is the journal's removal: EXTRA also syncs the directory after it,
    # as durable as a WAL commit with synchronous = FULL.
    conn.execute("PRAGMA synchronous = EXTRA")
    return True


def back_to_wal(conn: sqlite3.Connection) -> None:
    """After `write_pages_once`: the database in WAL mode again. When that cannot be done now
    (another program opened the database meanwhile), the next crmtui to open it does it."""
    try:
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error:
        pass
