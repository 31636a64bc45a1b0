"""Running an import: read the file, plan every row, then write the plan in ONE transaction.

The write lock is taken (BEGIN IMMEDIATE) before the plan reads the database, so what was
matched is still what is there when the rows go in. Inserts are bulk `executemany` calls of
rows with ids assigned by the plan. Any error, a bad row (unless --skip-invalid), an unknown
stage, Ctrl-C or a crash rolls the whole transaction back: the database is as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmtui.store import clock, search_index
from crmtui.store.bulk import back_to_wal, build_indexes, insert_many, write_pages_once
from crmtui.store.db import Database, translate_errors
from crmtui.store.errors import CrmError, ValidationError
from crmtui.store.importer.mapping import (ENTITY_OF_TYPE, Mapping, build_mapping, detect_type, parse_map_options,
                                          RECORD_TYPES)
from crmtui.store.importer.custom import import_fields
from crmtui.store.importer import new_fields, stream
from crmtui.store.importer.handover import DealChunk
from crmtui.store.importer.plan import COLS, CUSTOM_PREFIX, ImportOptions, Plan, stage_history
from crmtui.store.importer.planner import start_plan
from crmtui.store.importer.reading import CsvText, open_csv
from crmtui.store.importer.tags import LINK_TABLES


class RowsRejected(CrmError):
    """Some rows are invalid and --skip-invalid was not given: nothing was written."""

    def __init__(self, plan: Plan) -> None:
        n = len(plan.rejects)
        valid = plan.rows_read - n
        fix = (f"Fix them, or import the {valid:,} valid row{'s' if valid != 1 else ''} with --skip-invalid"
               if valid else "Fix them and import again")
        super().__init__(
            f"{plan.csv.name}: {n:,} of {plan.rows_read:,} rows {'has' if n == 1 else 'have'} errors; "
            f"nothing was imported. {fix}"
        )
        self.plan = plan


@dataclass
class ImportResult:
    plan: Plan
    import_id: int | None  # None for a dry run or an import that changed nothing
    dry_run: bool


def prepare(source: str | Path, *, record_type: str | None = None, maps: list[str] | None = None,
            encoding: str | None = None, delimiter: str | None = None, stdin: Any = None,
            db: Database | None = None) -> tuple[CsvText, Mapping]:
    """Read the file and decide the record type and the column mapping (`read_file`, then
    `map_columns`: with `db`, its custom fields too)."""
    csv_text = read_file(source, record_type=record_type, maps=maps, encoding=encoding, delimiter=delimiter,
                         stdin=stdin)
    return csv_text, map_columns(csv_text, record_type=record_type, maps=maps, db=db)


def read_file(source: str | Path, *, record_type: str | None = None, maps: list[str] | None = None,
              encoding: str | None = None, delimiter: str | None = None, stdin: Any = None) -> CsvText:
    """Read the file, and check the options that need no database (--map's form, --type)."""
    parse_map_options(maps)
    csv_text = open_csv(source, encoding=encoding, delimiter=delimiter, stdin=stdin)
    if record_type is not None and record_type not in RECORD_TYPES:
        raise ValidationError(f"--type: {record_type!r} is not one of {', '.join(RECORD_TYPES)}, products", "type")
    if csv_text.rows is not None and record_type not in (None, "contacts"):
        raise ValidationError(f"--type {record_type}: {csv_text.name} is an address book (vCard): it holds contacts",
                              "type")
    return csv_text


def map_columns(csv_text: CsvText, *, record_type: str | None = None, maps: list[str] | None = None,
                db: Database | None = None, create_fields: bool = False) -> Mapping:
    """The record type (`record_type`, else told by the headers) and which column feeds which
    field: the built-in ones and, with `db`, the record type's custom fields; with
    `create_fields` too, the fields --create-fields would make (`mapping.new_fields`)."""
    kind = record_type or detect_type(csv_text.header)
    if kind is None:
        raise ValidationError(
            f"{csv_text.name}: cannot tell from the headers whether it holds deals, companies or contacts; "
            f"give --type (headers: {', '.join(repr(h) for h in csv_text.header)})", "type")
    fields: list[dict[str, Any]] = []
    if db is not None:
        with translate_errors(db.path, db.busy_timeout):
            conn = db.raw()
            try:
                fields = import_fields(conn, ENTITY_OF_TYPE[kind])
            finally:
                conn.close()
    mapping = build_mapping(csv_text.header, kind, parse_map_options(maps), fields)
    if create_fields and db is not None:
        mapping.new_fields = new_fields.propose(db, csv_text, mapping)
    return mapping


def run_import(db: Database, csv_text: CsvText, mapping: Mapping, options: ImportOptions, *, dry_run: bool = False,
               progress: Callable[[int], None] | None = None,
               before_write: Callable[[Plan], None] | None = None) -> ImportResult:
    """Plan the rows of `csv_text` against `db` and, unless `dry_run`, write them in one transaction.

    With `options.create_fields`, the columns that match no field become custom fields first, in
    the same transaction (a dry run makes them and rolls them back with the rest).
    Raises RowsRejected when rows are invalid and `options.skip_invalid` is off, ValidationError
    for unknown stages (without `create_stages`); nothing is written then.
    """
    # The plan is millions of small objects without cycles: the cyclic GC would only rescan them
    # (0.1-0.3 s for 100,000 rows), while writing as well as while planning. What the caller
    # needs afterwards (counts, rejects) is kept; the rest goes before the GC is back on.
    was_enabled = gc.isenabled()
    gc.disable()
    plan: Plan | None = None
    writer: _DealWriter | None = None
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        once = False
        try:
            once = not dry_run and csv_text.path is not None and write_pages_once(conn, db.busy_timeout)
            _set_up_for_bulk(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                made: list[new_fields.NewField] = []
                if options.create_fields:
                    mapping, made = new_fields.make(conn, csv_text, mapping)
                planner = start_plan(conn, csv_text, mapping, options, progress)
                if not dry_run and options.record_type == "deals" and stream.available():
                    writer = _DealWriter(conn)
                    planner.hand_over_to(stream.Fork(writer, writer.threshold, progress))
                plan = planner.complete()
                plan.new_fields = made
                del planner
                csv_text.text = ""  # every row is planned; let the file's text go before writing
                _check(plan)
                if before_write is not None:
                    before_write(plan)
                import_id = None
                if not dry_run and plan.changes_anything():
                    ensure_import_tables(conn)
                    import_id = write_plan(conn, plan, writer)
                if dry_run:
                    conn.execute("ROLLBACK")
                else:
                    conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            if once:
                back_to_wal(conn)
            conn.close()
            if plan is not None:
                plan.release()
            if was_enabled:
                gc.enable()
    return ImportResult(plan, import_id, dry_run)


def _set_up_for_bulk(conn: sqlite3.Connection) -> None:
    """The import's connection settings (it is closed when the import ends)."""
    conn.execute("PRAGMA cache_size = -8192")  # 8 MB: as fast as more here, and peak memory stays low
    # Every id the plan writes comes from the rows it read under the write lock or from
    # the ids it hands out, so checking each foreign key again row by row (deal ->
    # company, contact, stage; stage change -> deal; tag link -> deal, tag) only costs
    # time: 0.15 s for 100,000 deals. tests/test_import_bulk.py runs foreign_key_check.
    conn.execute("PRAGMA foreign_keys = OFF")
    # Each INSERT of many rows keeps what it changes of the pages written before it (a statement
    # journal: a constraint that fails halfway undoes that statement alone). SQLite keeps 64 KB of
    # it in memory and the rest in a temporary file: 124,000 writes to that file for 100,000 deals,
    # of 159,000 in all. In memory it is a few pages a statement (the writer 0.92 -> 0.85 s).
    conn.execute("PRAGMA temp_store = MEMORY")


def ensure_import_tables(conn: sqlite3.Connection) -> None:
    """Create the schema-3 tables when missing: a database migrated to 4 and 5 before migration 3
    was added skipped it (PRAGMA user_version was already past 3)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'import_run'").fetchone():
        return
    from crmtui.store.migrations import V3_IMPORTS, _split_sql

    for statement in _split_sql(V3_IMPORTS):
        conn.execute(statement)


def _check(plan: Plan) -> None:
    if plan.unknown_stages and not plan.options.create_stages:
        found = sorted(plan.unknown_stages.values())
        names = list(dict.fromkeys(name for _line, name in found))
        shown = ", ".join(repr(n) for n in names[:12]) + (" …" if len(names) > 12 else "")
        first = found[0][0]
        one = len(names) == 1
        raise ValidationError(
            f"{plan.csv.name}: {len(names)} unknown stage{'' if one else 's'}: {shown} (first on line {first}). "
            f"Map {'it' if one else 'each'} to a stage of the pipeline with --map-stage '{names[0]}=STAGE' (see "
            f"crmtui stages), make a new pipeline of the file's stages with --new-pipeline NAME, or add "
            f"{'it' if one else 'them'} to the pipeline with --create-stages", "stage")
    if plan.rows_read == 0:
        raise ValidationError(f"{plan.csv.name}: the file has a header but no rows", "file")
    if plan.rejects and not plan.options.skip_invalid:
        raise RowsRejected(plan)


Change = tuple[str, str, int, int, str | None, str | None]  # entity, action, first id, last id, old, new


def write_plan(conn: sqlite3.Connection, plan: Plan, writer: _DealWriter | None = None) -> int:
    """Carry out a plan inside the caller's transaction (the rest of it, when `writer` wrote the
    new deals while they were planned), and record what it did for undo. Returns the import's id."""
    record: list[Change] = []
    streamed = writer is not None and writer.started
    if plan.stream_broken or streamed != (plan.streamed_from_change is not None):
        raise RuntimeError("the import's new deals were written only in part")  # never: _check stops it first
    record += [("custom_field", "created", f.id, f.id, None, None) for f in plan.new_fields]  # (made before planning)
    _write_stages_and_tags(conn, plan, record)
    rebuild: list[str] = list(writer.rebuild) if streamed else []
    rebuild += _write_records(conn, plan, record, streamed)
    new_deals = plan.tables["deal"].new_ids() if "deal" in plan.tables else range(0)
    if new_deals and _wants_follow_up(conn, plan.options.follow_up):
        record += _add_follow_up_tasks(conn, new_deals, plan.now)
    rebuild += _write_stage_changes_and_links(conn, plan, record)
    if streamed:
        writer.put_back()
    if rebuild:
        build_indexes(conn, rebuild)
    entered = [(first, last) for entity, action, first, last, _old, _new in record
               if (entity, action) == ("stage_change", "created")]
    if entered and _wants_follow_up(conn, plan.options.follow_up):
        record += _add_playbook_tasks(conn, entered, plan.now)
    return _record_import(conn, plan, record)


def _write_stages_and_tags(conn: sqlite3.Connection, plan: Plan, record: list[Change]) -> None:
    if plan.new_pipeline is not None:
        pid, name, position = plan.new_pipeline
        conn.execute("INSERT INTO pipeline (id, name, position, is_default, created_at) VALUES (?, ?, ?, 0, ?)",
                     (pid, name, position, plan.now))
        record.append(("pipeline", "created", pid, pid, None, None))
        if plan.default_from is not None:
            conn.execute("UPDATE pipeline SET is_default = (id = ?)", (pid,))
            record.append(("pipeline", "updated", pid, pid, json.dumps({"default": plan.default_from}),
                           json.dumps({"default": pid})))
    if plan.new_stages:
        for pipeline_id, (after, count) in plan.stage_shifts.items():
            conn.execute("UPDATE stage SET position = position + ? WHERE pipeline_id = ? AND position > ?",
                         (count, pipeline_id, after))
        conn.executemany(
            "INSERT INTO stage (id, pipeline_id, name, position, probability, kind) VALUES (?, ?, ?, ?, ?, ?)",
            plan.new_stages)
        ids = sorted(s[0] for s in plan.new_stages)
        record.append(("stage", "created", ids[0], ids[-1], None, None))
    if plan.new_tags:
        tags = sorted(plan.new_tags.values())
        conn.executemany("INSERT INTO tag (id, name) VALUES (?, ?)", tags)
        record.append(("tag", "created", tags[0][0], tags[-1][0], None, None))


def _write_records(conn: sqlite3.Connection, plan: Plan, record: list[Change], streamed: bool) -> list[str]:
    """New companies, contacts and deals (unless the writer wrote them while they were planned),
    and the columns the plan changes on existing ones. Returns the indexes dropped for a bulk
    insert, to build again at the end."""
    rebuild: list[str] = []
    for entity in ("company", "contact", "deal"):
        table = plan.tables[entity]
        ids = table.new_ids()
        if ids and streamed:  # the writer wrote them while the file was planned
            record.append((entity, "created", ids.start, ids.stop - 1, None, None))
        elif ids:
            rebuild += _drop_indexes_for_bulk(conn, entity, len(ids))
            _bulk_insert(conn, entity, [table.rows[i] for i in ids], ids)
            record.append((entity, "created", ids.start, ids.stop - 1, None, None))
        custom = [(fid, rid, value) for rid in ids if (values := table.custom.get(rid))
                  for fid, value in values.items()] if table.custom and not streamed else []
        for rid, old, new in plan.updates(entity):
            new["updated_at"] = plan.now
            old["updated_at"] = table.original[rid][-1]
            columns = {c: v for c, v in new.items() if not c.startswith(CUSTOM_PREFIX)}
            assignments = ", ".join(f"{c} = ?" for c in columns)
            conn.execute(f"UPDATE {entity} SET {assignments} WHERE id = ?", (*columns.values(), rid))
            custom += [(int(c[len(CUSTOM_PREFIX):]), rid, v) for c, v in new.items() if c.startswith(CUSTOM_PREFIX)]
            record.append((entity, "updated", rid, rid, json.dumps(old), json.dumps(new)))
        if custom:
            rebuild += _drop_indexes_for_bulk(conn, "custom_value", len(custom))
            insert_many(conn, _UPSERT_CUSTOM_VALUES, 3, custom)
    return rebuild


def _write_stage_changes_and_links(conn: sqlite3.Connection, plan: Plan, record: list[Change]) -> list[str]:
    """The stage changes and tag links not written yet. Returns the indexes dropped for them."""
    rebuild: list[str] = []
    if plan.stage_changes:
        rebuild += _drop_indexes_for_bulk(conn, "stage_change", len(plan.stage_changes))
        first = plan.first_stage_change
        insert_many(conn, _INSERT_STAGE_CHANGES, 5, ((first + i, *change) for i, change in enumerate(plan.stage_changes)))
    # (stage changes written with the streamed deals have the ids before plan.first_stage_change)
    changes_from = plan.first_stage_change if plan.streamed_from_change is None else plan.streamed_from_change
    changes_to = plan.first_stage_change + len(plan.stage_changes) - 1
    if changes_to >= changes_from:
        record.append(("stage_change", "created", changes_from, changes_to, None, None))
    for entity, pairs in plan.new_links.items():
        link, column = LINK_TABLES[entity]
        rebuild += _drop_indexes_for_bulk(conn, link, len(pairs))
        insert_many(conn, f"INSERT OR IGNORE INTO {link} ({column}, tag_id) VALUES", 2, pairs)
    for entity, pairs in plan.linked_existing.items():
        link, column = LINK_TABLES[entity]
        conn.executemany(f"INSERT OR IGNORE INTO {link} ({column}, tag_id) VALUES (?, ?)", pairs)
        record.extend((link, "linked", rid, tid, None, None) for rid, tid in pairs)
    return rebuild


def _record_import(conn: sqlite3.Connection, plan: Plan, record: list[Change]) -> int:
    """The import's row in `import_run` and what it did in `import_change` (what `history` lists
    and undoes). Returns the import's id."""
    summary = {
        "counts": plan.counts(), "rows": plan.rows_read, "merged_rows": plan.merged_rows,
        "new_stages": [s[2] for s in plan.new_stages], "date_order": plan.date_order,
        "new_pipeline": plan.new_pipeline[1] if plan.new_pipeline else None,
        "new_fields": [f.name for f in plan.new_fields],
    }
    cur = conn.execute(
        "INSERT INTO import_run (source, record_type, encoding, delimiter, rows_read, summary, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (plan.csv.name, plan.options.record_type, plan.csv.encoding, plan.csv.delimiter_name, plan.rows_read,
         json.dumps(summary), plan.now))
    import_id = cur.lastrowid
    conn.executemany(
        "INSERT INTO import_change (import_id, entity, action, first_id, last_id, old_values, new_values)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((import_id, *r) for r in record))
    return import_id


_STAGE_CHANGE_COLS = ("id", "deal_id", "from_stage_id", "to_stage_id", "changed_at")
# (a value that changes replaces the one stored; an empty cell changes none: no deletes)
_UPSERT_CUSTOM_VALUES = "INSERT OR REPLACE INTO custom_value (field_id, entity_id, value) VALUES"
_INSERT_STAGE_CHANGES = f"INSERT INTO stage_change ({', '.join(_STAGE_CHANGE_COLS)}) VALUES"


class _DealWriter:
    """Writes the new deals of a big file while a child process plans the rest (`stream`): their
    rows, finder entries, stage changes and tag links, and the new companies and contacts, into
    the import's transaction. The planner starts handing them over once the new deals outnumber
    the table (and BULK_MIN_ROWS); then the writer first does what `write_plan` does for such a
    batch: it drops the indexes of deal, stage_change and deal_tag (and of a small company or
    contact table) and sets the finder's insert triggers aside, and `_TOUCH_ON_INSERT`.
    `write_plan` puts them back (`put_back`).

    Each chunk's finder entries become a segment of the full-text index, and FTS5 merges
    segments as they come (automerge): for 100,000 deals that merging is a fifth of the finder's
    share of the writing (0.34 -> 0.28 s). While streaming it is left to FTS5's own limit of 16
    segments per level, and set back when done: the finder reads the few more segments as fast
    (the same queries, 13 segments against 8), and later writes merge them as usual."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # (the planner forks when it has this many new deals: see `stream`)
        self.threshold = max(BULK_MIN_ROWS, conn.execute("SELECT count(*) FROM deal").fetchone()[0])
        self.started = False
        self.rebuild: list[str] = []
        self.triggers: dict[str, str] = {}  # table -> the finder trigger set aside
        self.set_aside: list[str] = []  # other triggers set aside (CREATE statements)
        self.automerge: int | None = None  # the finder's automerge setting while set aside
        self.filled: dict[str, set[str]] = {t: set() for t in ("company", "contact", "deal", "stage_change")}

    def __call__(self, chunk: DealChunk) -> None:
        conn = self.conn
        if not self.started:
            self._set_up(len(chunk.rows), len(chunk.rows), len(chunk.links))  # (a stage change per deal, or two)
            self.started = True
        for entity, rows in (("company", chunk.companies), ("contact", chunk.contacts), ("deal", chunk.rows)):
            if not rows:
                continue
            if chunk.rewrite:
                # Records written earlier that later rows of the file changed; their finder
                # entries follow by the update triggers.
                cols, values = _with_last_touch(conn, rows) if entity == "deal" else (COLS[entity], rows)
                assignments = ", ".join(f"{c} = ?" for c in cols[1:])
                conn.executemany(f"UPDATE {entity} SET {assignments} WHERE id = ?", ((*r[1:], r[0]) for r in values))
            else:
                _insert_new(conn, entity, rows, self.filled[entity])
                if entity in self.triggers:
                    search_index.index_range(conn, entity, rows[0][0], rows[-1][0])
        if chunk.custom:
            insert_many(conn, _UPSERT_CUSTOM_VALUES, 3, chunk.custom)
        if chunk.rewrite:
            ids = [r[0] for r in chunk.rows]  # their stage changes are written again below
            for at in range(0, len(ids), 500):
                some = ids[at:at + 500]
                conn.execute(f"DELETE FROM stage_change WHERE deal_id IN ({', '.join('?' * len(some))})", some)
        # (a new deal's first stage change comes from no stage: one value fewer each)
        changes = stage_history(chunk.rows, chunk.through)
        first = chunk.first_change
        _insert_new(conn, "stage_change", [(first + i, *change) for i, change in enumerate(changes)],
                    self.filled["stage_change"], _STAGE_CHANGE_COLS)
        insert_many(conn, "INSERT OR IGNORE INTO deal_tag (deal_id, tag_id) VALUES", 2, chunk.links)

    def _set_up(self, deals: int, changes: int, links: int) -> None:
        conn = self.conn
        self.rebuild += _drop_indexes_for_bulk(conn, "deal", deals, keep=_KEPT_WHILE_STREAMING)
        self.rebuild += _drop_indexes_for_bulk(conn, "stage_change", changes, keep=_KEPT_WHILE_STREAMING)
        self.rebuild += _drop_indexes_for_bulk(conn, "deal_tag", links, keep=_KEPT_WHILE_STREAMING)
        for table in ("company", "contact"):
            # How many the file brings is not known yet: a small table's indexes are rebuilt
            # cheaply at the end, a big one's are kept (as for a batch smaller than the table).
            if conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] < BULK_MIN_ROWS:
                self.rebuild += drop_indexes(conn, table)
        for table in ("company", "contact", "deal"):
            trigger = _set_aside_finder_trigger(conn, table)
            if trigger:
                self.triggers[table] = trigger
        if touch := _set_aside_trigger(conn, _TOUCH_ON_INSERT):
            self.set_aside.append(touch)
        if self.triggers:
            found = conn.execute("SELECT v FROM search_index_config WHERE k = 'automerge'").fetchone()
            self.automerge = int(found[0]) if found else _FTS5_AUTOMERGE
            conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('automerge', 0)")

    def put_back(self) -> None:
        """The triggers and the finder's merging as they were before streaming."""
        for trigger in [*self.triggers.values(), *self.set_aside]:
            self.conn.execute(trigger)
        if self.automerge is not None:
            self.conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('automerge', ?)",
                              (self.automerge,))


