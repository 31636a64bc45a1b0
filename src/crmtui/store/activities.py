"""Activities (notes, calls, emails, meetings) and tasks on deals, companies and contacts.

Every change here is recorded in the undo log with the scope of the record it belongs to
(`undo_scope("deal", 12)` = "deal:12"), so `u` on that record's page reverses it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crmtui.store import clock, undo
from crmtui.store.dates import parse_date
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.models import Activity, Company, Contact, Deal
from crmtui.store.sql import Session

LOG_KINDS = ("note", "call", "email", "meeting")
RECORD_KINDS = ("deal", "company", "contact")
_MODELS = {"deal": Deal, "company": Company, "contact": Contact}
MAX_BODY = 5000


def undo_scope(kind: str, record_id: int) -> str:
    """The undo scope of a record's page: `deal:12`."""
    return f"{kind}:{record_id}"


def get_record(session: Session, kind: str, record_id: int) -> Deal | Company | Contact:
    """A live deal, company or contact; NotFound when missing or in the trash."""
    if kind not in _MODELS:
        raise ValidationError(f"record kind: {kind!r} is not deal, company or contact", "kind")
    row = session.get(_MODELS[kind], record_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"no {kind} with id {record_id}")
    return row


def _owner_ids(session: Session, kind: str, record_id: int) -> dict[str, int | None]:
    """An activity on a deal also belongs to the deal's company and contact (their timelines show it);
    one on a contact also to the contact's company."""
    record = get_record(session, kind, record_id)
    if kind == "deal":
        return {"deal_id": record.id, "company_id": record.company_id, "contact_id": record.contact_id}
    if kind == "contact":
        return {"deal_id": None, "company_id": record.company_id, "contact_id": record.id}
    return {"deal_id": None, "company_id": record.id, "contact_id": None}


def clean_body(body: str | None, field: str = "text") -> str:
    value = (body or "").strip()
    if not value:
        raise ValidationError(f"{field}: required", field)
    if len(value) > MAX_BODY:
        raise ValidationError(f"{field}: longer than {MAX_BODY} characters", field)
    return value


def parse_when(value: str | dt.date | dt.datetime | None, field: str = "date") -> dt.datetime:
    """When an activity happened: empty = now; a date (any form parse_date reads) = that day, at
    the current time of day when it is today, else noon."""
    now = clock.utcnow()
    if value is None or (isinstance(value, str) and not value.strip()):
        return now
    if isinstance(value, dt.datetime):
        return value
    day = parse_date(value, field=field)
    if day == now.date():
        return now
    return dt.datetime.combine(day, dt.time(12, 0))


def log_activity(
    session: Session,
    kind: str,
    record_kind: str,
    record_id: int,
    body: str,
    *,
    when: str | dt.date | dt.datetime | None = None,
) -> Activity:
    """Log a note, call, email or meeting on a deal, company or contact."""
    if kind not in LOG_KINDS:
        raise ValidationError(f"kind: {kind!r} is not one of {', '.join(LOG_KINDS)}", "kind")
    body = clean_body(body)
    occurred = parse_when(when)
    owners = _owner_ids(session, record_kind, record_id)
    now = clock.utcnow()
    activity = Activity(kind=kind, body=body, occurred_at=occurred, created_at=now, **owners)
    session.add(activity)
    undo.record(
        session,
        f"log {kind}",
        [{"op": "trash", "table": "activity", "id": activity.id}],
        scope=undo_scope(record_kind, record_id),
    )
    return activity


def add_task(
    session: Session,
    record_kind: str,
    record_id: int,
    body: str,
    due: str | dt.date | None,
) -> Activity:
    """Add a task with a due date (`tomorrow`, `fri`, `+3d`, ISO, ...) to a record."""
    body = clean_body(body)
    due_on = parse_date(due, field="due date")
    if due_on is None:
        raise ValidationError("due date: required", "due date")
    owners = _owner_ids(session, record_kind, record_id)
    now = clock.utcnow()
    task = Activity(kind="task", body=body, occurred_at=now, due_on=due_on, created_at=now, **owners)
    session.add(task)
    undo.record(
        session, "add task", [{"op": "trash", "table": "activity", "id": task.id}], scope=undo_scope(record_kind, record_id)
    )
    return task


