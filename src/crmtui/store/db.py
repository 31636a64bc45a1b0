"""Opening the database: file creation (0600), safety pragmas, migrations, the day's backup, sessions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crmtui.store import backups, migrations
from crmtui.store.errors import DatabaseError
from crmtui.store.sql import Session, connect


SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT = 5.0


class Database:
    """An open crmtui database: where it is, and its transactions (`session`, `writing`)."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.backup_path: Path | None = None  # set when opening ran a migration
        self.backup_problem: str | None = None  # why today's backup could not be taken

    @contextmanager
    def session(self, *, write: bool = True, conn: sqlite3.Connection | None = None) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error. It holds the
        write lock from its start (waiting up to busy_timeout for another writer); `write=False`
        reads one snapshot instead, never waiting for a writer, and must not write. `conn`: a
        connection of the caller's own (from `raw()`, kept open after), instead of a new one."""
        with translate_errors(self.path, self.busy_timeout):
            own = conn is None
            conn = self.raw() if conn is None else conn
            session = Session(conn, self)
            try:
                with transaction(conn, "BEGIN IMMEDIATE" if write else "BEGIN"):
                    yield session
            finally:
                if own:
                    conn.close()
        for then in session.after_commit:
            then()

    @contextmanager
    def writing(self, *, commit: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction on a plain sqlite3 connection (from `raw()`), holding the write
        lock from its start: committed when the block ends, or rolled back when not `commit` (a
        preview) or on any error; SQLite's errors come out as one DatabaseError."""
        with translate_errors(self.path, self.busy_timeout):
            conn = self.raw()
            try:
                with transaction(conn, "BEGIN IMMEDIATE", commit=commit):
                    yield conn
            finally:
                conn.close()

    def raw(self) -> sqlite3.Connection:
        """A sqlite3 connection with the database's pragmas, in autocommit mode (transactions are
        begun explicitly), usable from any thread, its rows read by name (`sql.Row`)."""
        conn = connect(self.path, self.busy_timeout, check_same_thread=False)
        _apply_pragmas(conn, self.busy_timeout)
        return conn

    def close(self) -> None:
        """Nothing stays open between transactions; kept so callers can say they are done."""


@contextmanager
def transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE", *, commit: bool = True) -> Iterator[None]:
    """`begin` a transaction on `conn` (in autocommit mode), committed when the block ends (or
    rolled back when not `commit`), rolled back on any error."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT" if commit else "ROLLBACK")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def translate_errors(path: Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Iterator[None]:
    """Turn SQLite's exceptions into one readable DatabaseError."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, sqlite3.Error):
            raise
        raise database_error(path, exc, busy_timeout) from None




def database_error(path: Path, exc: BaseException, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> DatabaseError:
    """The readable DatabaseError for an exception of sqlite3.
    A change refused this way wrote nothing: its transaction was rolled back."""
    orig = exc
    text = str(orig).lower()
    if "locked" in text or "busy" in text:
        return DatabaseError(
            f"{path}: another crmtui is writing to this database (waited {busy_timeout:g} s); try again"
        )
    if "database or disk is full" in text:  # SQLITE_FULL: the disk, or the database's size limit
        return DatabaseError(
            f"{path}: the disk is full (or the database reached its size limit); nothing was saved. "
            "Free some space and try again"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return DatabaseError(f"{path}: the database file is damaged or not a database ({orig})")
    if "readonly" in text or "read-only" in text:
        return DatabaseError(
            f"{path}: the database file is read-only; nothing was saved (check the file's permissions)"
        )
    if "unable to open" in text:
        return DatabaseError(f"{path}: cannot open the database file")
    return DatabaseError(f"{path}: database error: {orig}")


def _apply_pragmas(conn: sqlite3.Connection, busy_timeout: float) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    # WAL with synchronous=FULL: a commit that returned survives a power cut.
    conn.execute("PRAGMA synchronous = FULL")


def switch_journal_now(conn: sqlite3.Connection, mode: str, busy_timeout: float) -> str | None:
    """`PRAGMA journal_mode = mode` without waiting for other connections (or holding them up):
    the mode the database is in afterwards, None when another connection prevents the switch.
    `busy_timeout` is the connection's own, set again afterwards."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        return conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0]
    except sqlite3.OperationalError:
        return None
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")


def _create_file(path: Path) -> None:
    if path.parent and not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"{path.parent}: cannot create the data directory ({exc.strerror})") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot create the database file ({exc.strerror})") from None
    os.close(fd)


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise DatabaseError(f"{path}: is a directory, not a database file")
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot read the database file ({exc.strerror})") from None
    if head and head != SQLITE_MAGIC:
        raise DatabaseError(f"{path}: not a crmtui database (not an SQLite file)")


def prepare_file(path: Path, *, create: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Path | None:
    """Create or check the file and bring its schema up to date. Returns the path of the backup
    taken before a migration ran on an existing database."""
    if not path.exists():
        if not create:
            raise DatabaseError(f"{path}: no such database")
        _create_file(path)
    _check_file(path)
    backup = None
    try:
        conn = migrations.connect_raw(path, timeout=busy_timeout)
    except sqlite3.Error as exc:
        raise database_error(path, exc, busy_timeout) from None
    try:
        _apply_pragmas(conn, busy_timeout)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == 0 and version == 0:
            has_tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            if has_tables:
                raise DatabaseError(f"{path}: not a crmtui database (it holds other tables)")
            conn.execute("PRAGMA journal_mode = WAL")
        elif app_id != migrations.APPLICATION_ID:
            raise DatabaseError(f"{path}: not a crmtui database")
        elif conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # A big import writes with a rollback journal and switches back to WAL at its end
            # (bulk.write_pages_once); killed before that, it left the file in rollback
            # mode (the read above rolled its journal back). Still running, it switches back itself.
            switch_journal_now(conn, "WAL", busy_timeout)
        if version > migrations.LATEST_VERSION:
            raise DatabaseError(
                f"{path}: made by a newer crmtui (schema {version}, this one knows "
                f"{migrations.LATEST_VERSION}); upgrade crmtui"
            )
        if version < migrations.LATEST_VERSION:
            if version > 0:
                backup = backups.take_backup(path, f"before-upgrade-from-schema-{version}", source=conn)
            migrations.migrate(conn)
    except sqlite3.Error as exc:
        raise database_error(path, exc, busy_timeout) from None
    finally:
        conn.close()
    return backup


def open_database(
    path: str | os.PathLike[str],
    *,
    create: bool = True,
    busy_timeout: float | None = None,
    daily_backup: bool = True,
) -> Database:
    """Open (creating if needed) a crmtui database and migrate it to the current schema. The
    first time an existing database is opened on a day, it is backed up (`backups`); when that
    fails the database still opens, and `backup_problem` says why.

    Raises DatabaseError with a readable message for a locked, damaged, foreign or newer file.
    """
    if busy_timeout is None:
        busy_timeout = float(os.environ.get("CRMTUI_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT))
    path = Path(path).expanduser().absolute()
    new = not path.exists()
    backup = prepare_file(path, create=create, busy_timeout=busy_timeout)
    db = Database(path, busy_timeout)
    db.backup_path = backup
    if daily_backup and backups.daily_on_open and backup is None and not new:
        try:
            backups.daily_backup(path, busy_timeout)
        except DatabaseError as exc:
            db.backup_problem = exc.message
    return db


__all__ = ["Database", "open_database", "translate_errors"]
