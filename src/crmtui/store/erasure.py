"""Erasing records for good: emptying the trash of what has sat there longer than the
`trash-days` setting, and purging one deal, company or contact at once (for a person who asks to
be forgotten).

What goes with a record, and what stays:
- a deal takes its activities, stage changes, tag links, file links, custom values, line items and
  quotes (the quote files stay where they were written, as linked files do);
- a company or contact takes its tag links, custom values and the activities logged on it alone
  (not on a deal or a contact that stays); the deals, contacts and activities that refer to it
  stay, no longer linked to it. A purged contact takes every activity on its timeline, those
  logged on its deals too: they are notes about the person who asked to be forgotten;
- a quote keeps what it was made of, but a purged company or contact is blanked out of the
  customer block of the quotes of deals that stay (the files written stay where they are);
- the undo log forgets the erased records (an undo never brings one back nor points at one),
  and the import history drops the rows that name them (undoing an import passes them by).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmtui.store import backups, clock
from crmtui.store.db import Database, translate_errors
from crmtui.store.errors import NotFound
from crmtui.store.settings import settings_from_rows

RECORDS = ("deal", "company", "contact")
LETTERS = {"deal": "D", "company": "C", "contact": "P"}
# The trash by kind, as refs name them (D, C, P, A, F), and the table of each.
TABLES = {"deal": "deal", "company": "company", "contact": "contact", "activity": "activity", "field": "custom_field"}
DECLINED_KEY = "trash-kept-on"  # the day the user last said no to emptying the trash (not a setting they set)
_POINTERS = {"deal_id": "deal", "company_id": "company", "contact_id": "contact"}


_IN = "IN (SELECT value FROM json_each(?))"  # a list of ids, bound as JSON (see `_ids`)


def _ids(values: Any) -> str:  # noqa: ANN401 - any iterable of ids
    return json.dumps(sorted(values))


# --- the trash ---------------------------------------------------------------------------------


def _expired(conn: sqlite3.Connection, days: int) -> dict[str, list[int]]:
    """The ids of what has been in the trash for more than `days` days, by kind (0: everything)."""
    before = (clock.to_db(clock.utcnow() - dt.timedelta(days=days)),) if days else ()
    older = " AND deleted_at < ?" if days else ""
    return {kind: [r[0] for r in conn.execute(
        f"SELECT id FROM {table} WHERE deleted_at IS NOT NULL{older} ORDER BY id", before)]
        for kind, table in TABLES.items()}


_WORDS = {"deal": ("deal", "deals"), "company": ("company", "companies"), "contact": ("contact", "contacts"),
          "activity": ("activity", "activities"), "field": ("custom field", "custom fields")}


def counts_text(counts: dict[str, int]) -> str:
    """The trash's records by kind as a person reads them: `3 deals, 1 company and 2 activities`."""
    parts = [f"{counts[k]:,} {one if counts[k] == 1 else many}" for k, (one, many) in _WORDS.items() if counts.get(k)]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def expired_counts(db: Database, days: int) -> dict[str, int]:
    """How many deals, companies, contacts, activities and fields have been in the trash for
    more than `days` days (0: all of it), by kind."""
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            return {kind: len(ids) for kind, ids in _expired(conn, days).items()}
        finally:
            conn.close()


@dataclass(frozen=True)
class Emptied:
    counts: dict[str, int]  # the trash's records erased, by kind
    erased: dict[str, int]  # everything erased and unlinked with them (see `_erase`)
    backup: Path | None  # taken before, when there was anything to erase


def empty_trash(db: Database, days: int) -> Emptied:
    """Erase for good what has been in the trash for more than `days` days (0: everything), with
    what belongs to it, in one transaction, after a backup."""
    counts = expired_counts(db, days)
    if not any(counts.values()):
        return Emptied(counts, {}, None)
    backup = backups.backup_before(db, "before-trash-empty")
    with db.writing() as conn:
        doomed = _expired(conn, days)  # again, in the transaction: what goes is what is counted
        erased = _erase(conn, doomed, whole_timeline=False)
    return Emptied({kind: len(ids) for kind, ids in doomed.items()}, erased, backup)


