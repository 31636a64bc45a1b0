"""A persisted undo log: each entry holds the operations that reverse one user change.

A change is recorded in the same transaction as the change itself. Undo applies the reversing
operations in reverse order, in one transaction, and marks the entry undone. Values are kept as
SQLite stores them (read with raw SQL), so restoring them is exact.

Operations (JSON):
- {"op": "update", "table": T, "id": N, "values": {column: old value, ...}}  restore columns
- {"op": "update_ids", "table": T, "ids": [N, ...], "values": {column: old value, ...}}  the same for many
  rows that held the same values (a renamed choice: one statement, not one per deal)
- {"op": "delete_row", "table": T, "id": N}   remove a row the change inserted (a stage change)
- {"op": "trash", "table": T, "id": N}        soft-delete a record the change created
- {"op": "restore", "table": T, "id": N}      bring back a record the change trashed
- {"op": "set_tags", "entity": E, "id": N, "tags": [...], "made": [tag id, ...]}  restore a record's tags,
  and drop the tags the change made (`made`, optional) that no record carries any more
- {"op": "set_custom", "entity": E, "id": N, "values": {field_id: value or null}}  custom fields
- {"op": "insert", "table": T, "values": {column: value, ...}}  put back a row the change deleted
  (with its id), e.g. a choice-list value
- {"op": "setting", "key": K, "value": V or null}  put a setting back as it was stored (null: unset)
"""

from __future__ import annotations

import json
from sqlite3 import IntegrityError
from typing import Any

from crmtui.store import clock
from crmtui.store.errors import CrmError
from crmtui.store.models import UndoEntry
from crmtui.store.sql import Session

# Tables (and their columns) an undo may touch: never formatted from user input.
_TABLES = {
    "deal": {"title", "company_id", "contact_id", "pipeline_id", "stage_id", "stage_entered_at", "amount_cents",
             "cost_cents", "currency", "confidence", "expected_close", "closed_on", "source", "lost_reason",
             "proposal_url", "notes", "external_id", "updated_at", "deleted_at", "snoozed_until", "discount_bp",
             "discount_cents"},
    "company": {"name", "website", "domain", "email", "phone", "address", "source", "category", "size", "notes",
                "external_id", "updated_at", "deleted_at"},
    "contact": {"name", "email", "phone", "title", "company_id", "notes", "external_id", "updated_at", "deleted_at"},
    "activity": {"kind", "body", "deal_id", "company_id", "contact_id", "occurred_at", "due_on", "done_at",
                 "deleted_at"},
    "stage_change": set(),
    "deal_link": set(),
    # Setting crmtui up: pipelines, stages, custom fields, choice lists.
    "pipeline": {"id", "name", "position", "is_default", "created_at", "deleted_at"},
    "stage": {"id", "pipeline_id", "name", "position", "probability", "expected_days", "kind", "color", "deleted_at"},
    "custom_field": {"id", "entity", "name", "kind", "options", "position", "required", "lookup", "deleted_at"},
    "custom_value": {"field_id", "entity_id", "value"},
    "choice": {"id", "list_name", "value", "position"},
    "playbook_task": {"body", "due_days", "deleted_at"},
    # Sales: the catalogue, line items, quotes.
    "product": {"name", "code", "unit", "price_cents", "currency", "tax_bp", "cost_cents", "description",
                "archived_at", "updated_at", "deleted_at"},
    "deal_line": {"product_id", "description", "quantity", "unit", "unit_price_cents", "discount_bp", "tax_bp",
                  "unit_cost_cents", "position", "net_cents", "updated_at", "deleted_at"},
    "quote": {"status", "updated_at", "deleted_at"},
}
MAX_DEPTH = 200  # entries kept per scope; older ones are pruned


class UndoError(Exception):
    pass


class UndoConflict(CrmError):
    """An undo would put back a record whose name another one has taken since."""


def _check(table: str, columns: list[str] | set[str] = ()) -> None:
    if table not in _TABLES:
        raise UndoError(f"undo cannot touch table {table!r}")
    unknown = set(columns) - _TABLES[table]
    if unknown:
        raise UndoError(f"undo cannot touch {table}.{', '.join(sorted(unknown))}")


def row_values(session: Session, table: str, row_id: int, columns: list[str]) -> dict[str, Any]:
    """The current stored values of some columns of a row (to put in an "update" op)."""
    _check(table, columns)
    cols = ", ".join(columns)
    row = session.execute(f"SELECT {cols} FROM {table} WHERE id = :id", {"id": row_id}).fetchone()
    return dict(zip(columns, row, strict=True))


def update_op(session: Session, table: str, row_id: int, columns: list[str]) -> dict[str, Any]:
    """An op that restores `columns` of a row to what they are now: call it before changing them."""
    return {"op": "update", "table": table, "id": row_id, "values": row_values(session, table, row_id, columns)}


def record(session: Session, label: str, ops: list[dict[str, Any]], *, scope: str = "board") -> UndoEntry:
    """Add an undo entry (in the caller's transaction)."""
    entry = UndoEntry(scope=scope, label=label, payload=json.dumps(ops), created_at=clock.utcnow())
    session.add(entry)
    session.execute(
        "DELETE FROM undo_entry WHERE scope = :scope AND id <= ("
            " SELECT id FROM undo_entry WHERE scope = :scope ORDER BY id DESC LIMIT 1 OFFSET :keep)",
        {"scope": scope, "keep": MAX_DEPTH},
    )
    return entry


