"""Backups of a database, in a `backups/` folder beside it: taken automatically (the first time the
database is opened on a day, and before anything that rewrites many records), on demand with
`crmtui backup`, pruned by the `backup-keep` setting, and put back with `crmtui restore`.

A backup is a consistent copy made with SQLite's backup API while others may go on reading and
writing, written under a temporary name, flushed to disk and renamed, mode 0600, in rollback-journal
mode so that it is one self-contained file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmtui.store import clock, migrations
from crmtui.store.errors import DatabaseError, ValidationError

FOLDER = "backups"
_STAMP = "%Y-%m-%dT%H%M%SZ"

# Off only in the test suite (tests/conftest.py), where databases are opened thousands of times a
# day; nothing a user sets reaches it.
daily_on_open = True


@dataclass(frozen=True)
class Keep:
    """What pruning keeps: every backup of the last 24 hours, and the newest backup of each of the
    last `daily` days, `weekly` weeks and `monthly` months that have one."""

    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    def __str__(self) -> str:
        return f"{self.daily} daily, {self.weekly} weekly, {self.monthly} monthly"


_KEEP_PART = re.compile(r"(\d+)\s*(daily|weekly|monthly)\b")


def parse_keep(text: str) -> Keep:
    """`7 daily, 4 weekly, 12 monthly` as typed (in any order; a period left out keeps none)."""
    typed = str(text).lower()
    found = _KEEP_PART.findall(typed)
    leftover = _KEEP_PART.sub(" ", typed).replace(",", " ").split()
    counts = {period: int(n) for n, period in found}
    if not found or leftover or len(counts) < len(found) or max(counts.values()) > 1000:
        raise ValidationError(f"backup-keep: {text!r} is not like '7 daily, 4 weekly, 12 monthly'"
                              " (each up to 1000)", "backup-keep")
    return Keep(counts.get("daily", 0), counts.get("weekly", 0), counts.get("monthly", 0))


@dataclass(frozen=True)
class Backup:
    """One backup file of a database."""

    path: Path
    taken_at: dt.datetime  # UTC, naive, as every timestamp is
    reason: str  # daily, manual, before-import-undo, before-restore, ...

    @property
    def why(self) -> str:
        return self.reason.replace("-", " ")


def folder(db_path: Path) -> Path:
    """Where the backups of the database at `db_path` live."""
    return db_path.parent / FOLDER


def _pattern(db_path: Path) -> re.Pattern[str]:
    # <database file name>-<UTC time>[-<n>]-<reason>.db; n tells apart backups of the same second
    return re.compile(re.escape(db_path.name) + r"-(\d{4}-\d\d-\d\dT\d{6}Z)(?:-(\d+))?-([a-z][a-z0-9-]*)\.db")


def list_backups(db_path: Path) -> list[Backup]:
    """The backups of the database at `db_path`, newest first (one listing of the folder)."""
    pattern = _pattern(db_path)
    found = []
    try:
        entries = os.scandir(folder(db_path))
    except OSError:
        return []
    with entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match:
                taken = dt.datetime.fromisoformat(match[1]).replace(tzinfo=None)
                found.append((taken, int(match[2] or 1), Backup(Path(entry.path), taken, match[3])))
    return [backup for *_order, backup in sorted(found, key=lambda t: t[:2], reverse=True)]


def local_time(utc: dt.datetime) -> dt.datetime:
    """A stored UTC time on the user's clock."""
    return utc.replace(tzinfo=dt.UTC).astimezone()


