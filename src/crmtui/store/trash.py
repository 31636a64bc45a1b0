"""The trash: deleted deals, companies, contacts, activities and custom fields, until restored.

Trash ids say what they are: a letter for the kind and the record's id —
`D12` deal 12, `C7` company 7, `P31` contact (person) 31, `A88` activity or task 88, `F3`
custom field 3 (its values wait with it). Lower case and the long forms `deal:12`, `company:7`,
`contact:31`, `activity:88`, `field:3` work too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crmtui.store import clock, undo
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.sql import Session

PREFIXES = {"D": "deal", "C": "company", "P": "contact", "A": "activity", "F": "field"}
LETTERS = {v: k for k, v in PREFIXES.items()}
_REF = re.compile(r"(?i)^\s*(?:(deal|company|contact|activity|field)\s*[:#]?\s*|([dcpaf])\s*)?#?(\d+)\s*$")


@dataclass(frozen=True)
class RecordRef:
    kind: str  # deal / company / contact / activity / field
    id: int

    def __str__(self) -> str:
        return f"{LETTERS[self.kind]}{self.id}"


def parse_ref(value: str, *, default: str | None = None, allowed: tuple[str, ...] = tuple(PREFIXES.values())) -> RecordRef:
    """`D12`, `c7`, `contact:31`, `#12` or `12` (the `default` kind) as a RecordRef."""
    m = _REF.match(str(value))
    kind = None
    if m:
        kind = (m[1] or "").lower() or PREFIXES.get((m[2] or "").upper()) or default
    if not m or kind is None or kind not in allowed:
        letters = ", ".join(f"{LETTERS[k]}12 ({k})" for k in allowed)
        raise ValidationError(f"id: {value!r} is not a record id (give {letters})", "id")
    return RecordRef(kind, int(m[3]))


def trash_list(session: Session, *, limit: int = 500) -> list[dict[str, Any]]:
    """What is in the trash, newest deletion first: ref, kind, id, label, deleted_at."""
    sql = """
        SELECT * FROM (
          SELECT 'deal' AS kind, id, title AS label, deleted_at FROM deal WHERE deleted_at IS NOT NULL
          UNION ALL SELECT 'company', id, name, deleted_at FROM company WHERE deleted_at IS NOT NULL
          UNION ALL SELECT 'contact', id, name, deleted_at FROM contact WHERE deleted_at IS NOT NULL
          UNION ALL SELECT 'activity', id, kind || ': ' || substr(body, 1, 80), deleted_at FROM activity
            WHERE deleted_at IS NOT NULL
          UNION ALL SELECT 'field', id, name || ' (' || entity || ' field)', deleted_at FROM custom_field
            WHERE deleted_at IS NOT NULL
        ) ORDER BY deleted_at DESC, kind, id DESC LIMIT :limit"""
    rows = session.execute(sql, {"limit": limit}).fetchall()
    out = []
    for r in rows:
        row = dict(r)
        row["ref"] = str(RecordRef(row["kind"], row["id"]))
        row["deleted_at"] = str(row["deleted_at"]).replace(" ", "T")[:19] + "Z"
        out.append(row)
    return out


def trash_count(session: Session) -> int:
    return session.execute(
        "SELECT (SELECT count(*) FROM deal WHERE deleted_at IS NOT NULL)"
            " + (SELECT count(*) FROM company WHERE deleted_at IS NOT NULL)"
            " + (SELECT count(*) FROM contact WHERE deleted_at IS NOT NULL)"
            " + (SELECT count(*) FROM activity WHERE deleted_at IS NOT NULL)"
            " + (SELECT count(*) FROM custom_field WHERE deleted_at IS NOT NULL)"
    ).scalar()


def _label(session: Session, ref: RecordRef) -> tuple[str, Any]:
    column = {"deal": "title", "company": "name", "contact": "name", "activity": "kind || ': ' || body"}[ref.kind]
    row = session.execute(
        f"SELECT {column}, deleted_at FROM {ref.kind} WHERE id = :id", {"id": ref.id}
    ).fetchone()
    if row is None:
        raise NotFound(f"no {ref.kind} with id {ref.id}")
    return row[0], row[1]


def restore(session: Session, value: str | RecordRef) -> tuple[RecordRef, str]:
    """Bring a record back from the trash. Returns its ref and label."""
    ref = value if isinstance(value, RecordRef) else parse_ref(value)
    if ref.kind == "field":
        from crmtui.store.field_setup import restore_field

        return ref, restore_field(session, ref.id)["name"]
    label, deleted_at = _label(session, ref)
    if deleted_at is None:
        raise ValidationError(f"{ref} ({ref.kind} {label!r}) is not in the trash", "id")
    op = undo.update_op(session, ref.kind, ref.id, ["deleted_at"])
    session.execute(f"UPDATE {ref.kind} SET deleted_at = NULL WHERE id = :id", {"id": ref.id})
    if ref.kind != "activity":
        session.execute(
            f"UPDATE {ref.kind} SET updated_at = :now WHERE id = :id",
            {"now": clock.to_db(clock.utcnow()), "id": ref.id},
        )
    undo.record(session, f"restore {ref.kind}", [op], scope="trash")
    return ref, label


def move_to_trash(session: Session, value: str | RecordRef) -> tuple[RecordRef, str]:
    """Delete (soft) any record by ref."""
    from crmtui.store.activities import delete_activity
    from crmtui.store.editing import trash_record

    ref = value if isinstance(value, RecordRef) else parse_ref(value)
    if ref.kind == "field":
        from crmtui.store.field_setup import delete_field_by_id

        return ref, delete_field_by_id(session, ref.id)["name"]
    label, deleted_at = _label(session, ref)
    if deleted_at is not None:
        raise ValidationError(f"{ref} is already in the trash", "id")
    if ref.kind == "activity":
        delete_activity(session, ref.id, scope="trash")
    else:
        trash_record(session, ref.kind, ref.id)
    return ref, label