def get_task(session: Session, task_id: int | str) -> Activity:
    try:
        key = int(str(task_id).strip().lstrip("#").removeprefix("A").removeprefix("a"))
    except ValueError:
        raise ValidationError(f"task id: {task_id!r} is not a number", "id") from None
    task = session.get(Activity, key)
    if task is None or task.deleted_at is not None or task.kind != "task":
        raise NotFound(f"no task with id {key}")
    return task


def task_scope(task: Activity) -> str:
    if task.deal_id:
        return undo_scope("deal", task.deal_id)
    if task.contact_id and not task.company_id:
        return undo_scope("contact", task.contact_id)
    if task.company_id:
        return undo_scope("company", task.company_id)
    return "detail"


def complete_task(session: Session, task_id: int | str, *, scope: str | None = None) -> Activity:
    """Mark a task done (now)."""
    task = get_task(session, task_id)
    if task.done_at is not None:
        raise ValidationError(f"task {task.id} is already done", "task")
    op = undo.update_op(session, "activity", task.id, ["done_at"])
    task.done_at = clock.utcnow()
    session.add(task)
    undo.record(session, "complete task", [op], scope=scope or task_scope(task))
    return task


def reschedule_task(session: Session, task_id: int | str, due: str | dt.date, *, scope: str | None = None) -> Activity:
    """Give an open task a new due date."""
    task = get_task(session, task_id)
    if task.done_at is not None:
        raise ValidationError(f"task {task.id} is done; nothing to reschedule", "id")
    due_on = parse_date(due, field="due date")
    if due_on is None:
        raise ValidationError("due date: required", "due date")
    op = undo.update_op(session, "activity", task.id, ["due_on"])
    task.due_on = due_on
    session.add(task)
    undo.record(session, "reschedule task", [op], scope=scope or task_scope(task))
    return task


