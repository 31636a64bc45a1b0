"""The finder's full-text index (`search_index`, migrations 4 and 10): refilling it, or indexing
a range of new records, in plain SQL.

The triggers of migration 10 keep the index in step row by row; these are for bulk writers that
set the triggers aside (the demo data, big imports). The index is contentless: it forgets a row
only when told the values it indexed, so what it holds must always be what `_INDEXED` selects
from the live records, as the triggers write it."""

from __future__ import annotations

import sqlite3

# What the index holds for each kind of record (the same as the triggers of migration 10 write).
_INDEXED = {
    "deal": "SELECT id * 4 + 1, title, '' FROM deal",
    "company": "SELECT id * 4 + 2, name, trim(coalesce(domain, '') || ' ' || coalesce(email, '')) FROM company",
    "contact": "SELECT id * 4 + 3, name, coalesce(email, '') FROM contact",
}


def rebuild_index(conn: sqlite3.Connection) -> int:
    """Refill the finder's index from the live records (after a bulk load that bypassed the
    triggers, such as the demo's). Returns the number of rows indexed. Runs in the caller's
    transaction."""
    conn.execute("INSERT INTO search_index (search_index) VALUES ('delete-all')")
    fill_index(conn)
    return conn.execute("SELECT count(*) FROM search_index").fetchone()[0]


def fill_index(conn: sqlite3.Connection, table: str = "search_index") -> None:
    """Index every live record into `table`: the finder's index, or a fresh one to compare it
    with (`crmtui doctor`)."""
    for select in _INDEXED.values():
        conn.execute(f"INSERT INTO {table} (rowid, name, extra) {select} WHERE deleted_at IS NULL")


def index_range(conn: sqlite3.Connection, kind: str, first: int, last: int) -> None:
    """Index the live `kind` records with ids first..last, which are not in the index yet (rows
    bulk-inserted while the kind's insert trigger was set aside). One statement: FTS5 flushes
    its pending terms once, not once per row."""
    conn.execute(f"INSERT INTO search_index (rowid, name, extra) {_INDEXED[kind]}"
                 " WHERE id BETWEEN ? AND ? AND deleted_at IS NULL", (first, last))