def taken_today(db_path: Path) -> bool:
    """Whether the database has a backup from today (the user's day). Every command opens the
    database and asks this: one listing of the folder, names compared as strings, no SQLite."""
    midnight = local_time(clock.utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    since = f"{db_path.name}-{midnight.astimezone(dt.UTC):{_STAMP}}"  # names sort by time
    pattern = _pattern(db_path)
    try:
        names = os.listdir(folder(db_path))
    except OSError:
        return False
    return any(name >= since and name.startswith(db_path.name) and pattern.fullmatch(name) for name in names)


def daily_backup(db_path: Path, busy_timeout: float = 5.0) -> Path | None:
    """Today's backup, unless there is one: the path written, or None."""
    if taken_today(db_path):
        return None
    return take_backup(db_path, "daily", busy_timeout=busy_timeout)


def take_backup(db_path: Path, reason: str, *, source: sqlite3.Connection | None = None,
                busy_timeout: float = 5.0) -> Path:
    """Back the database up into its backups folder now, then prune the folder by the
    `backup-keep` setting. `reason` says why (daily, manual, before-stage-delete, ...); `source`
    is a connection to copy from (else one is opened). Raises DatabaseError when it cannot."""
    try:
        target = _new_name(db_path, reason)
    except OSError as exc:
        raise DatabaseError(f"{folder(db_path)}: cannot write a backup ({exc.strerror or exc})") from None
    keep = _copy(db_path, target, source, busy_timeout)
    prune(db_path, keep)
    return target


def backup_before(where: Any, reason: str) -> Path:  # noqa: ANN401 - a Session, a Database or a path
    """A backup before something that rewrites many records (`reason`: before-import-undo, ...),
    of the database behind a Session, a Database or a path. It reads what is committed, so it may
    be called inside the caller's transaction, before its writes."""
    where = getattr(where, "database", None) or where  # a Session: its Database
    path = Path(getattr(where, "path", where))
    return take_backup(path, reason, busy_timeout=getattr(where, "busy_timeout", 5.0))


def backup_to(db_path: Path, target: Path, busy_timeout: float = 5.0) -> Path:
    """A backup written to `target` (a new file, or a folder to put it in), outside the pruned
    folder."""
    if target.is_dir():
        target = target / _name(db_path, clock.utcnow(), "manual")
    if target.exists():
        raise DatabaseError(f"{target}: already exists; give a new file name")
    _copy(db_path, target, None, busy_timeout)
    return target


def _copy(db_path: Path, target: Path, source: sqlite3.Connection | None, busy_timeout: float) -> Keep:
    """`write_copy` of the database, failing with one readable DatabaseError; returns the
    database's `backup-keep` setting."""
    conn = source
    try:
        if conn is None:
            conn = sqlite3.connect(f"{db_path.as_uri()}?mode=rw", uri=True, timeout=busy_timeout)
        write_copy(conn, target)
        return _keep_setting(conn)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{db_path}: cannot back the database up ({exc})") from None
    except OSError as exc:
        raise DatabaseError(f"{target.parent}: cannot write a backup ({exc.strerror or exc})") from None
    finally:
        if source is None and conn is not None:
            conn.close()


def write_copy(conn: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of what `conn` reads (the WAL included), at `target`, whole or not at all."""
    part = target.with_name(f".{target.name}.part")
    _create_private(part)
    try:
        dest = sqlite3.connect(part)
        try:
            dest.execute("PRAGMA synchronous = OFF")  # nobody reads it before the one fsync below
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        finally:
            dest.close()
        _fsync(part)
        os.replace(part, target)
        _fsync(target.parent)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _name(db_path: Path, when: dt.datetime, reason: str, n: int = 1) -> str:
    return f"{db_path.name}-{when.strftime(_STAMP)}{f'-{n}' if n > 1 else ''}-{reason}.db"


def _new_name(db_path: Path, reason: str) -> Path:
    where = folder(db_path)
    where.mkdir(mode=0o700, exist_ok=True)
    now, n = clock.utcnow(), 1
    while (where / _name(db_path, now, reason, n)).exists():
        n += 1
    return where / _name(db_path, now, reason, n)


def _create_private(path: Path) -> None:
    """An empty file only its owner may read (before anything is written into it)."""
    path.unlink(missing_ok=True)  # a part left by a crash
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _fsync(path: Path) -> None:
    if os.name == "nt" and path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_setting(conn: sqlite3.Connection) -> Keep:
    try:
        row = conn.execute("SELECT value FROM setting WHERE key = 'backup-keep'").fetchone()
        return parse_keep(row[0]) if row else Keep()
    except (sqlite3.Error, ValidationError):  # an old schema without settings, a hand-edited value
        return Keep()


# --- pruning -----------------------------------------------------------------------------------


def expired(backups: list[Backup], keep: Keep, now: dt.datetime) -> list[Backup]:
    """The backups (newest first) that `keep` lets go at `now`."""
    kept = {b.path for b in backups if now - b.taken_at < dt.timedelta(days=1)}
    periods = (
        (keep.daily, lambda t: t.date()),
        (keep.weekly, lambda t: t.isocalendar()[:2]),
        (keep.monthly, lambda t: (t.year, t.month)),
    )
    for count, period in periods:
        seen: set[Any] = set()
        for backup in backups:  # newest first: the first of a period is its newest
            key = period(local_time(backup.taken_at))
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.add(key)
            kept.add(backup.path)
    return [b for b in backups if b.path not in kept]


def prune(db_path: Path, keep: Keep, now: dt.datetime | None = None) -> list[Path]:
    """Delete the backups `keep` lets go; returns their paths."""
    gone = []
    for backup in expired(list_backups(db_path), keep, now or clock.utcnow()):
        backup.path.unlink(missing_ok=True)
        Path(f"{backup.path}-wal").unlink(missing_ok=True)  # beside a damaged database's copy
        gone.append(backup.path)
    return gone


def deal_count(path: Path) -> int | None:
    """The live deals in a backup (None when it cannot be read)."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM deal WHERE deleted_at IS NULL").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return None


# --- who has the database open -------------------------------------------------------------------

# struct flock, field by field, where fcntl(F_GETLK) says who holds a lock.
_FLOCK = {
    "linux": ("@hhqqi4x", ("type", "whence", "start", "len", "pid")),
    "darwin": ("@qqihh", ("start", "len", "pid", "type", "whence")),
}
# SQLite's lock bytes in the database file: PENDING at 1 GiB, RESERVED, then 510 SHARED bytes. A
# connection holds a SHARED lock there while it reads, and in WAL mode for as long as it is open.
_LOCK_BYTES = (0x40000000, 512)


def holder(db_path: Path) -> tuple[int, str] | None:
    """Another process that has the database open: its pid and command line, else None. Call it
    while this process has no connection to the database (closing a file drops every lock the
    process holds on it)."""
    layout = _FLOCK.get("linux" if sys.platform.startswith("linux") else sys.platform)
    if layout is None or not db_path.exists():
        return None
    import fcntl

    fmt, fields = layout
    asked = {"type": fcntl.F_WRLCK, "whence": os.SEEK_SET, "start": _LOCK_BYTES[0], "len": _LOCK_BYTES[1], "pid": 0}
    fd = os.open(db_path, os.O_RDONLY)
    try:
        answer = dict(zip(fields, struct.unpack(fmt, fcntl.fcntl(fd, fcntl.F_GETLK,
                                                                 struct.pack(fmt, *(asked[f] for f in fields))))))
    finally:
        os.close(fd)
    if answer["type"] == fcntl.F_UNLCK:
        return None
    return answer["pid"], _command_line(answer["pid"])


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        pass
    import subprocess

    try:
        return subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True,
                              timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def refuse_if_open(db_path: Path, doing: str) -> None:
    """Raise DatabaseError naming the process when another one has the database open."""
    found = holder(db_path)
    if found:
        pid, command = found
        raise DatabaseError(f"{db_path}: open in another program (pid {pid}: {command or 'unknown command'});"
                            f" close it, then {doing}")


# --- restore ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    source: Path
    deals: int
    upgraded_from: int | None  # the schema of an older file, brought up to date
    previous: Path | None  # the backup of the database it replaced


def restore(db_path: Path, source: Path, *, busy_timeout: float = 5.0) -> Restored:
    """Make the database what `source` (a backup, or any crmtui database file) holds. The file
    must be a crmtui database that passes `integrity_check`; an older schema is brought up to
    date; the current database is backed up first; refused while another process has the
    database open. The swap is a rename: the database is the old one or the new one, never half.
    Raises DatabaseError saying what is wrong; nothing is changed then."""
    source = source.expanduser().absolute()
    if not source.is_file():
        raise DatabaseError(f"{source}: no such file")
    if db_path.exists() and source.samefile(db_path):
        raise DatabaseError(f"{source}: is the database itself; give a backup (crmtui backups list)")
    refuse_if_open(db_path, "restore")
    part = db_path.with_name(f".{db_path.name}.restoring")
    try:
        db_path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        version, deals = _checked_copy(source, part, busy_timeout)
        _fsync(part)
        previous = _back_up_current(db_path, busy_timeout)
        refuse_if_open(db_path, "restore")
        # The old WAL must not be applied to the new file; it is in the backup just taken.
        for side in ("-wal", "-shm"):
            Path(f"{db_path}{side}").unlink(missing_ok=True)
        os.replace(part, db_path)
        _fsync(db_path.parent)
    except OSError as exc:
        raise DatabaseError(f"{db_path}: cannot restore ({exc.strerror or exc})") from None
    finally:
        part.unlink(missing_ok=True)
    return Restored(source, deals, version if version < migrations.LATEST_VERSION else None, previous)


def _checked_copy(source: Path, part: Path, busy_timeout: float) -> tuple[int, int]:
    """Copy `source` to `part`, check it and bring its schema up to date: (its schema, its deals)."""
    with source.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise DatabaseError(f"{source}: not a crmtui database (not an SQLite file)")
    _create_private(part)
    dest = migrations.connect_raw(part, timeout=busy_timeout)
    try:
        src = sqlite3.connect(source, timeout=busy_timeout)
        try:
            app_id, version = (src.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version"))
            if app_id != migrations.APPLICATION_ID or version < 1:
                raise DatabaseError(f"{source}: not a crmtui database")
            if version > migrations.LATEST_VERSION:
                raise DatabaseError(f"{source}: made by a newer crmtui (schema {version}); upgrade crmtui")
            src.backup(dest)
        finally:
            src.close()
        problems = [r[0] for r in dest.execute("PRAGMA integrity_check(3)")]
        if problems != ["ok"]:
            raise DatabaseError(f"{source}: the file is damaged (integrity_check: {problems[0]}); choose another"
                                " backup (crmtui backups list)")
        dest.execute("PRAGMA foreign_keys = ON")
        migrations.migrate(dest)
        dest.execute("PRAGMA journal_mode = WAL")
        deals = dest.execute("SELECT count(*) FROM deal WHERE deleted_at IS NULL").fetchone()[0]
    except sqlite3.Error as exc:
        if "malformed" in str(exc) or "not a database" in str(exc):
            raise DatabaseError(f"{source}: the file is damaged ({exc}); choose another backup"
                                " (crmtui backups list)") from None
        raise DatabaseError(f"{source}: cannot be read as a crmtui database ({exc})") from None
    finally:
        dest.close()
    return version, deals


def _back_up_current(db_path: Path, busy_timeout: float) -> Path | None:
    """The backup of the database a restore replaces. A file SQLite cannot read is copied as it
    is, with its WAL."""
    if not db_path.exists():
        return None
    try:
        return take_backup(db_path, "before-restore", busy_timeout=busy_timeout)
    except DatabaseError:
        if not db_path.stat().st_size:
            return None
    import shutil

    target = _new_name(db_path, "before-restore")
    for side in ("", "-wal"):
        if Path(f"{db_path}{side}").exists():
            _create_private(Path(f"{target}{side}"))
            shutil.copyfile(f"{db_path}{side}", f"{target}{side}")
    return target
