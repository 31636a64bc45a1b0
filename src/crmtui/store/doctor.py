"""`crmtui doctor`: is the database sound? Its integrity and foreign keys; what is derived from the
records and kept in step by triggers (the finder's index; a deal's open tasks, next and last task
due and last touch); its journal mode; who may read its files; and how old its last backup is.
`repair` rebuilds what is derived, after a backup."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crmtui.store import backups, clock, search_index
from crmtui.store.db import Database, switch_journal_now, translate_errors
from crmtui.store.errors import DatabaseError

CHECKS = ("integrity", "foreign keys", "finder", "follow-ups", "journal", "permissions", "backup")
_KINDS = {1: "deal", 2: "company", 3: "contact"}  # the finder's rowid: id * 4 + kind


@dataclass(frozen=True)
class Finding:
    check: str  # one of CHECKS
    problem: str
    repairable: bool  # `repair` puts it right

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def examine(db: Database) -> list[Finding]:
    """Every problem found, in the order of CHECKS; none when the database is sound."""
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            return [*_integrity(conn), *_foreign_keys(conn), *_finder(conn), *_follow_ups(conn), *_journal(conn),
                    *_permissions(db.path), *_backup(db)]
        finally:
            conn.close()


def repair(db: Database, findings: list[Finding]) -> list[str]:
    """Put right what `findings` can have put right, after a backup; what was done, a line each.
    A damaged database (its integrity check fails) is left alone: restore a backup."""
    if any(f.check == "integrity" for f in findings):
        raise DatabaseError(f"{db.path}: the database is damaged; doctor does not repair it: restore a backup"
                            " (crmtui backups list, crmtui restore latest)")
    checks = {f.check for f in findings if f.repairable}
    if not checks:
        return []
    done = [f"backup: took {backups.take_backup(db.path, 'before-repair', busy_timeout=db.busy_timeout)}"]
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            done += _rebuild(conn, checks, db.busy_timeout)
        finally:
            conn.close()
    if "permissions" in checks:
        done += _private(db.path)
    return done


def _rebuild(conn: sqlite3.Connection, checks: set[str], busy_timeout: float) -> list[str]:
    done = []
    if "journal" in checks:
        mode = switch_journal_now(conn, "WAL", busy_timeout)
        done.append("journal: switched to WAL" if mode == "wal"
                    else "journal: still not WAL (another program has the database open; close it and repair again)")
    if not checks & {"finder", "follow-ups"}:
        return done
    conn.execute("BEGIN IMMEDIATE")
    try:
        if "finder" in checks:
            done.append(f"finder: rebuilt the index of {search_index.rebuild_index(conn):,} records")
        if "follow-ups" in checks:
            rows = _follow_up_mismatches(conn)
            conn.executemany(
                "UPDATE deal SET open_tasks = ?, next_task_due = ?, last_task_due = ?,"
                " last_touch_at = max(coalesce(last_touch_at, ''), ?) WHERE id = ?",
                [(r["open_tasks"], r["next_task_due"], r["last_task_due"], r["touched"], r["id"]) for r in rows])
            done.append(f"follow-ups: recomputed open tasks, task due dates and last touch of {_deals(len(rows))}"
                        f" ({_ids(r['id'] for r in rows)})")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


# --- the checks ------------------------------------------------------------------------------------


def _integrity(conn: sqlite3.Connection) -> list[Finding]:
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    if problems == ["ok"]:
        return []
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return [Finding("integrity", f"the file is damaged: {problems[0]}{more}; restore a backup"
                                 " (crmtui backups list, crmtui restore latest)", False)]


def _foreign_keys(conn: sqlite3.Connection) -> list[Finding]:
    broken: dict[tuple[str, str], list[int]] = {}
    for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        broken.setdefault((table, parent), []).append(rowid)
    return [Finding("foreign keys", f"{len(ids)} {table} row{'s' if len(ids) > 1 else ''} point at a missing"
                                    f" {parent} ({table} {_ids(ids)})", False)
            for (table, parent), ids in broken.items()]


def _finder(conn: sqlite3.Connection) -> list[Finding]:
    """The finder's index against one built afresh from the records: every term of every record
    where it stands, each record's size, and the totals its ranking divides by. The index is
    contentless, so only this shows what it really holds."""
    conn.execute("CREATE VIRTUAL TABLE temp.doctor_finder USING fts5(name, extra, content = '',"
                 " tokenize = 'unicode61 remove_diacritics 2')")
    search_index.fill_index(conn, "temp.doctor_finder")
    conn.execute("CREATE VIRTUAL TABLE temp.doctor_held USING fts5vocab(main, search_index, 'instance')")
    conn.execute("CREATE VIRTUAL TABLE temp.doctor_fresh USING fts5vocab(temp, doctor_finder, 'instance')")
    held, fresh = "temp.doctor_held", "temp.doctor_fresh"
    held_size, fresh_size = "main.search_index_docsize", "temp.doctor_finder_docsize"
    rowids = sorted(r[0] for r in conn.execute(
        f"SELECT doc FROM (SELECT * FROM {held} EXCEPT SELECT * FROM {fresh})"
        f" UNION SELECT doc FROM (SELECT * FROM {fresh} EXCEPT SELECT * FROM {held})"
        f" UNION SELECT id FROM (SELECT id, sz FROM {held_size} EXCEPT SELECT id, sz FROM {fresh_size})"
        f" UNION SELECT id FROM (SELECT id, sz FROM {fresh_size} EXCEPT SELECT id, sz FROM {held_size})"))
    totals_differ = conn.execute("SELECT (SELECT block FROM main.search_index_data WHERE id = 1)"
                                 " IS NOT (SELECT block FROM temp.doctor_finder_data WHERE id = 1)").fetchone()[0]
    if rowids:
        named = ", ".join(f"{_KINDS.get(r % 4, 'record')} {r // 4}" for r in rowids[:5])
        more = ", …" if len(rowids) > 5 else ""
        records = f"{len(rowids):,} record{'s' if len(rowids) > 1 else ''}"
        return [Finding("finder", f"the index is out of step with {records} ({named}{more}): searching may miss"
                                  " records or find ones that are gone", True)]
    if totals_differ:
        return [Finding("finder", "the index's totals are out of step: results are ranked wrongly", True)]
    return []


# A deal's open tasks, next and last task due, and the least its last touch can be (its creation,
# its entry to its stage, its latest activity), from its activities, as the triggers keep them.
_DERIVED = """
SELECT d.id, coalesce(t.n, 0) AS open_tasks, t.first_due AS next_task_due, t.last_due AS last_task_due,
       max(d.created_at, d.stage_entered_at, coalesce(a.touched, '')) AS touched,
       d.open_tasks AS held_open, d.next_task_due AS held_next, d.last_task_due AS held_last,
       d.last_touch_at AS held_touch
