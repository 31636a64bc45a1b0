"""Opening the database: file creation (0600), safety pragmas, migrations, the day's backup, sessions."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from crmtui.store import backups, migrations
from crmtui.store.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT = 5.0


class Database:
    """An open crmtui database: the SQLAlchemy engine (made when first used: commands that only
    need `raw()`, such as `import`, start 0.3 s sooner without loading SQLAlchemy) plus helpers
    for transactions."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.backup_path: Path | None = None  # set when opening ran a migration
        self.backup_problem: str | None = None  # why today's backup could not be taken

    @cached_property
    def engine(self) -> Engine:
        return _make_engine(self.path, self.busy_timeout)

    def engine_on(self, conn: sqlite3.Connection) -> Engine:
        """An engine whose one connection is `conn` (from `raw()`, used in its thread): a caller
        that watches `PRAGMA data_version` on `conn` writes through it, and its own commits then
        do not look like another program's."""
        return _make_engine(self.path, self.busy_timeout, conn)

    @contextmanager
    def session(self, *, write: bool = True, engine: Engine | None = None) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error. It holds the
        write lock from its start (waiting up to busy_timeout for another writer); `write=False`
        reads one snapshot instead, never waiting for a writer, and must not write. `engine`: one
        from `engine_on`, instead of the shared one."""
        from sqlmodel import Session

        engine = engine or self.engine
        session = Session(engine if write else reading(engine), expire_on_commit=False)
        try:
            with translate_errors(self.path, self.busy_timeout):
                yield session
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def writing(self, *, commit: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction on a plain sqlite3 connection (from `raw()`), holding the write
        lock from its start: committed when the block ends, or rolled back when not `commit` (a
        preview) or on any error; SQLite's errors come out as one DatabaseError."""
        with translate_errors(self.path, self.busy_timeout):
            conn = self.raw()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT" if commit else "ROLLBACK")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                conn.close()

    def raw(self) -> sqlite3.Connection:
        """A plain sqlite3 connection with the same pragmas (bulk work, benchmarks)."""
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        _apply_pragmas(conn, self.busy_timeout)
        return conn

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


@contextmanager
def translate_errors(path: Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Iterator[None]:
    """Turn SQLite's exceptions into one readable DatabaseError."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, _database_errors()):
            raise
        raise database_error(path, exc, busy_timeout) from None


def _database_errors() -> tuple[type[BaseException], ...]:
    """sqlite3's errors, and SQLAlchemy's wrapper of them once SQLAlchemy is loaded (nothing
    can raise it before)."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return (sqlite3.Error, sa_exc.DBAPIError) if sa_exc is not None else (sqlite3.Error,)


def database_error(path: Path, exc: BaseException, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> DatabaseError:
    """The readable DatabaseError for an exception of sqlite3 (or SQLAlchemy's wrapper of one).
    A change refused this way wrote nothing: its transaction was rolled back."""
    orig = getattr(exc, "orig", None) or exc
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


def _make_engine(path: Path, busy_timeout: float, conn: sqlite3.Connection | None = None) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    if conn is not None:
        engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    else:
        engine = create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        _apply_pragmas(dbapi_conn, busy_timeout)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # The write lock from the start, waiting up to busy_timeout for another writer: a
        # deferred transaction that read first cannot wait when it comes to write (WAL hands
        # it SQLITE_BUSY at once), and a change reads before it writes (checks, undo entries).
        # A reading one (`reading`) is deferred: a snapshot that waits for nobody.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("crmtui_reading") else "BEGIN IMMEDIATE")

    return engine


def reading(engine: Engine) -> Engine:
    """The engine for sessions that only read (`Database.session(write=False)`, the dashboard's
    scans side by side): they neither wait for a writer nor hold one up."""
    return engine.execution_options(crmtui_reading=True)


__all__ = ["Database", "open_database", "reading", "translate_errors"]