def _insert_new(conn: sqlite3.Connection, table: str, rows: Sequence[tuple[Any, ...]], filled: set[str],
                cols: Sequence[str] | None = None) -> None:
    """INSERT new rows of `table` (tuples of `cols`, by default COLS[table]; deals get their last
    touch, as in `_with_last_touch`). A column that no row fills and whose default is NULL is
    left out of the statement: most files fill some of the deal's 21 columns, and every value
    bound costs (100,000 deals from a file without cost, currency, confidence, proposal, notes or
    lost reason: 6 columns fewer, the deals' INSERTs 0.67 -> 0.45 s).

    `filled` (the caller's, one per table and import) gathers the columns filled so far, and
    they stay in: each column list is a statement of ~5 MB in the statement cache, so a file that
    fills a column now and then makes a few of them, not one per combination."""
    if not rows:
        return
    cols = list(cols or COLS[table])
    columns = list(zip(*rows))  # a tuple per column
    info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    if table == "deal" and any(row[1] == "last_touch_at" for row in info):
        created, entered = cols.index("created_at"), cols.index("stage_entered_at")
        columns.append(tuple(map(max, columns[created], columns[entered])))
        cols.append("last_touch_at")
    # the columns that may be NULL and default to it: leaving one out inserts NULL
    optional = {row[1] for row in info if not row[3] and row[4] is None and not row[5]}
    filled.update(c for i, c in enumerate(cols) if c in optional and columns[i].count(None) < len(rows))
    keep = [i for i, c in enumerate(cols) if c not in optional or c in filled]
    insert_many(conn, f"INSERT INTO {table} ({', '.join(cols[i] for i in keep)}) VALUES", len(keep),
                zip(*(columns[i] for i in keep)))