def trash_offer(db: Database) -> tuple[dict[str, int], int] | None:
    """At start-up: what has been in the trash longer than `trash-days` (by kind) and the days,
    when the app should offer to empty it; None when there is nothing, the setting is 0 (keep),
    or the user said no today."""
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            stored = dict(conn.execute("SELECT key, value FROM setting"))
            days = settings_from_rows(stored.items())["trash-days"]
            if not days or stored.get(DECLINED_KEY) == clock.today().isoformat():
                return None
            counts = {kind: len(ids) for kind, ids in _expired(conn, days).items()}
        finally:
            conn.close()
    return (counts, days) if any(counts.values()) else None


def keep_for_today(db: Database) -> None:
    """The user said no to emptying the trash: ask again tomorrow."""
    with db.writing() as conn:
        conn.execute("INSERT INTO setting (key, value) VALUES (?, ?)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (DECLINED_KEY, clock.today().isoformat()))


# --- purge -------------------------------------------------------------------------------------


@dataclass
class Purge:
    """What purging one record erases (`erased`, as `_erase` counts it), said before and after."""

    kind: str
    id: int
    label: str  # contact P31 'Jo Smith' <jo@acme.com>
    erased: dict[str, int] = field(default_factory=dict)
    backups: int = 0  # backups beside the database, which keep their copy
    log_cleared: bool = True  # the write-ahead log was emptied after compacting


def purge_preview(db: Database, kind: str, record_id: int) -> Purge:
    """What `purge` would erase: the purge itself, rolled back."""
    with db.writing(commit=False) as conn:
        plan = Purge(kind, record_id, _purge_label(conn, kind, record_id))
        plan.erased = _erase(conn, {kind: [record_id]}, whole_timeline=True)
    plan.backups = len(backups.list_backups(db.path))
    return plan


def purge(db: Database, kind: str, record_id: int) -> Purge:
    """Erase a deal, company or contact for good, in the trash or not, with what belongs to it
    (see the module), then compact the file (VACUUM) and empty its write-ahead log, so that
    nothing of it is left in the database's file. Backups are not rewritten. Refused while
    another program has the database open: it could keep the old pages in the log."""
    backups.refuse_if_open(db.path, "purge")
    with db.writing() as conn:
        conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed even before the VACUUM
        plan = Purge(kind, record_id, _purge_label(conn, kind, record_id))
        plan.erased = _erase(conn, {kind: [record_id]}, whole_timeline=True)
        # The finder's index is contentless: it forgets a record's words by marking them deleted;
        # merging its segments into one drops them for good.
        conn.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            conn.execute("VACUUM")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.close()
    plan.log_cleared = not busy
    plan.backups = len(backups.list_backups(db.path))
    return plan


def _purge_label(conn: sqlite3.Connection, kind: str, record_id: int) -> str:
    """`contact P31 'Jo Smith' <jo@acme.com>`; NotFound when there is no such record."""
    columns = {"deal": "title, NULL", "company": "name, coalesce(domain, email)", "contact": "name, email"}[kind]
    row = conn.execute(f"SELECT {columns} FROM {kind} WHERE id = ?", (record_id,)).fetchone()
    if row is None:
        raise NotFound(f"no {kind} with id {record_id}")
    extra = "" if not row[1] else f" <{row[1]}>" if kind == "contact" else f" ({row[1]})"
    return f"{kind} {LETTERS[kind]}{record_id} {row[0]!r}{extra}"


# --- erasing -----------------------------------------------------------------------------------


def _erase(conn: sqlite3.Connection, doomed: dict[str, list[int]], *, whole_timeline: bool) -> dict[str, int]:
    """Delete the records in `doomed` (ids by kind: deal, company, contact, activity, field) with
    what belongs to them, and unlink what stays (see the module). `whole_timeline`: a contact
    takes every activity that names it. Returns counts: `deal`, `company`, `contact`,
    `activity` (`activity_on_deals` of them were logged on a deal that stays), `field`,
    `stage_change`, `deal_link`, `deal_line`, `quote`, `tag_link`, `custom_value` erased;
    `unlinked_deal`, `unlinked_contact`, `unlinked_activity` (records that stay, no longer
    linked); `history` (undo and import history entries dropped or trimmed)."""
    gone: dict[str, set[int]] = {t: set() for t in (*TABLES.values(), "stage_change", "deal_link", "deal_line",
                                                    "quote")}
    n: dict[str, int] = dict.fromkeys(("activity_on_deals", "stage_change", "deal_link", "deal_line", "quote",
                                       "tag_link", "custom_value", "unlinked_deal", "unlinked_contact",
                                       "unlinked_activity"), 0)
    field_kinds = dict(conn.execute("SELECT id, entity FROM custom_field"))

    def delete(table: str, where: str, *params: Any) -> int:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE {where}", params)]
        if table in gone:
            gone[table].update(ids)
        conn.execute(f"DELETE FROM {table} WHERE id {_IN}", (_ids(ids),))
        return len(ids)

    def unlink(table: str, column: str, ids: str) -> int:
        return conn.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} {_IN}", (ids,)).rowcount

    for kind in RECORDS:  # deals first: a contact or company erased with its deals finds them gone
        ids = _ids(doomed.get(kind, ()))
        if kind == "deal":
            delete("activity", f"deal_id {_IN}", ids)
            n["stage_change"] += delete("stage_change", f"deal_id {_IN}", ids)
            n["deal_link"] += delete("deal_link", f"deal_id {_IN}", ids)
            n["deal_line"] += delete("deal_line", f"deal_id {_IN}", ids)
            n["quote"] += delete("quote", f"deal_id {_IN}", ids)
        else:
            column = f"{kind}_id"
            alone = "" if whole_timeline and kind == "contact" else " AND deal_id IS NULL" + (
                " AND contact_id IS NULL" if kind == "company" else "")
            n["activity_on_deals"] += conn.execute(
                f"SELECT count(*) FROM activity WHERE {column} {_IN}{alone} AND deal_id IS NOT NULL", (ids,)
            ).fetchone()[0]
            delete("activity", f"{column} {_IN}{alone}", ids)
            n["unlinked_activity"] += unlink("activity", column, ids)
            n["unlinked_deal"] += unlink("deal", column, ids)
            if kind == "company":
                n["unlinked_contact"] += unlink("contact", column, ids)
        n["tag_link"] += conn.execute(f"DELETE FROM {kind}_tag WHERE {kind}_id {_IN}", (ids,)).rowcount
        n["custom_value"] += conn.execute(
            f"DELETE FROM custom_value WHERE entity_id {_IN} AND field_id IN"
            " (SELECT id FROM custom_field WHERE entity = ?)", (ids, kind)).rowcount
        delete(kind, f"id {_IN}", ids)
    delete("activity", f"id {_IN}", _ids(doomed.get("activity", ())))
    fields = _ids(doomed.get("field", ()))
    n["custom_value"] += conn.execute(f"DELETE FROM custom_value WHERE field_id {_IN}", (fields,)).rowcount
    delete("custom_field", f"id {_IN}", fields)
    n["quote_customer"] = _forget_in_quotes(conn, gone)
    n["history"] = _forget_in_undo(conn, gone, field_kinds) + _forget_in_imports(conn, gone)
    return {**{kind: len(gone[table]) for kind, table in TABLES.items()}, **n}


