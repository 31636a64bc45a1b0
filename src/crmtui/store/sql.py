"""The store's way to SQLite: a session (one transaction on a sqlite3 connection), rows that read
by name, and the tables as plain classes.

The store writes its SQL out (`:name` parameters) and runs it on Python's own sqlite3: a command
that reads twenty deals takes about a tenth of a second, where importing an ORM alone took three
tenths. The few places that handle a whole record (`session.get`, `session.add`) get one of the
classes in `models`, with its values converted from and to SQLite's text the way they are stored.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Record")
Params = Mapping[str, Any] | Sequence[Any]


def _datetime_text(value: dt.datetime) -> str:
    return value.isoformat(" ", timespec="microseconds")


# Dates and timestamps go in as text, the same text whichever query writes them: dates as
# 2026-12-07, timestamps (naive UTC) as 2026-12-07 16:30:00.000000, so they sort and compare as text.
sqlite3.register_adapter(dt.datetime, _datetime_text)
sqlite3.register_adapter(dt.date, dt.date.isoformat)


class Row(sqlite3.Row):
    """A result row: by position, by column name (`row["title"]`) or as an attribute (`row.title`)."""

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        try:
            return self[name]
        except IndexError:
            raise AttributeError(name) from None


class Cursor(sqlite3.Cursor):
    def scalar(self) -> Any:  # noqa: ANN401
        """The first column of the first row; None when there is no row."""
        row = self.fetchone()
        return None if row is None else row[0]


def connect(path: Any, timeout: float, **kwargs: Any) -> sqlite3.Connection:  # noqa: ANN401
    """A sqlite3 connection whose rows are `Row`s, in autocommit mode: transactions are begun
    explicitly (`Session`)."""
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, **kwargs)
    conn.row_factory = Row
    return conn


class Session:
    """One transaction on a connection (`Database.session` begins and ends it). Queries are SQL
    with `:name` parameters; `get`, `add` and `delete` handle one record of a table in `models`."""

    def __init__(self, conn: sqlite3.Connection, database: Any = None) -> None:  # noqa: ANN401
        self.conn = conn
        self.database = database  # the store.db.Database it belongs to, if any: for connections of its own
        # Run once the transaction has committed (hooks: what happened is told only when it stays
        # done); they must not raise. Dropped when it rolls back.
        self.after_commit: list[Callable[[], None]] = []

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.conn.cursor(Cursor).execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Cursor:  # noqa: ANN401
        return self.conn.cursor(Cursor).executemany(sql, rows)

    def get(self, model: type[T], key: Any) -> T | None:  # noqa: ANN401
        """The record of `model` with primary key `key` (a tuple for a two-column key), or None."""
        keys = key if isinstance(key, tuple) else (key,)
        where = " AND ".join(f"{name} = ?" for name in model.__key__)
        row = self.execute(f"SELECT * FROM {model.__table__} WHERE {where}", keys).fetchone()
        return None if row is None else model.from_row(row)

    def find(self, model: type[T], where: str = "1", params: Params = (), *, order: str = "id") -> list[T]:
        """The records of `model` matching the SQL condition `where`, in `order`."""
        sql = f"SELECT * FROM {model.__table__} WHERE {where} ORDER BY {order}"
        return [model.from_row(row) for row in self.execute(sql, params)]

    def add(self, record: Record) -> None:
        """Write `record`: a new one is inserted (and gets its id), a loaded one has the columns
        changed since it was read updated (columns kept by triggers stay as the triggers left them)."""
        values = record.to_db()
        stored = record._stored
        table = record.__table__
        if stored is None:
            if "id" in values and values["id"] is None:
                del values["id"]
            names = ", ".join(values)
            marks = ", ".join(f":{name}" for name in values)
            cursor = self.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
            if "id" in record.__columns__ and record.id is None:  # type: ignore[attr-defined]
                record.id = cursor.lastrowid  # type: ignore[attr-defined]
        else:
            changed = {name: value for name, value in values.items() if stored.get(name, ...) != value}
            if changed:
                sets = ", ".join(f"{name} = :{name}" for name in changed)
                where = " AND ".join(f"{name} = :_key_{name}" for name in record.__key__)
                keys = {f"_key_{name}": stored[name] for name in record.__key__}
                self.execute(f"UPDATE {table} SET {sets} WHERE {where}", {**changed, **keys})
        record._stored = record.to_db()

    def delete(self, record: Record) -> None:
        """Delete `record`'s row for good (records in the trash are kept with `deleted_at` instead)."""
        where = " AND ".join(f"{name} = ?" for name in record.__key__)
        self.execute(f"DELETE FROM {record.__table__} WHERE {where}",
                     [getattr(record, name) for name in record.__key__])