def _with_last_touch(conn: sqlite3.Connection, rows: Any) -> tuple[tuple[str, ...], Any]:
    """The columns and rows of deals written again (a streamed import's rewrites), with their
    last touch: the later of creation and stage entry, as schema 5's trigger sets it for a new
    deal (new ones get it from `_insert_new`)."""
    cols = COLS["deal"]
    if "last_touch_at" not in _columns(conn, "deal"):
        return cols, rows
    created, entered = cols.index("created_at"), cols.index("stage_entered_at")
    return (*cols, "last_touch_at"), ((*r, max(r[created], r[entered])) for r in rows)


def _wants_follow_up(conn: sqlite3.Connection, asked: bool | None) -> bool:
    """--follow-up / --no-follow-up, else the rules: new deals get the task, imports only when
    `follow-up-on-import` is on."""
    if asked is not None:
        return asked
    from crmtui.store.settings import settings_from_rows

    rules = settings_from_rows(conn.execute("SELECT key, value FROM setting"))
    return bool(rules["follow-up-on-new-deals"] and rules["follow-up-on-import"])


def _add_follow_up_tasks(conn: sqlite3.Connection, deal_ids: range, now: str) -> list[tuple]:
    """A "Follow up" task on each new open deal, due in `follow-up-days`; recorded for undo."""
    from crmtui.store.settings import settings_from_rows

    days = int(settings_from_rows(conn.execute("SELECT key, value FROM setting"))["follow-up-days"])
    due = (clock.today() + dt.timedelta(days=days)).isoformat()
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM activity").fetchone()[0]
    added = conn.execute(
        "INSERT INTO activity (kind, body, deal_id, company_id, contact_id, occurred_at, created_at, due_on)"
        " SELECT 'task', 'Follow up', d.id, d.company_id, d.contact_id, ?, ?, ? FROM deal d"
        " JOIN stage s ON s.id = d.stage_id WHERE s.kind = 'open' AND d.id BETWEEN ? AND ? ORDER BY d.id",
        (now, now, due, deal_ids.start, deal_ids.stop - 1),
    ).rowcount
    return [("activity", "created", first, first + added - 1, None, None)] if added else []