# What a quote's customer block holds of its company and of its contact (`quotes._customer`).
_QUOTE_CUSTOMER = {"company": ("company", "address", "email", "phone", "website", "vat", "company_fields"),
                   "contact": ("contact", "contact_email", "contact_phone", "contact_title", "contact_fields")}


def _forget_in_quotes(conn: sqlite3.Connection, gone: dict[str, set[int]]) -> int:
    """Blank the erased companies and contacts out of the customer blocks of the quotes that stay.
    Returns how many quotes changed."""
    changed = 0
    if not gone["company"] and not gone["contact"]:
        return 0
    for quote_id, snapshot in conn.execute("SELECT id, snapshot FROM quote").fetchall():
        data = json.loads(snapshot)
        customer = data.get("customer", {})
        erased = [kind for kind in _QUOTE_CUSTOMER if customer.get(f"{kind}_id") in gone[kind]]
        for kind in erased:
            customer[f"{kind}_id"] = None
            for key in _QUOTE_CUSTOMER[kind]:
                customer[key] = {} if key.endswith("_fields") else ""
        if erased:
            changed += 1
            conn.execute("UPDATE quote SET snapshot = ? WHERE id = ?", (json.dumps(data, ensure_ascii=False), quote_id))
    return changed


def _forget_in_undo(conn: sqlite3.Connection, gone: dict[str, set[int]], field_kinds: dict[int, str]) -> int:
    """Take the erased records out of the undo log: a record page's own entries go, and each
    operation on an erased row, or that would point a record that stays at one, is dropped (an
    entry left with none goes). Ids are used again by new records: an old undo must not reach
    them. Returns how many entries went or changed."""
    scopes = [f"{kind}:{i}" for kind in RECORDS for i in gone[kind]]
    changed = conn.execute(f"DELETE FROM undo_entry WHERE scope {_IN}", (json.dumps(scopes),)).rowcount
    for entry_id, payload in conn.execute("SELECT id, payload FROM undo_entry").fetchall():
        ops = json.loads(payload)
        kept = [op for op in (_op_without(op, gone, field_kinds) for op in ops) if op is not None]
        if kept == ops:
            continue
        changed += 1
        if kept:
            conn.execute("UPDATE undo_entry SET payload = ? WHERE id = ?", (json.dumps(kept), entry_id))
        else:
            conn.execute("DELETE FROM undo_entry WHERE id = ?", (entry_id,))
    return changed


