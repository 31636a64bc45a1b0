"""The editable choice lists (`choice` table): where customers come from, why deals are lost,
customer sizes and categories. Forms, pickers and the CLI offer what these lists hold, in order.

A list holds what is offered, not what records may say: removing a value leaves the records
that use it alone; renaming one renames it in every record that uses it. Each change is one
undo entry in scope "settings".
"""

from __future__ import annotations

import json
from typing import Any

from crmtui.store import undo
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.sql import Session

# The lists as the user types them -> as stored in choice.list_name.
LISTS = {"source": "source", "lost-reason": "lost_reason", "customer-size": "customer_size", "category": "category"}
# The record columns that hold a list's values.
USED_BY = {
    "source": (("deal", "source"), ("company", "source")),
    "lost_reason": (("deal", "lost_reason"),),
    "customer_size": (("company", "size"),),
    "category": (("company", "category"),),
}
MAX_LENGTH = 100


def list_name(typed: str) -> str:
    """The stored name of a list typed as `lost-reason`, `lost_reason` or `Lost reason`."""
    key = "-".join(typed.strip().casefold().replace("_", " ").split())
    if key not in LISTS:
        raise ValidationError(f"unknown choice list {typed!r} (lists: {', '.join(LISTS)})", "list")
    return LISTS[key]


def shown_name(name: str) -> str:
    """A stored list name as the user types it: `lost_reason` -> `lost-reason`."""
    return name.replace("_", "-")


def values(session: Session, name: str) -> list[str]:
    """The values of a list (stored name, e.g. "lost_reason"), in order."""
    return [r[0] for r in session.execute(
        "SELECT value FROM choice WHERE list_name = :n ORDER BY position, id", {"n": name})]


def all_lists(session: Session) -> dict[str, list[str]]:
    """Every list (stored name -> values in order)."""
    return {name: values(session, name) for name in LISTS.values()}


def _clean(value: str) -> str:
    cleaned = " ".join(str(value).split())
    if not cleaned:
        raise ValidationError("value: must not be empty", "value")
    if len(cleaned) > MAX_LENGTH:
        raise ValidationError(f"value: longer than {MAX_LENGTH} characters", "value")
    return cleaned


def _rows(session: Session, name: str) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(
        "SELECT id, list_name, value, position FROM choice WHERE list_name = :n ORDER BY position, id",
        {"n": name},
    )]


def _find(rows: list[dict[str, Any]], name: str, value: str) -> dict[str, Any]:
    wanted = " ".join(str(value).split()).casefold()
    for row in rows:
        if row["value"].casefold() == wanted:
            return row
    offered = ", ".join(r["value"] for r in rows) or "none yet"
    raise NotFound(f"{shown_name(name)}: {value!r} is not in the list (values: {offered})")


def _refuse_duplicate(rows: list[dict[str, Any]], name: str, value: str, *, besides: int | None = None) -> None:
    for row in rows:
        if row["value"].casefold() == value.casefold() and row["id"] != besides:
            raise ValidationError(f"{shown_name(name)}: {row['value']!r} is already in the list", "value")


def add_choice(session: Session, typed_list: str, value: str) -> str:
    """Add a value at the end of a list; returns it as stored."""
    name = list_name(typed_list)
    cleaned = _clean(value)
    rows = _rows(session, name)
    _refuse_duplicate(rows, name, cleaned)
    position = max((r["position"] for r in rows), default=-1) + 1
    new_id = session.execute(
        "INSERT INTO choice (list_name, value, position) VALUES (:n, :v, :p)",
        {"n": name, "v": cleaned, "p": position},
    ).lastrowid
    undo.record(session, f"Add {cleaned!r} to {shown_name(name)}",
                [{"op": "delete_row", "table": "choice", "id": new_id}], scope="settings")
    return cleaned


def rename_choice(session: Session, typed_list: str, old: str, new: str) -> dict[str, int]:
    """Rename a value, and every record that says it (compared without case) with it, in one
    transaction. Returns how many records changed per table, e.g. {"deal": 12, "company": 3}."""
    name = list_name(typed_list)
    rows = _rows(session, name)
    row = _find(rows, name, old)
    cleaned = _clean(new)
    _refuse_duplicate(rows, name, cleaned, besides=row["id"])
    ops = [undo.update_op(session, "choice", row["id"], ["value"])]
    changed: dict[str, int] = {}
    for table, column in USED_BY[name]:
        # Undo puts back each record's own spelling: the ids, grouped by what they said.
        found = [{"op": "update_ids", "table": table, "ids": json.loads(ids), "values": {column: said}}
                 for said, ids in session.execute(
                     f"SELECT {column}, json_group_array(id) FROM {table}"
                          f" WHERE {column} = :old COLLATE NOCASE AND {column} IS NOT :new GROUP BY {column}",
                     {"old": row["value"], "new": cleaned})]
        session.execute(f"UPDATE {table} SET {column} = :new WHERE {column} = :old COLLATE NOCASE"
                     f" AND {column} IS NOT :new", {"old": row["value"], "new": cleaned})
        ops += found
        changed[table] = sum(len(op["ids"]) for op in found)
    if cleaned == row["value"] and not any(changed.values()):
        return changed  # nothing to do: no undo entry for it
    session.execute("UPDATE choice SET value = :v WHERE id = :id", {"v": cleaned, "id": row["id"]})
    undo.record(session, f"Rename {row['value']!r} to {cleaned!r} in {shown_name(name)}", ops, scope="settings")
    return changed


def remove_choice(session: Session, typed_list: str, value: str) -> dict[str, int]:
    """Take a value off a list: no longer offered; records that say it keep it. Returns how many
    records still say it per table."""
    name = list_name(typed_list)
    row = _find(_rows(session, name), name, value)
    session.execute("DELETE FROM choice WHERE id = :id", {"id": row["id"]})
    undo.record(session, f"Remove {row['value']!r} from {shown_name(name)}",
                [{"op": "insert", "table": "choice", "values": row}], scope="settings")
    return {
        table: session.execute(f"SELECT count(*) FROM {table} WHERE {column} = :v COLLATE NOCASE"
                            " AND deleted_at IS NULL", {"v": row["value"]}).scalar()
        for table, column in USED_BY[name]
    }


def move_choice(session: Session, typed_list: str, value: str, *, after: str | None = None,
                first: bool = False, last: bool = False) -> list[str]:
    """Move a value within its list: after another value, first or last (exactly one). Returns
    the list in its new order."""
    name = list_name(typed_list)
    if sum((after is not None, first, last)) != 1:
        raise ValidationError("say where to move it: --after VALUE, --first or --last (one of them)", "position")
    rows = _rows(session, name)
    moving = _find(rows, name, value)
    rest = [r for r in rows if r["id"] != moving["id"]]
    if first:
        at = 0
    elif last:
        at = len(rest)
    else:
        anchor = _find(rows, name, after)
        if anchor["id"] == moving["id"]:
            raise ValidationError(f"{shown_name(name)}: cannot move {moving['value']!r} after itself", "after")
        at = rest.index(anchor) + 1
    order = rest[:at] + [moving] + rest[at:]
    ops = undo.renumber(session, "choice", order)
    if ops:
        undo.record(session, f"Move {moving['value']!r} in {shown_name(name)}", ops, scope="settings")
    return [r["value"] for r in order]
