"""The task-due hook: each open task whose day has come is told about once, the first time
crmtui runs (a command, or the app) on or after its due date."""

from __future__ import annotations

from typing import Any

from crmtui.store.hooks import Hook, hook_for, queue
from crmtui.store.sql import Session


def send_due_tasks(database: Any) -> int:  # noqa: ANN401 - a store Database
    """Tell the task-due hook about each open task due today or earlier it has not been told about
    (once per task: `activity.due_hook_at`). Nothing at all without a runnable task-due hook; a
    database that cannot be written now (read-only, busy) is tried again next time. Returns how
    many tasks were told."""
    import sqlite3

    from crmtui.store.errors import CrmError

    hook = hook_for("task-due")
    if hook is None:
        return 0
    try:
        with database.session(write=False) as session:
            ids = _due_task_ids(session)
        if not ids:
            return 0
        with database.session() as session:
            return _tell_due_tasks(session, hook, _due_task_ids(session))
    except (CrmError, sqlite3.Error):
        return 0


def _due_task_ids(session: Session) -> list[int]:
    from crmtui.store import clock

    rows = session.execute(
        "SELECT a.id FROM activity a LEFT JOIN deal d ON d.id = a.deal_id"
        " WHERE a.kind = 'task' AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.due_hook_at IS NULL"
        " AND a.due_on <= :today AND (a.deal_id IS NULL OR d.deleted_at IS NULL) ORDER BY a.due_on, a.id",
        {"today": clock.today().isoformat()})
    return [row[0] for row in rows]


def _tell_due_tasks(session: Session, hook: Hook, ids: list[int]) -> int:
    from crmtui.store import clock
    from crmtui.store.activities import tasks
    from crmtui.store.deals import deal_detail

    wanted = set(ids)
    for task in (row for row in tasks(session) if row["id"] in wanted):
        deal = deal_detail(session, task["deal_id"]) if task["deal_id"] else None
        queue(session, hook, {"event": "task-due", "task": task, "deal": deal})
    session.executemany("UPDATE activity SET due_hook_at = ? WHERE id = ?", [(clock.utcnow(), i) for i in ids])
    return len(ids)