def _op_without(op: dict[str, Any], gone: dict[str, set[int]], field_kinds: dict[int, str]) -> dict[str, Any] | None:
    """An undo operation without what touches erased rows; None when nothing of it is left."""
    if op["op"] == "setting":
        return op
    if op["op"] in ("set_tags", "set_custom"):
        if op["id"] in gone[op["entity"]]:
            return None
        if op["op"] == "set_custom":
            values = {k: v for k, v in op["values"].items() if int(k) not in gone["custom_field"]}
            return {**op, "values": values} if values else None
        return op
    table, values = op["table"], op.get("values") or {}
    if op.get("id", values.get("id")) in gone.get(table, ()):
        return None
    if op["op"] == "update_ids":
        ids = [i for i in op["ids"] if i not in gone.get(table, ())]
        if not ids:
            return None
        op = {**op, "ids": ids}
    if table == "custom_value":
        field_id = values.get("field_id")
        if field_id in gone["custom_field"] or values.get("entity_id") in gone.get(field_kinds.get(field_id, ""), ()):
            return None
    if values:
        kept = {c: v for c, v in values.items() if not (c in _POINTERS and v in gone[_POINTERS[c]])}
        if not kept:
            return None
        op = {**op, "values": kept}
    return op


def _forget_in_imports(conn: sqlite3.Connection, gone: dict[str, set[int]]) -> int:
    """Take the erased records out of the import history: the rows of what an import changed on
    them or linked to them go; a change that pointed a record that stays at one forgets that
    link; a range of records an import created stops short of erased ids at its ends (a new
    record may be given such an id, and undoing the import must not take it). Returns how many
    rows went or changed."""
    changed = 0
    for kind in RECORDS:
        ids = _ids(gone[kind])
        changed += conn.execute(
            f"DELETE FROM import_change WHERE first_id {_IN} AND"
            " ((entity = ? AND action = 'updated') OR (entity = ? AND action = 'linked'))",
            (ids, kind, f"{kind}_tag")).rowcount
    for row_id, entity, first, last in conn.execute(
            "SELECT id, entity, first_id, last_id FROM import_change WHERE action = 'created'").fetchall():
        erased = gone.get(entity, set())
        start, end = first, last
        while start <= end and start in erased:
            start += 1
        while end >= start and end in erased:
            end -= 1
        if (start, end) == (first, last):
            continue
        changed += 1
        if start > end:
            conn.execute("DELETE FROM import_change WHERE id = ?", (row_id,))
        else:
            conn.execute("UPDATE import_change SET first_id = ?, last_id = ? WHERE id = ?", (start, end, row_id))
    for row_id, old, new in conn.execute(
            "SELECT id, old_values, new_values FROM import_change WHERE action = 'updated'"
            " AND entity IN ('deal', 'contact')").fetchall():
        before, after = json.loads(old or "{}"), json.loads(new or "{}")
        links = {c for c in _POINTERS if before.get(c) in gone[_POINTERS[c]] or after.get(c) in gone[_POINTERS[c]]}
        if links:
            changed += 1
            conn.execute("UPDATE import_change SET old_values = ?, new_values = ? WHERE id = ?",
                         (json.dumps({k: v for k, v in before.items() if k not in links}),
                          json.dumps({k: v for k, v in after.items() if k not in links}), row_id))
    return changed
