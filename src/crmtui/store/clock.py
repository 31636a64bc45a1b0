"""The one place the store asks for the time, so tests can fix it.

Timestamps are naive datetimes in UTC; dates are the user's local calendar date.
"""

from __future__ import annotations

import datetime as dt
import os

_fixed_now: dt.datetime | None = None


def set_fixed_now(value: dt.datetime | None) -> None:
    """Freeze the clock (tests, snapshots); None unfreezes it."""
    global _fixed_now
    _fixed_now = value


def utcnow() -> dt.datetime:
    """Now, in UTC, without tzinfo (how timestamps are stored)."""
    if _fixed_now is not None:
        return _fixed_now
    env = os.environ.get("CRMTUI_NOW")
    if env:
        return dt.datetime.fromisoformat(env)
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    """Today's date. With a fixed clock, the fixed clock's date."""
    if _fixed_now is not None or os.environ.get("CRMTUI_NOW"):
        return utcnow().date()
    return dt.date.today()


def to_db(value: dt.datetime) -> str:
    """A timestamp as the store keeps it in SQLite (naive UTC, with microseconds)."""
    return value.isoformat(sep=" ", timespec="microseconds")