def delete_activity(session: Session, activity_id: int, *, scope: str) -> Activity:
    """Move an activity or task to the trash."""
    activity = session.get(Activity, activity_id)
    if activity is None or activity.deleted_at is not None:
        raise NotFound(f"no activity with id {activity_id}")
    activity.deleted_at = clock.utcnow()
    session.add(activity)
    undo.record(session, f"delete {activity.kind}", [{"op": "restore", "table": "activity", "id": activity.id}], scope=scope)
    return activity


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a record's timeline: an activity, a task, or a deal's stage change."""

    kind: str  # note / call / email / meeting / task / stage
    at: dt.datetime
    text: str
    activity_id: int | None = None
    deal_id: int | None = None
    deal_title: str | None = None
    due_on: dt.date | None = None
    done: bool = False


def _ts(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _record_where(kind: str) -> str:
    # An activity on a deal also carries its company/contact; a company's timeline shows them all.
    return {"deal": "a.deal_id = :id", "company": "a.company_id = :id", "contact": "a.contact_id = :id"}[kind]


def timeline(session: Session, kind: str, record_id: int, *, limit: int = 500) -> list[TimelineEntry]:
    """A record's activities and tasks, with its deals' stage changes mixed in, newest first."""
    params = {"id": record_id, "limit": limit}
    rows = session.execute(
        "SELECT a.id, a.kind, a.body, a.occurred_at, a.due_on, a.done_at, a.deal_id, d.title FROM activity a"
            f" LEFT JOIN deal d ON d.id = a.deal_id WHERE {_record_where(kind)} AND a.deleted_at IS NULL"
            " ORDER BY a.occurred_at DESC, a.id DESC LIMIT :limit",
        params,
    ).fetchall()
    entries = [
        TimelineEntry(
            kind=r[1], at=_ts(r[3]), text=r[2], activity_id=r[0], deal_id=r[6], deal_title=r[7],
            due_on=_day(r[4]), done=r[5] is not None,
        )
        for r in rows
    ]
    deal_filter = {
        "deal": "sc.deal_id = :id",
        "company": "d.company_id = :id AND d.deleted_at IS NULL",
        "contact": "d.contact_id = :id AND d.deleted_at IS NULL",
    }[kind]
    changes = session.execute(
        "SELECT sc.changed_at, f.name, t.name, d.id, d.title FROM stage_change sc JOIN deal d ON d.id = sc.deal_id"
            " LEFT JOIN stage f ON f.id = sc.from_stage_id JOIN stage t ON t.id = sc.to_stage_id"
            f" WHERE {deal_filter} ORDER BY sc.changed_at DESC, sc.id DESC LIMIT :limit",
        params,
    ).fetchall()
    for c in changes:
        what = f"{c[1]} → {c[2]}" if c[1] else f"created in {c[2]}"
        entries.append(TimelineEntry(kind="stage", at=_ts(c[0]), text=what, deal_id=c[3], deal_title=c[4]))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def next_open_task(session: Session, kind: str, record_id: int) -> Activity | None:
    """The open task due first on a record (overdue ones included)."""
    row = session.execute(
        f"SELECT a.id FROM activity a WHERE {_record_where(kind)} AND a.kind = 'task' AND a.done_at IS NULL"
            " AND a.deleted_at IS NULL ORDER BY a.due_on IS NULL, a.due_on, a.id LIMIT 1",
        {"id": record_id},
    ).fetchone()
    return session.get(Activity, row[0]) if row else None


@dataclass(frozen=True)
class StageStay:
    """A stage a deal sat in: when it entered, when it left (None = still there), days spent."""

    stage: str
    entered: dt.datetime
    left: dt.datetime | None
    days: int


def stage_history(session: Session, deal_id: int) -> list[StageStay]:
    """The stages a deal went through, oldest first, with the days spent in each."""
    rows = session.execute(
        "SELECT t.name, sc.changed_at FROM stage_change sc JOIN stage t ON t.id = sc.to_stage_id"
            " WHERE sc.deal_id = :id ORDER BY sc.changed_at, sc.id",
        {"id": deal_id},
    ).fetchall()
    now = clock.utcnow()
    stays = []
    for i, (name, at) in enumerate(rows):
        entered = _ts(at)
        left = _ts(rows[i + 1][1]) if i + 1 < len(rows) else None
        stays.append(StageStay(name, entered, left, ((left or now) - entered).days))
    return stays


def tasks(session: Session, *, overdue: bool = False, include_done: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """Open tasks by due date (oldest first), with what they are about; `overdue` = due before today."""
    where = ["a.kind = 'task'", "a.deleted_at IS NULL"]
    params: dict[str, Any] = {"today": clock.today().isoformat(), "limit": -1 if limit is None else limit}
    if not include_done:
        where.append("a.done_at IS NULL")
    if overdue:
        where.append("a.due_on < :today")
    rows = session.execute(
        "SELECT a.id, a.body, a.due_on, a.done_at, a.deal_id, d.title AS deal, a.company_id, c.name AS company,"
            " a.contact_id, p.name AS contact FROM activity a LEFT JOIN deal d ON d.id = a.deal_id"
            " LEFT JOIN company c ON c.id = a.company_id LEFT JOIN contact p ON p.id = a.contact_id"
            f" WHERE {' AND '.join(where)} ORDER BY a.due_on IS NULL, a.due_on, a.id LIMIT :limit",
        params,
    ).fetchall()
    today = clock.today()
    out = []
    for r in rows:
        row = dict(r)
        due = _day(row["due_on"])
        row["due_on"] = due.isoformat() if due else None
        row["done"] = row.pop("done_at") is not None
        row["overdue"] = bool(due and due < today and not row["done"])
        row["due_today"] = due == today
        out.append(row)
    return out
