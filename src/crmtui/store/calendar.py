"""Open tasks (and, when asked, meetings) as an iCalendar file any calendar imports.

A task with a due date becomes an all-day event on that day; a logged meeting a one-hour event
at its time. Each event's UID is made from the record's id and the database's own random id (the
`database-id` setting, made with the database), so importing a newer file into the same calendar
updates the events it has instead of adding them again, and two databases never share one.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from crmtui.store import clock

MEETING_LENGTH = dt.timedelta(hours=1)

_RECORD = """
    (SELECT d.title FROM deal d WHERE d.id = a.deal_id) AS deal,
    (SELECT c.name FROM company c WHERE c.id = coalesce(a.company_id,
        (SELECT d.company_id FROM deal d WHERE d.id = a.deal_id))) AS company,
    (SELECT p.name FROM contact p WHERE p.id = coalesce(a.contact_id,
        (SELECT d.contact_id FROM deal d WHERE d.id = a.deal_id))) AS contact,
    (SELECT p.email FROM contact p WHERE p.id = coalesce(a.contact_id,
        (SELECT d.contact_id FROM deal d WHERE d.id = a.deal_id))) AS email"""

_TASKS = f"""SELECT a.id, a.kind, a.body, a.due_on, a.occurred_at, a.deal_id, a.company_id, a.contact_id,
    a.created_at, {_RECORD}
    FROM activity a
    WHERE a.kind = 'task' AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.due_on IS NOT NULL
    ORDER BY a.due_on, a.id"""

_MEETINGS = f"""SELECT a.id, a.kind, a.body, a.due_on, a.occurred_at, a.deal_id, a.company_id, a.contact_id,
    a.created_at, {_RECORD}
    FROM activity a
    WHERE a.kind = 'meeting' AND a.deleted_at IS NULL
    ORDER BY a.occurred_at, a.id"""


def database_identity(conn: sqlite3.Connection) -> str:
    """The database's own id, the same for its life (not its path: it may move)."""
    return conn.execute("SELECT value FROM setting WHERE key = 'database-id'").fetchone()[0]


def write_ics(conn: sqlite3.Connection, *, meetings: bool = False) -> tuple[bytes, dict[str, int]]:
    """The calendar file, and how many tasks (and meetings) it holds."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//crmtui//tasks//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "crmtui tasks")
    identity = database_identity(conn)
    stamp = clock.utcnow().replace(tzinfo=dt.timezone.utc)
    counts = {"tasks": 0}
    for row in conn.execute(_TASKS):
        event = _event(Event(), row, identity, stamp)
        day = dt.date.fromisoformat(str(row["due_on"])[:10])
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a to-do: it does not make the day busy
        cal.add_component(event)
        counts["tasks"] += 1
    if meetings:
        counts["meetings"] = 0
        for row in conn.execute(_MEETINGS):
            event = _event(Event(), row, identity, stamp)
            start = dt.datetime.fromisoformat(str(row["occurred_at"])).replace(tzinfo=dt.timezone.utc)
            event.add("dtstart", start)
            event.add("dtend", start + MEETING_LENGTH)
            cal.add_component(event)
            counts["meetings"] += 1
    return cal.to_ical(), counts


def _event(event: Any, row: Any, identity: str, stamp: dt.datetime) -> Any:  # noqa: ANN401
    """The parts every event has: uid, summary (what, and for whom), description, stamp."""
    kind = row["kind"]
    event.add("uid", f"{kind}-{row['id']}-{identity}@crmtui")
    first_line = (row["body"] or kind).strip().splitlines()[0] if (row["body"] or "").strip() else kind.title()
    customer = row["company"] or row["contact"]
    event.add("summary", f"{first_line} – {customer}" if customer else first_line)
    lines = [row["body"].strip()] if (row["body"] or "").strip() else []
    if row["deal"]:
        lines.append(f"Deal: {row['deal']} (crmtui deal show {row['deal_id']})")
    if row["company"]:
        lines.append(f"Company: {row['company']}")
    if row["contact"]:
        lines.append(f"Contact: {row['contact']}" + (f" <{row['email']}>" if row["email"] else ""))
    lines.append(f"crmtui {kind} A{row['id']}")
    event.add("description", "\n".join(lines))
    event.add("dtstamp", stamp)
    event.add("categories", ["crmtui"])
    return event


__all__ = ["database_identity", "write_ics"]