def pending(session: Session, *, scope: str | None = "board", limit: int = 50) -> list[UndoEntry]:
    """Entries that can still be undone, newest first."""
    where = "undone_at IS NULL" + ("" if scope is None else " AND scope = :scope")
    return session.find(UndoEntry, where, {"scope": scope}, order=f"id DESC LIMIT {int(limit)}")


def undo_last(session: Session, *, scope: str | None = "board") -> UndoEntry | None:
    """Reverse the newest change not yet undone; None when there is nothing to undo."""
    entries = pending(session, scope=scope, limit=1)
    if not entries:
        return None
    entry = entries[0]
    for op in reversed(json.loads(entry.payload)):
        try:
            _apply(session, op)
        except IntegrityError:  # (the whole undo rolls back with the session)
            raise UndoConflict(_conflict(session, op, entry.label)) from None
    entry.undone_at = clock.utcnow()
    session.add(entry)
    return entry


def _apply(session: Session, op: dict[str, Any]) -> None:
    """Carry out one undo operation."""
    kind = op["op"]
    if kind == "set_tags":
        from crmtui.store.tags import drop_unused_tags, set_tags

        set_tags(session, op["entity"], op["id"], op["tags"])
        drop_unused_tags(session, op.get("made", []))
        return
    if kind == "set_custom":
        from crmtui.store.custom_fields import restore_custom_values

        restore_custom_values(session, op["entity"], op["id"], op["values"])
        return
    if kind == "setting":
        _put_setting(session, op["key"], op["value"])
        return
    table = op["table"]
    if kind == "insert":
        _check(table, op["values"])
        columns = ", ".join(op["values"])
        params = {f"v_{c}": v for c, v in op["values"].items()}
        session.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + k for k in params)})", params)
    elif kind in ("update", "update_ids"):
        _check(table, op["values"])
        assignments = ", ".join(f"{c} = :v_{c}" for c in op["values"])
        params = {f"v_{c}": v for c, v in op["values"].items()}
        if kind == "update":
            session.execute(f"UPDATE {table} SET {assignments} WHERE id = :id", {**params, "id": op["id"]})
        else:
            session.execute(f"UPDATE {table} SET {assignments} WHERE id IN (SELECT value FROM json_each(:ids))",
                         {**params, "ids": json.dumps(op["ids"])})
    elif kind == "delete_row":
        _check(table)
        session.execute(f"DELETE FROM {table} WHERE id = :id", {"id": op["id"]})
    elif kind == "trash":
        _check(table, ["deleted_at"])
        session.execute(
            f"UPDATE {table} SET deleted_at = :now WHERE id = :id",
            {"now": clock.to_db(clock.utcnow()), "id": op["id"]},
        )
    elif kind == "restore":
        _check(table, ["deleted_at"])
        session.execute(f"UPDATE {table} SET deleted_at = NULL WHERE id = :id", {"id": op["id"]})
    else:
        raise UndoError(f"unknown undo operation {kind!r}")


def _conflict(session: Session, op: dict[str, Any], label: str) -> str:
    """Why an undo cannot put back what it would: something made since took its name."""
    table = op.get("table", "")
    name = None
    if table in ("stage", "pipeline", "custom_field", "tag") and "id" in op:
        name = session.execute(f"SELECT name FROM {table} WHERE id = :id", {"id": op["id"]}).scalar()
    what = {"custom_field": "field"}.get(table, table or "record")
    named = f" called {name!r}" if name else " with the same name"
    return f"cannot undo “{label}”: a {what}{named} was made since; rename or delete that one first"


def renumber(session: Session, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give `rows` (each with its `id` and `position`, in their new order) the positions 0, 1, ...
    Returns the ops that put back the positions of those that moved (a reorder's undo entry)."""
    _check(table, ["position"])
    ops = []
    for position, row in enumerate(rows):
        if row["position"] != position:
            ops.append(update_op(session, table, row["id"], ["position"]))
            session.execute(f"UPDATE {table} SET position = :p WHERE id = :id",
                            {"p": position, "id": row["id"]})
    return ops


def setting_op(session: Session, key: str) -> dict[str, Any]:
    """An op that puts setting `key` back to what is stored now: call it before changing it."""
    value = session.execute("SELECT value FROM setting WHERE key = :k", {"k": key}).scalar()
    return {"op": "setting", "key": key, "value": value}


def _put_setting(session: Session, key: str, value: str | None) -> None:
    if value is None:
        session.execute("DELETE FROM setting WHERE key = :k", {"k": key})
    else:
        session.execute("INSERT INTO setting (key, value) VALUES (:k, :v)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value", {"k": key, "v": value})


def latest_id(session: Session) -> int | None:
    """The id of the newest undo entry (to remember what a screen's action recorded)."""
    return session.execute("SELECT max(id) FROM undo_entry").scalar()


def undo_entry(session: Session, entry_id: int) -> UndoEntry | None:
    """Reverse one specific entry (if not undone yet): a screen undoing its own last action."""
    entry = session.get(UndoEntry, entry_id)
    if entry is None or entry.undone_at is not None:
        return None
    newer = session.execute(
        "SELECT count(*) FROM undo_entry WHERE scope = :scope AND id > :id AND undone_at IS NULL",
        {"scope": entry.scope, "id": entry_id},
    ).scalar()
    if newer:
        raise UndoError(f"a later change ({entry.scope}) must be undone first")
    return undo_last(session, scope=entry.scope)