def _datetime(value: Any) -> Any:  # noqa: ANN401
    return value if value is None or isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _date(value: Any) -> Any:  # noqa: ANN401
    return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _bool(value: Any) -> Any:  # noqa: ANN401
    return value if value is None else bool(value)


# How a column's text from SQLite becomes its attribute's type, by the type named in its
# annotation (`dt.datetime`, `Optional[dt.date]`, `bool`); other columns come as SQLite gives them.
_CONVERTERS = (("dt.datetime", _datetime), ("dt.date", _date), ("bool", _bool))


def _converter(annotation: str) -> Any:  # noqa: ANN401
    names = re.findall(r"[\w.]+", annotation)
    return next((convert for name, convert in _CONVERTERS if name in names), None)


class Record:
    """A table's row as an object, made with keyword arguments (one per column; those with a
    default in the class may be left out): subclasses are declared with `table(...)`."""

    __table__: ClassVar[str]
    __key__: ClassVar[tuple[str, ...]]
    __columns__: ClassVar[tuple[str, ...]]
    __defaults__: ClassVar[dict[str, Any]]
    __converters__: ClassVar[dict[str, Any]]
    __hash__ = None  # type: ignore[assignment]  # (equal when their values are: not hashable)
    _stored: dict[str, Any] | None  # the values as read or last written; None: not in the database yet

    def __init__(self, **values: Any) -> None:  # noqa: ANN401
        for name in self.__columns__:
            if name in values:
                setattr(self, name, values.pop(name))
            elif name in self.__defaults__:
                setattr(self, name, self.__defaults__[name])
            else:
                raise TypeError(f"{type(self).__name__}: {name} is required")
        if values:
            raise TypeError(f"{type(self).__name__} has no column {', '.join(values)}")
        self._stored = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__columns__)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_db() == other.to_db()  # type: ignore[attr-defined]

    @classmethod
    def from_row(cls: type[T], row: Mapping[str, Any]) -> T:
        values = {name: row[name] for name in cls.__columns__}
        for name, convert in cls.__converters__.items():
            values[name] = convert(values[name])
        record = cls(**values)
        record._stored = record.to_db()
        return record

    def to_db(self) -> dict[str, Any]:
        """The column values as they are stored (dates and timestamps as text, booleans as 0/1)."""
        out = {}
        for name in self.__columns__:
            value = getattr(self, name)
            if isinstance(value, dt.datetime):
                value = _datetime_text(value)
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = int(value)
            out[name] = value
        return out


def table(name: str, *, key: tuple[str, ...] = ("id",)) -> Any:  # noqa: ANN401
    """Class decorator: the Record of table `name` with primary key `key`, whose columns are the
    class's annotated attributes, in order (their values in the class: the defaults)."""

    def make(cls: type[Record]) -> type[Record]:
        annotations = {n: str(a) for n, a in vars(cls).get("__annotations__", {}).items()}
        cls.__table__ = name
        cls.__key__ = key
        cls.__columns__ = tuple(annotations)
        cls.__defaults__ = {n: vars(cls)[n] for n in annotations if n in vars(cls)}
        cls.__converters__ = {n: conv for n, a in annotations.items() if (conv := _converter(a)) is not None}
        return cls

    return make


__all__ = ["Cursor", "Record", "Row", "Session", "connect", "table"]