def _add_playbook_tasks(conn: sqlite3.Connection, entered: list[tuple[int, int]], now: str) -> list[Change]:
    """The playbook tasks of the stage each deal of the import entered (new or moved), under the
    same rule as the follow-up task; recorded for undo."""
    from crmtui.store import playbooks

    pairs = (row for first, last in entered for row in conn.execute(
        "SELECT deal_id, to_stage_id FROM stage_change WHERE id BETWEEN ? AND ?", (first, last)))
    added = playbooks.add_for_imported(conn, pairs, clock.today(), now)
    return [("activity", "created", added[0], added[-1], None, None)] if added else []


def _bulk_insert(conn: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]], ids: range) -> None:
    """Insert many rows (with the ids `ids`). For a big batch, the finder's insert trigger is set
    aside and the new rows are indexed by ONE `INSERT ... SELECT` afterwards: FTS5 flushes its
    pending terms once per statement, not once per row. Same transaction, so a failure puts the
    trigger back too. The tables' other triggers still run for every row, but the deal's
    `_TOUCH_ON_INSERT`, which these rows never need."""
    if len(ids) < 1000:
        _insert_new(conn, table, rows, set())
        return
    trigger = _set_aside_finder_trigger(conn, table)
    touch = _set_aside_trigger(conn, _TOUCH_ON_INSERT) if table == "deal" else None
    filled: set[str] = set()
    for at in range(0, len(rows), 5000):  # (a column at a time for each 5,000: see _insert_new)
        _insert_new(conn, table, rows[at:at + 5000], filled)
    if trigger:
        search_index.index_range(conn, table, ids.start, ids.stop - 1)
        conn.execute(trigger)
    if touch:
        conn.execute(touch)


