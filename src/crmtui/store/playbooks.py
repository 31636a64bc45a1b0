"""Stage playbooks: tasks added when a deal enters a stage.

Each entry of a stage's playbook is a task text and a number of days: a deal that enters the
stage (created in it, moved there by any way, imported into it) gets the task, due that many
days after. A deal that still has an open task from an entry does not get it again when it
comes back; once the task is done (or deleted), entering again adds it again. Adding and
removing entries is setup: one undo entry each in scope "settings".
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

from crmtui.store import clock, undo
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.models import PlaybookTask
from crmtui.store.pipelines import find_pipeline, find_stage, list_stages
from crmtui.store.sql import Session
from crmtui.store.validate import require_text

SCOPE = "settings"
MAX_DUE_DAYS = 3650
DUE_FORMS = "+5d (days), +2w (weeks) or 5 days"
_DUE = re.compile(r"\+?\s*(\d{1,5})\s*(d|days?|w|weeks?)?", re.IGNORECASE)


def clean_due(value: str | int) -> int:
    """Days after entering the stage a task is due, as people type it: +5d, +2w, 5 days, 1 week,
    5 (days), 0 (the day it enters)."""
    text = str(value).strip()
    match = _DUE.fullmatch(text)
    if not match:
        raise ValidationError(f"due: {text!r} is not a time after the deal enters the stage: give {DUE_FORMS}",
                              "due")
    days = int(match[1]) * (7 if (match[2] or "d").lower().startswith("w") else 1)
    if days > MAX_DUE_DAYS:
        raise ValidationError(f"due: {text!r} is more than {MAX_DUE_DAYS} days away", "due")
    return days


def due_label(days: int) -> str:
    """How an entry's due time is shown: +5d, or "same day"."""
    return f"+{days}d" if days else "same day"


def list_entries(session: Session, pipeline: str | int | None = None) -> dict[str, Any]:
    """The playbook of a pipeline (the default pipeline when None): its name, and its entries in
    stage order, then in the order they were added."""
    pipe = find_pipeline(session, pipeline)
    stages = {st.id: (position, st) for position, st in enumerate(list_stages(session, pipe.id), start=1)}
    rows = session.execute(
        "SELECT id, stage_id, body, due_days FROM playbook_task"
        " WHERE deleted_at IS NULL AND stage_id IN (SELECT value FROM json_each(:ids)) ORDER BY position, id",
        {"ids": json.dumps(list(stages))},
    ).fetchall()
    rows = sorted(rows, key=lambda r: stages[r["stage_id"]][0])
    tasks = [{"id": r["id"], "stage": stages[r["stage_id"]][1].name, "stage_position": stages[r["stage_id"]][0],
              "task": r["body"], "due_days": r["due_days"], "due": due_label(r["due_days"])} for r in rows]
    return {"pipeline": pipe.name, "tasks": tasks}


def stage_entries(session: Session, stage_id: int) -> list[PlaybookTask]:
    """One stage's playbook, in order."""
    return session.find(PlaybookTask, "stage_id = ? AND deleted_at IS NULL", [stage_id], order="position, id")


def add_entry(
    session: Session, stage: str, text: str, due: str | int, *, pipeline: str | int | None = None
) -> PlaybookTask:
    """Add a task to a stage's playbook (the stage by name, any case, or position, in the default
    pipeline when None): deals entering the stage from now on get it, due `due` days after."""
    pipe = find_pipeline(session, pipeline)
    st = find_stage(session, pipe, stage)
    body = require_text(text, "task")
    days = clean_due(due)
    last = session.execute("SELECT max(position) FROM playbook_task WHERE stage_id = :s", {"s": st.id}).scalar()
    entry = PlaybookTask(stage_id=st.id, body=body, due_days=days, position=(last or 0) + 1,
                         created_at=clock.utcnow())
    session.add(entry)
    undo.record(session, f"add playbook task {body} to {st.name}",
                [{"op": "trash", "table": "playbook_task", "id": entry.id}], scope=SCOPE)
    return entry