FROM deal d
LEFT JOIN (SELECT deal_id, count(*) AS n, min(due_on) AS first_due, max(due_on) AS last_due FROM activity
           WHERE kind = 'task' AND done_at IS NULL AND deleted_at IS NULL AND deal_id IS NOT NULL
           GROUP BY deal_id) t ON t.deal_id = d.id
LEFT JOIN (SELECT deal_id, max(coalesce(done_at, occurred_at)) AS touched FROM activity
           WHERE deleted_at IS NULL AND deal_id IS NOT NULL GROUP BY deal_id) a ON a.deal_id = d.id
"""
_WRONG = {
    "open-task count": "open_tasks IS NOT held_open",
    "next task due": "next_task_due IS NOT held_next",
    "last task due": "last_task_due IS NOT held_last",
    "last touch": "held_touch IS NULL OR held_touch < touched",
}


def _follow_up_mismatches(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The deals whose kept columns differ from their activities, with what they should hold."""
    wrong = ", ".join(f"({sql}) AS \"{name}\"" for name, sql in _WRONG.items())
    cur = conn.execute(f"SELECT *, {wrong} FROM ({_DERIVED}) WHERE {' OR '.join(f'({s})' for s in _WRONG.values())}"
                       " ORDER BY id")
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur]


def _follow_ups(conn: sqlite3.Connection) -> list[Finding]:
    rows = _follow_up_mismatches(conn)
    if not rows:
        return []
    what = ", ".join(f"{name} wrong on {n:,}" for name in _WRONG if (n := sum(1 for r in rows if r[name])))
    return [Finding("follow-ups", f"{_deals(len(rows))} out of step with {'its' if len(rows) == 1 else 'their'}"
                                  f" activities (deal {_ids(r['id'] for r in rows)}): {what}", True)]


def _journal(conn: sqlite3.Connection) -> list[Finding]:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode == "wal":
        return []
    return [Finding("journal", f"the journal mode is {mode}, not WAL: the app and commands wait for each other"
                               " more, and a write cut short by a crash is riskier", True)]


def _exposed(db_path: Path) -> list[tuple[Path, int, int]]:
    """The database's files (and its backups) others may read or write: path, mode, wanted mode."""
    if os.name == "nt":
        return []
    where = backups.folder(db_path)
    files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), *(b.path for b in backups.list_backups(db_path))]
    found = [(p, p.stat().st_mode & 0o777, 0o600) for p in files if p.exists() and p.stat().st_mode & 0o077]
    if where.is_dir() and where.stat().st_mode & 0o077:
        found.append((where, where.stat().st_mode & 0o777, 0o700))
    return found


def _permissions(db_path: Path) -> list[Finding]:
    exposed = _exposed(db_path)
    if not exposed:
        return []
    named = ", ".join(f"{_shown(db_path, p)} ({mode:o})" for p, mode, _want in exposed)
    return [Finding("permissions", f"other users may read or write {named}; only you should", True)]


def _private(db_path: Path) -> list[str]:
    done = []
    for path, mode, wanted in _exposed(db_path):
        path.chmod(wanted)
        done.append(f"permissions: {_shown(db_path, path)} {mode:o} -> {wanted:o}")
    return done


def _backup(db: Database) -> list[Finding]:
    found = backups.list_backups(db.path)
    why = f" ({db.backup_problem})" if db.backup_problem else ""
    if not found:
        return [Finding("backup", f"the database has no backup yet{why}", True)]
    taken = backups.local_time(found[0].taken_at)
    days = (backups.local_time(clock.utcnow()).date() - taken.date()).days
    if days < 1:
        return []
    age = "yesterday" if days == 1 else f"{days} days ago"
    return [Finding("backup", f"the last backup was taken {age} ({taken:%Y-%m-%d %H:%M}){why}", True)]


def _shown(db_path: Path, path: Path) -> str:
    return str(path.relative_to(db_path.parent)) if path.is_relative_to(db_path.parent) else str(path)


def _deals(n: int) -> str:
    return f"{n:,} deal{'s' if n != 1 else ''}"


def _ids(ids: Any) -> str:  # noqa: ANN401 - any iterable of ids
    ids = list(ids)
    return ", ".join(str(i) for i in ids[:5]) + (", …" if len(ids) > 5 else "")