# The trigger that gives a new deal without a last touch one. `_insert_new` gives every deal it
# writes its last touch, so for them the trigger only checks its condition, row by row: 0.6 us of
# each deal's 4 us insert. A bulk insert sets it aside.
_TOUCH_ON_INSERT = "tr_deal_touch_insert"


def _set_aside_finder_trigger(conn: sqlite3.Connection, table: str) -> str | None:
    """Drop the finder's insert trigger on `table`; returns its CREATE statement (None: none)."""
    return _set_aside_trigger(conn, f"search_{table}_ai")


def _set_aside_trigger(conn: sqlite3.Connection, name: str) -> str | None:
    """Drop the trigger `name`; returns its CREATE statement (None: there is none)."""
    found = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
    if found is None:
        return None
    conn.execute(f'DROP TRIGGER "{name}"')
    return found[0]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


BULK_MIN_ROWS = 5000
_FTS5_AUTOMERGE = 4  # FTS5's default


# While the child plans, the writer would wait for it part of the time, and after it, it
# rebuilds the dropped indexes alone. These indexes take each new row at the end of one of a few
# runs: two deal indexes of few distinct keys (pipeline and stage; stage and a snooze that new
# deals lack), the stage changes' (by deal, in the order the deals come; by stage) and the tag
# links' (by tag). Kept, they cost the writer some of that waiting time instead of rebuilding
# after it. 100,000 deals, median of 5-6 turns: the deal pair 3.39 -> 3.28 s; the other four,
# once the writer bound fewer values, 2.42 -> 2.30 s. Other deal indexes cost the writer more
# than it waits (company and contact kept: 3.6 s).
_KEPT_WHILE_STREAMING = ("ix_deal_pipeline", "ix_deal_no_task", "ix_stage_change_deal", "ix_stage_change_to",
                         "ix_stage_change_deal_stage", "ix_deal_tag_tag")