def find_entry(session: Session, entry_id: str | int) -> PlaybookTask:
    """A playbook entry by its id (as `crmtui playbook list` shows it; "#7" too)."""
    text = str(entry_id).strip().removeprefix("#")
    entry = session.get(PlaybookTask, int(text)) if text.isdigit() and len(text) < 19 else None
    if entry is None or entry.deleted_at is not None:
        raise NotFound(f"no playbook task {str(entry_id).strip()!r} (crmtui playbook list shows their ids)")
    return entry


def remove_entry(session: Session, entry_id: str | int) -> tuple[PlaybookTask, str]:
    """Take a task off its stage's playbook; the tasks it already added stay. Returns the entry
    and its stage's name."""
    entry = find_entry(session, entry_id)
    stage_name = session.execute("SELECT name FROM stage WHERE id = :id", {"id": entry.stage_id}).scalar()
    entry.deleted_at = clock.utcnow()
    session.add(entry)
    undo.record(session, f"remove playbook task {entry.body} from {stage_name}",
                [{"op": "restore", "table": "playbook_task", "id": entry.id}], scope=SCOPE)
    return entry, stage_name


def change_entry(session: Session, entry_id: str | int, text: str, due: str | int) -> PlaybookTask:
    """Change a playbook entry's task text and due time; the tasks it already added stay as they are."""
    entry = find_entry(session, entry_id)
    body = require_text(text, "task")
    days = clean_due(due)
    if (body, days) != (entry.body, entry.due_days):
        op = undo.update_op(session, "playbook_task", entry.id, ["body", "due_days"])
        entry.body, entry.due_days = body, days
        session.add(entry)
        undo.record(session, f"edit playbook task {body}", [op], scope=SCOPE)
    return entry


def on_enter(session: Session, deal: Any, stage: Any) -> list[int]:  # noqa: ANN401
    """Add the playbook tasks of `stage` to `deal`, which just entered it; the new tasks' ids."""
    return add_for_imported(session.conn, [(deal.id, stage.id)], clock.today())


_ADD_TASKS = """
INSERT INTO activity (kind, body, deal_id, company_id, contact_id, occurred_at, created_at, due_on, playbook_task_id)
SELECT 'task', p.body, d.id, d.company_id, d.contact_id, :now, :now, date(:today, '+' || p.due_days || ' days'), p.id
FROM (SELECT DISTINCT json_extract(value, '$[0]') AS deal_id, json_extract(value, '$[1]') AS stage_id
      FROM json_each(:pairs)) entered
JOIN deal d ON d.id = entered.deal_id AND d.stage_id = entered.stage_id
JOIN playbook_task p ON p.stage_id = entered.stage_id AND p.deleted_at IS NULL
WHERE NOT EXISTS (SELECT 1 FROM activity a WHERE a.deal_id = d.id AND a.playbook_task_id = p.id
                  AND a.kind = 'task' AND a.done_at IS NULL AND a.deleted_at IS NULL)
ORDER BY d.id, p.position, p.id
RETURNING id
"""


def add_for_imported(
    conn: sqlite3.Connection, deal_stage_pairs: Iterable[tuple[int, int]], today: dt.date,
    now: dt.datetime | str | None = None,
) -> list[int]:
    """Add the playbook tasks of each (deal id, stage id) pair, the stage the deal just entered,
    in the caller's transaction on a plain connection (the importer's), in one statement. A pair
    whose deal is no longer in that stage adds nothing; nor does an entry the deal still has an
    open task from. Tasks are due `today` plus the entry's days. Returns the new tasks' ids, in
    order (one statement: consecutive ids)."""
    if conn.execute("SELECT 1 FROM playbook_task WHERE deleted_at IS NULL LIMIT 1").fetchone() is None:
        return []  # (no playbook at all: the common case, and no pairs to read)
    pairs = json.dumps([[int(deal_id), int(stage_id)] for deal_id, stage_id in deal_stage_pairs])
    stamp = now if isinstance(now, str) else clock.to_db(now or clock.utcnow())
    rows = conn.execute(_ADD_TASKS, {"now": stamp, "today": today.isoformat(), "pairs": pairs}).fetchall()
    return sorted(row[0] for row in rows)
