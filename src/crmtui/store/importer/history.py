"""The record of past imports, and undoing one (`crmtui imports list`, `crmtui imports undo ID`).

Undo removes what the import created (records with their custom values, stage changes, stages,
the pipeline it made, tags it added) and puts back the columns and custom values it changed, in
one transaction. It never takes work done since: a record the import created stays when it was
worked on since (saved, moved, given an activity or a link, tagged by a later import) or when a
record that stays refers to it (a deal added since to an imported company, an imported deal's
company; a deal in a stage it made); a column or custom value edited again since keeps the newer
value; a custom field it made (`--create-fields`) stays while values are left in it or something
shows it. All are listed, so the user knows what is left.

"Since" is read from the database: the import stamped every record it wrote with its own time
(`updated_at`), and activities, links, stage changes and tags are rows of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crmtui.store import backups, clock
from crmtui.store.db import Database, translate_errors
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.importer.apply import BULK_MIN_ROWS, drop_indexes, ensure_import_tables
from crmtui.store.importer.plan import CUSTOM_PREFIX
from crmtui.store.importer.products import remove_imported_products

_TABLES = {"deal", "company", "contact", "product"}
_LINKS = {"deal_tag": "deal_id", "company_tag": "company_id", "contact_tag": "contact_id"}
_NAMES = {"deal": "title", "company": "name", "contact": "name", "stage": "name", "pipeline": "name",
          "product": "name"}
_ORDER = ("deal", "contact", "company", "stage", "pipeline", "product")  # how the records an undo keeps are listed
# What a record that stays needs: (the record, its column, the kind it points at). Deals first,
# so that a contact kept for its deal keeps its company too.
_NEEDS = (("deal", "contact_id", "contact"), ("deal", "company_id", "company"), ("contact", "company_id", "company"))
# A deal's pipeline, stage and close go back together or not at all: a deal moved since stays
# where it was moved, and is not put back into an open stage with the lost reason given since.
_WHERE_A_DEAL_STANDS = {"pipeline_id", "stage_id", "stage_entered_at", "closed_on", "lost_reason"}
_FIELD_WORDS = {"amount_cents": "amount", "cost_cents": "cost", "company_id": "company", "contact_id": "contact",
                "pipeline_id": "pipeline", "stage_id": "stage", "stage_entered_at": "stage",
                "price_cents": "price", "tax_bp": "tax", "archived_at": "active"}


def list_imports(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """Past imports, newest first, with their counts."""
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            ensure_import_tables(conn)
            rows = conn.execute(
                "SELECT id, source, record_type, encoding, delimiter, rows_read, summary, created_at, undone_at"
                " FROM import_run ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        finally:
            conn.close()
    out = []
    for rid, source, kind, enc, delim, rows_read, summary, created, undone in rows:
        data = json.loads(summary or "{}")
        out.append({
            "id": rid, "source": source, "type": kind, "encoding": enc, "delimiter": delim, "rows": rows_read,
            "counts": data.get("counts", {}), "new_stages": data.get("new_stages", []),
            "imported_at": _iso(created), "undone_at": _iso(undone) if undone else None,
        })
    return out


def _iso(value: str) -> str:
    return str(value).replace(" ", "T")[:19] + "Z"


@contextmanager
def _writing(db: Database, *, commit: bool) -> Iterator[Any]:
    """A write transaction on `db` (with the import tables), committed, or rolled back when not `commit`."""
    with db.writing(commit=commit) as conn:
        ensure_import_tables(conn)
        yield conn


def undo_import(db: Database, import_id: int) -> dict[str, Any]:
    """Take back import `import_id`. Returns how many records of each kind it removed (`deals`,
    `companies`, `contacts`, `stages`, `pipelines`) and put back (`restored`); `kept`, the
    records the import created that stay (kind, id, name, why: worked on since, or needed by one
    that stays); and `kept_edits`, the records it changed that keep fields edited since (kind,
    id, name, fields)."""
    backups.backup_before(db, "before-import-undo")
    with _writing(db, commit=True) as conn:
        return _undo(conn, import_id)


def undo_preview(db: Database, import_id: int) -> dict[str, Any]:
    """What undoing import `import_id` would do, to show before asking: the undo itself, rolled
    back, so it says exactly what the undo does (and refuses as it would). The file and when,
    the records it created that are still there (`deals`, `companies`, `contacts`, `stages`,
    `pipelines`), how many records it changed (`changed`), and `kept` and `kept_edits` as
    `undo_import` has them."""
    with _writing(db, commit=False) as conn:
        run, changes, created = _load_run(conn, import_id)
        out: dict[str, Any] = {"source": run[1], "imported_at": _iso(run[2])}
        for entity, key in (("deal", "deals"), ("company", "companies"), ("contact", "contacts"), ("stage", "stages"),
                            ("pipeline", "pipelines"), ("product", "products")):
            out[key] = sum(conn.execute(f"SELECT count(*) FROM {entity} WHERE id BETWEEN ? AND ?", r).fetchone()[0]
                           for r in created.get(entity, []))
        out["fields"] = sum(conn.execute("SELECT count(*) FROM custom_field WHERE id BETWEEN ? AND ?", r).fetchone()[0]
                            for r in created.get("custom_field", []))
        out["changed"] = len({(e, rid) for e, action, rid, _l, _o, _n in changes
                              if action == "updated" and e in _TABLES})
        done = _undo(conn, import_id)
        out.update(kept=done["kept"], kept_edits=done["kept_edits"])
    return out


def _load_run(conn: Any, import_id: int) -> tuple[tuple, list[tuple], dict[str, list[tuple[int, int]]]]:
    """The import's run (id, source, created_at), its recorded changes and the id ranges it
    created per table; refuses an import that is unknown or undone."""
    run = conn.execute("SELECT id, source, created_at, undone_at FROM import_run WHERE id = ?",
                       (import_id,)).fetchone()
    if run is None:
        raise NotFound(f"no import with id {import_id} (see crmtui imports list)")
    if run[3] is not None:
        raise ValidationError(f"import #{import_id} was already undone on {str(run[3])[:16]}", "import")
    changes = conn.execute(
        "SELECT entity, action, first_id, last_id, old_values, new_values FROM import_change"
        " WHERE import_id = ? ORDER BY id", (import_id,)).fetchall()
    created: dict[str, list[tuple[int, int]]] = {}
    for entity, action, first, last, _old, _new in changes:
        if action == "created":
            created.setdefault(entity, []).append((first, last))
    return run[:3], changes, created


def _undo(conn: Any, import_id: int) -> dict[str, Any]:
    run, changes, created = _load_run(conn, import_id)
    kept = _staying(conn, import_id, run[2], created, _links_put_back(changes))
    result: dict[str, Any] = {"deals": 0, "companies": 0, "contacts": 0, "restored": 0, "stages": 0, "pipelines": 0,
                              "kept_edits": []}
    moved_since: set[int] = set()  # deals it moved that were moved again since: its move stays in their history
    for entity, action, first, last, old, new in reversed(changes):
        if action == "linked" and entity in _LINKS:
            conn.execute(f"DELETE FROM {entity} WHERE {_LINKS[entity]} = ? AND tag_id = ?", (first, last))
        elif action == "updated" and entity in _TABLES:
            restored, later = _restore(conn, entity, first, json.loads(old), json.loads(new))
            result["restored"] += restored
            if later:
                name = conn.execute(f"SELECT {_NAMES[entity]} FROM {entity} WHERE id = ?", (first,)).fetchone()[0]
                fields = list(dict.fromkeys(_field_word(conn, c) for c in later))
                result["kept_edits"].append({"kind": entity, "id": first, "name": name, "fields": fields})
                if entity == "deal" and "stage_id" in later:
                    moved_since.add(first)
    for first, last in created.get("activity", []):  # the follow-up tasks it added, but those done since
        conn.execute("DELETE FROM activity WHERE id BETWEEN ? AND ? AND done_at IS NULL", (first, last))
    history_stays = json.dumps(sorted(kept["deal"].keys() | moved_since))
    for first, last in created.get("stage_change", []):
        conn.execute("DELETE FROM stage_change WHERE id BETWEEN ? AND ?"
                     " AND deal_id NOT IN (SELECT value FROM json_each(?))", (first, last, history_stays))
    result["deals"] = _delete_ranges(conn, "deal", created.get("deal", []), kept["deal"])
    result["contacts"] = _delete_ranges(conn, "contact", created.get("contact", []), kept["contact"])
    result["companies"] = _delete_ranges(conn, "company", created.get("company", []), kept["company"])
    kept["stage"] = {}
    for first, last in created.get("stage", []):
        result["stages"] += conn.execute(
            "DELETE FROM stage WHERE id BETWEEN ? AND ? AND NOT EXISTS"
            " (SELECT 1 FROM deal WHERE deal.stage_id = stage.id) AND NOT EXISTS"
            " (SELECT 1 FROM stage_change sc WHERE sc.to_stage_id = stage.id OR sc.from_stage_id = stage.id)",
            (first, last)).rowcount
        kept["stage"].update((rid, ["in use"]) for (rid,) in conn.execute(
            "SELECT id FROM stage WHERE id BETWEEN ? AND ?", (first, last)))
    for entity, action, _first, _last, old, new in changes:
        if (entity, action) == ("pipeline", "updated"):  # back to the default it took over from, if both are there
            old_default, new_default = json.loads(old)["default"], json.loads(new)["default"]
            conn.execute("UPDATE pipeline SET is_default = (id = ?) WHERE EXISTS (SELECT 1 FROM pipeline"
                         " WHERE id = ? AND is_default = 1) AND EXISTS (SELECT 1 FROM pipeline WHERE id = ?"
                         " AND deleted_at IS NULL)", (old_default, new_default, old_default))
    result["pipelines"], kept["pipeline"] = _remove_pipelines(conn, created.get("pipeline", []))
    for first, last in created.get("tag", []):
        conn.execute(
            "DELETE FROM tag WHERE id BETWEEN ? AND ?"
            " AND NOT EXISTS (SELECT 1 FROM deal_tag WHERE tag_id = tag.id)"
            " AND NOT EXISTS (SELECT 1 FROM company_tag WHERE tag_id = tag.id)"
            " AND NOT EXISTS (SELECT 1 FROM contact_tag WHERE tag_id = tag.id)", (first, last))
    result["products"], kept["product"] = remove_imported_products(conn, created.get("product", []), run[2])
    result["kept"] = _listed(conn, kept)
    result["fields"], kept_fields = _remove_fields(conn, created.get("custom_field", []))
    result["kept"] += kept_fields
    result["kept_edits"].sort(key=lambda r: (_ORDER.index(r["kind"]), r["id"]))
    conn.execute("UPDATE import_run SET undone_at = ? WHERE id = ?", (clock.to_db(clock.utcnow()), import_id))
    return result


def _remove_fields(conn: Any, ranges: list[tuple[int, int]]) -> tuple[int, list[dict[str, Any]]]:
    """Delete the custom fields an import made (`--create-fields`), once the undo took its values
    away, but those still in use: with values it leaves (on records it keeps, or given since),
    shown by a lookup field, or put on the board's cards since. Returns how many went, and the
    others as `kept` lists records (kind "field")."""
    from crmtui.store.settings import settings_from_rows

    removed, kept = 0, []
    on_cards = {name.casefold() for name in settings_from_rows(conn.execute("SELECT key, value FROM setting"))[
        "card-fields"]}
    for first, last in ranges:
        for fid, entity, name, deleted in conn.execute(
                "SELECT id, entity, name, deleted_at FROM custom_field WHERE id BETWEEN ? AND ?", (first, last)).fetchall():
            values = conn.execute("SELECT count(*) FROM custom_value WHERE field_id = ?", (fid,)).fetchone()[0]
            lookups = conn.execute("SELECT count(*) FROM custom_field WHERE lookup = ? AND deleted_at IS NULL",
                                   (f"{entity}.{CUSTOM_PREFIX}{fid}",)).fetchone()[0]
            why = [f"{values:,} value{'' if values == 1 else 's'} stay{'s' if values == 1 else ''}"] if values else []
            why += [f"{lookups} lookup field{'' if lookups == 1 else 's'} show{'s' if lookups == 1 else ''} it"
                    ] if lookups else []
            why += ["on the board's cards"] if entity == "deal" and name.casefold() in on_cards else []
            if why:
                kept.append({"kind": "field", "id": fid, "name": name, "why": why + (["in the trash"] if deleted else [])})
            else:
                removed += conn.execute("DELETE FROM custom_field WHERE id = ?", (fid,)).rowcount
    return removed, kept


def _remove_pipelines(conn: Any, ranges: list[tuple[int, int]]) -> tuple[int, dict[int, list[str]]]:
    """Delete the pipelines an import made (`--new-pipeline`) once their stages are gone, but the
    one made the default since. (A stage stays while a deal the undo keeps, or one added or moved
    there since, is or was in it.) Returns how many went, and why each other one stays."""
    removed, kept = 0, {}
    for first, last in ranges:
        for pid, is_default, stages in conn.execute(
                "SELECT id, is_default, (SELECT count(*) FROM stage s WHERE s.pipeline_id = p.id) FROM pipeline p"
                " WHERE id BETWEEN ? AND ?", (first, last)).fetchall():
            why = [f"{stages} of its stages stay{'s' if stages == 1 else ''}"] if stages else []
            why += ["the default pipeline"] if is_default else []
            if why:
                kept[pid] = why
            else:
                removed += conn.execute("DELETE FROM pipeline WHERE id = ?", (pid,)).rowcount
    return removed, kept


def _staying(conn: Any, import_id: int, since: str, created: dict[str, list[tuple[int, int]]],
             put_back: dict[tuple[str, str, int], Any]) -> dict[str, dict[int, list[str]]]:
    """The deals, contacts and companies the import created that stay, each with why: worked on
    since, referred to by a record it did not create, or needed by one that stays."""
    why: dict[str, dict[int, list[str]]] = {"deal": {}, "contact": {}, "company": {}}

    def add(kind: str, found: Iterator[tuple[int, Any]], say: Any) -> None:
        for rid, n in found:
            why[kind].setdefault(rid, []).append(say(n))

    # Activities since: all but the follow-up tasks it added, unless done since.
    own = created.get("activity", [])
    own_sql = (" AND (done_at IS NOT NULL OR NOT (" + " OR ".join(["id BETWEEN ? AND ?"] * len(own)) + "))"
               if own else "")
    own_params = [i for r in own for i in r]
    for kind in why:
        for first, last in created.get(kind, []):
            add(kind, conn.execute(f"SELECT id, 1 FROM {kind} WHERE id BETWEEN ? AND ? AND updated_at IS NOT ?",
                                   (first, last, since)), lambda _n: "edited since")
            add(kind, conn.execute(f"SELECT {kind}_id, count(*) FROM activity WHERE {kind}_id BETWEEN ? AND ?"
                                   f"{own_sql} GROUP BY 1", (first, last, *own_params)),
                lambda n: f"{n} activit{'y' if n == 1 else 'ies'} since")
            if kind == "deal":
                add(kind, conn.execute("SELECT deal_id, count(*) FROM deal_link WHERE deal_id BETWEEN ? AND ?"
                                       " GROUP BY 1", (first, last)),
                    lambda n: f"{n} link{'' if n == 1 else 's'} since")
            add(kind, conn.execute(
                "SELECT ch.first_id, min(ch.import_id) FROM import_change ch JOIN import_run r ON r.id = ch.import_id"
                " WHERE ch.import_id > ? AND ch.entity = ? AND ch.action = 'linked' AND ch.first_id BETWEEN ? AND ?"
                " AND r.undone_at IS NULL GROUP BY 1", (import_id, f"{kind}_tag", first, last)),
                lambda n: f"tagged by import #{n}")
    for table, column, kind in _NEEDS:  # records it did not create that refer to its records
        referrers: dict[int, list[int]] = {}
        for rid, ref in _referring(conn, table, column, created.get(kind, []), created.get(table, [])):
            if put_back.get((table, column, rid), object()) != ref:  # (unless the undo points it back)
                referrers.setdefault(ref, []).append(rid)
        for ref, rids in referrers.items():
            why[kind].setdefault(ref, []).append(
                f"{table} #{rids[0]} refers to it" if len(rids) == 1 else f"{len(rids):,} {table}s refer to it")
    for table, column, kind in _NEEDS:  # what the records that stay need
        ids = json.dumps(sorted(why[table]))
        for rid, ref in conn.execute(f"SELECT id, {column} FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
                                     f" AND {column} IS NOT NULL", (ids,)):
            if ref not in why[kind] and any(first <= ref <= last for first, last in created.get(kind, [])):
                why[kind][ref] = [f"its {table} #{rid} stays"]
    return why


def _referring(conn: Any, table: str, column: str, ranges: list[tuple[int, int]],
               outside: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """(id, value) of the records of `table` whose `column` points into `ranges`, but those
    with ids in `outside`."""
    for first, last in ranges:
        query = f"SELECT id, {column} FROM {table} WHERE {column} BETWEEN ? AND ?"
        params: list[int] = [first, last]
        for o_first, o_last in outside:
            query += " AND NOT (id BETWEEN ? AND ?)"
            params += [o_first, o_last]
        yield from conn.execute(query, params)


def _listed(conn: Any, why: dict[str, dict[int, list[str]]]) -> list[dict[str, Any]]:
    """The records in `why` by kind and id, with their names, and whether they are in the trash."""
    out = []
    for kind in _ORDER:
        for rid, name, deleted in conn.execute(
                f"SELECT id, {_NAMES[kind]}, deleted_at FROM {kind} WHERE id IN (SELECT value FROM json_each(?))"
                " ORDER BY id", (json.dumps(sorted(why[kind])),)):
            out.append({"kind": kind, "id": rid, "name": name,
                        "why": why[kind][rid] + (["in the trash"] if deleted else [])})
    return out


def _without(first: int, last: int, kept: dict[int, Any]) -> Iterator[tuple[int, int]]:
    """The ids `first`..`last` as ranges that leave out those in `kept`."""
    start = first
    for rid in sorted(i for i in kept if first <= i <= last):
        if rid > start:
            yield start, rid - 1
        start = rid + 1
    if start <= last:
        yield start, last


def _delete_ranges(conn: Any, table: str, ranges: list[tuple[int, int]], kept: dict[int, Any]) -> int:
    """Delete the rows of `table` with ids in `ranges` but those in `kept`; returns how many.
    When that is most of a big table, its plain indexes go first and are built again after, from
    what is left, as an import builds them: undoing an import of 100,000 deals spent 5.4 s updating
    the deal indexes (15 then) row by row. (Built again at once: deleting companies and contacts
    next looks up the deals that refer to them.)"""
    parts = [part for first, last in ranges for part in _without(first, last, kept)]
    doomed = sum(conn.execute(f"SELECT count(*) FROM {table} WHERE id BETWEEN ? AND ?", p).fetchone()[0]
                 for p in parts)
    left = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - doomed
    rebuild = drop_indexes(conn, table) if doomed >= BULK_MIN_ROWS and doomed >= left else []
    deleted = sum(conn.execute(f"DELETE FROM {table} WHERE id BETWEEN ? AND ?", p).rowcount for p in parts)
    for sql in rebuild:
        conn.execute(sql)
    # Their custom values (which point at no table: a value is its field's and a record id's)
    fields = [fid for (fid,) in conn.execute("SELECT id FROM custom_field WHERE entity = ?", (table,))]
    for fid in fields:
        for first, last in parts:
            conn.execute("DELETE FROM custom_value WHERE field_id = ? AND entity_id BETWEEN ? AND ?",
                         (fid, first, last))
    return deleted


def _restore(conn: Any, entity: str, rid: int, old: dict[str, Any], new: dict[str, Any]) -> tuple[int, list[str]]:
    """Put back the columns and custom values (`cf_ID`) the import changed, but those changed
    again since: a later edit wins. Returns 1 when something went back (else 0), and the columns
    and custom values that keep a later value."""
    custom = [c for c in old if c.startswith(CUSTOM_PREFIX) and c[len(CUSTOM_PREFIX):].isdigit()]
    columns = [c for c in old if c.isidentifier() and c != "updated_at" and c not in custom]
    if not columns and not custom:
        return 0, []
    current = conn.execute(f"SELECT updated_at{''.join(f', {c}' for c in columns)} FROM {entity} WHERE id = ?",
                           (rid,)).fetchone()
    if current is None:
        return 0, []
    saved_at, *values = current
    back = {c: old[c] for c, now in zip(columns, values, strict=True) if now == new.get(c)}
    if entity == "deal" and _WHERE_A_DEAL_STANDS.intersection(columns).difference(back):
        back = {c: value for c, value in back.items() if c not in _WHERE_A_DEAL_STANDS}
    custom_back = [c for c in custom if _custom_value(conn, c, rid) == new.get(c)]
    later = [c for c in columns + custom if c not in back and c not in custom_back]
    if back or custom_back:
        # Saved by nobody since: as before the import, when it was last updated then (so that
        # undoing an earlier import still sees it untouched).
        untouched = not later and "updated_at" in old and saved_at == new.get("updated_at")
        back["updated_at"] = old["updated_at"] if untouched else clock.to_db(clock.utcnow())
        conn.execute(f"UPDATE {entity} SET {', '.join(f'{c} = ?' for c in back)} WHERE id = ?",
                     (*back.values(), rid))
        for c in custom_back:
            _put_custom_value(conn, c, rid, old[c])
    return (1 if back else 0), later


def _custom_value(conn: Any, key: str, rid: int) -> str | None:
    found = conn.execute("SELECT value FROM custom_value WHERE field_id = ? AND entity_id = ?",
                         (int(key[len(CUSTOM_PREFIX):]), rid)).fetchone()
    return found[0] if found else None


def _put_custom_value(conn: Any, key: str, rid: int, value: str | None) -> None:
    """Custom value `key` (`cf_ID`) of record `rid` as `value` (None: none)."""
    fid = int(key[len(CUSTOM_PREFIX):])
    if value is None:
        conn.execute("DELETE FROM custom_value WHERE field_id = ? AND entity_id = ?", (fid, rid))
    else:
        conn.execute("INSERT OR REPLACE INTO custom_value (field_id, entity_id, value) VALUES (?, ?, ?)",
                     (fid, rid, value))


def _field_word(conn: Any, column: str) -> str:
    """How a person names a column, or a custom field (`cf_ID`: its name)."""
    if column.startswith(CUSTOM_PREFIX) and column[len(CUSTOM_PREFIX):].isdigit():
        found = conn.execute("SELECT name FROM custom_field WHERE id = ?", (int(column[len(CUSTOM_PREFIX):]),))
        return next((name for (name,) in found), column)
    return _FIELD_WORDS.get(column, column.replace("_", " "))


def _links_put_back(changes: list[tuple]) -> dict[tuple[str, str, int], Any]:
    """(table, column, id) -> value, for each link the import set on a record that existed: a
    known deal the file gave an imported contact. Undo puts the old link back (when it is still
    the import's), so that record does not hold the imported one."""
    put_back = {}
    for entity, action, rid, _last, _old, new in changes:
        if action == "updated" and entity in ("deal", "contact"):
            for column, value in json.loads(new).items():
                if column in ("company_id", "contact_id"):
                    put_back[(entity, column, rid)] = value
    return put_back