def _drop_indexes_for_bulk(conn: sqlite3.Connection, table: str, new_rows: int,
                           keep: tuple[str, ...] = ()) -> list[str]:
    """For an insert bigger than the table, drop its plain indexes but `keep` (returning their
    CREATE statements): building an index once, by sorting, beats updating it row by row. Same
    transaction, so a failure leaves them as they were."""
    if new_rows < BULK_MIN_ROWS:
        return []
    existing = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if new_rows < existing:
        return []
    return drop_indexes(conn, table, keep)


def drop_indexes(conn: sqlite3.Connection, table: str, keep: tuple[str, ...] = ()) -> list[str]:
    """Drop `table`'s plain (not unique) indexes; returns their CREATE statements.

    The trash's indexes (`WHERE deleted_at IS NOT NULL`) stay: an import's rows never enter
    them and an undo removes only the few trashed ones, while rebuilding one reads the whole
    table (16 ms for 100,000 deals) to find nothing."""
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
        " AND sql NOT LIKE 'CREATE UNIQUE%' AND sql NOT LIKE '%WHERE deleted_at IS NOT NULL'", (table,)).fetchall()
    indexes = [(name, sql) for name, sql in indexes if name not in keep]
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in indexes]


def write_rejects(path: Path, plan: Plan) -> None:
    """The rejected rows: the file's own columns plus `error` (which starts with the line number)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    header = list(plan.mapping.header)
    writer.writerow([*header, "error"])
    width = len(header)
    for r in plan.rejects:
        fields = (r.fields + [""] * width)[:max(width, len(r.fields))]
        writer.writerow([*fields[:width], r.message])
    try:
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    except OSError as exc:
        raise ValidationError(f"{path}: cannot write the rejects file ({exc.strerror})", "rejects") from None


def default_rejects_path(source: str) -> Path:
    if source in ("-", "<stdin>"):
        return Path("stdin.rejects.csv")
    p = Path(source)
    return p.with_name(p.stem + ".rejects.csv")


__all__ = ["ImportOptions", "ImportResult", "RowsRejected", "prepare", "read_file", "map_columns", "run_import",
           "write_rejects", "default_rejects_path", "clock"]
