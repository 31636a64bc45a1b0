"""Planning an import: every row is read, checked and matched against the database before
anything is written.

The plan holds the rows to insert (with ids assigned in advance, so deals can point at companies
created a few rows earlier), the columns to update on existing records (old and new values, for
undo), the stage changes, the tag links, and the rows rejected with a reason. Records are kept
as plain lists, not ORM objects: 100,000 deals must plan in well under a second.

Matching (issue 3): companies by normalised domain (from a website/domain column, or a company
email) or normalised name; contacts by email (trimmed, case-folded), else name + company; deals
by an external id ("Record ID", "Id", ...) when the file has one, else title + company. Rows that
match a record planned earlier in the same file merge into it.
"""

from __future__ import annotations

import datetime as dt
import gc
import operator
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmtui.store import clock
from crmtui.store.dates import AmbiguousDate
from crmtui.store.errors import ValidationError
from crmtui.store.importer import values as V
from crmtui.store.importer.mapping import Mapping
from crmtui.store.importer.reading import CsvText, UnclosedQuote, data_rows

COMPANY_COLS = ("id", "name", "website", "domain", "email", "phone", "address", "source", "category", "size",
                "notes", "external_id", "created_at", "updated_at")
CONTACT_COLS = ("id", "name", "email", "phone", "title", "company_id", "notes", "external_id", "created_at",
                "updated_at")
DEAL_COLS = ("id", "title", "company_id", "contact_id", "pipeline_id", "stage_id", "stage_entered_at",
             "amount_cents", "cost_cents", "currency", "confidence", "expected_close", "closed_on", "source",
             "lost_reason", "proposal_url", "notes", "external_id", "created_at", "updated_at")
COLS = {"company": COMPANY_COLS, "contact": CONTACT_COLS, "deal": DEAL_COLS}
ENTITY_OF_TYPE = {"deals": "deal", "companies": "company", "contacts": "contact"}
_POS = {entity: {c: i for i, c in enumerate(cols)} for entity, cols in COLS.items()}
# Columns that identify a record: a matched record gets them filled in when empty, never replaced.
_IDENTITY = {"company": {"name", "domain"}, "contact": {"name"}, "deal": set()}
_NEVER_UPDATED = {"id", "created_at", "updated_at"}
_EXT = _POS["deal"]["external_id"]
_STAGE, _ENTERED, _CREATED = (_POS["deal"][c] for c in ("stage_id", "stage_entered_at", "created_at"))
# The columns a deal row fills on a deal that exists (`Planner._deal_row`), in that order.
_pick_fill = operator.itemgetter(*(_POS["deal"][c] for c in (
    "title", "company_id", "contact_id", "amount_cents", "cost_cents", "currency", "confidence", "expected_close",
    "source", "lost_reason", "proposal_url", "notes", "external_id")))
MAX_SHOWN_ERRORS = 10
_REPEATING = {"stage_entered_at", "currency", "expected_close", "closed_on", "source", "lost_reason", "created_at",
              "updated_at", "category", "size", "title",
              # numbers above 256 are a new object per cell too (re-importing 100,000 deals: 12 MB)
              "company_id", "contact_id", "pipeline_id", "stage_id", "amount_cents", "cost_cents"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ImportOptions:
    record_type: str
    pipeline: str | None = None
    create_stages: bool = False
    date_order: str | None = None
    skip_invalid: bool = False
    follow_up: bool | None = None  # add the "Follow up" task to new open deals; None: the rules decide


@dataclass
class Reject:
    line: int
    fields: list[str]
    message: str


def _unguard(value: str) -> str:
    """Take off the `'` our export (or a careful spreadsheet) puts before `=`, `+`, `-`, `@`."""
    if value[:1] == "'" and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


class RowError(Exception):
    def __init__(self, column: str | None, value: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def stage_history(rows: Iterable[Sequence[Any]], through: dict[int, int]) -> list[tuple[int, int | None, int, str]]:
    """The stage history of new deals (rows in DEAL_COLS order), as (deal, from, to, when): created
    in their stage, or through an open stage first (`through`: a won or lost row whose stage
    column named the stage it was in)."""
    changes = []
    for row in rows:
        did = row[0]
        passed = through.get(did)
        if passed is not None and passed != row[_STAGE]:
            changes.append((did, None, passed, row[_CREATED]))
            changes.append((did, passed, row[_STAGE], row[_ENTERED]))
        else:
            changes.append((did, None, row[_STAGE], row[_ENTERED]))
    return changes


@dataclass
class DealChunk:
    """New deals handed to the writer while the rest of the file is planned (`stream`), with the
    companies and contacts planned since the last chunk."""

    rows: list[list[Any]]  # in DEAL_COLS order: consecutive new ids, or (`rewrite`) any
    # Their stage changes are `stage_history(rows, through)`, numbered from first_change: the
    # writer builds them (it has time to spare; the planning process has none).
    through: dict[int, int]
    first_change: int
    links: list[tuple[int, int]]  # (deal, tag) for new deals, maybe repeated
    companies: list[list[Any]] = field(default_factory=list)  # new ones, in COMPANY_COLS order
    contacts: list[list[Any]] = field(default_factory=list)  # new ones, in CONTACT_COLS order
    rewrite: bool = False  # rows handed over before that later rows of the file changed


class Handover(Protocol):
    """Where the planner hands new deals over while it plans (`stream.Fork`)."""

    # New deals from which handing over starts: when the import will drop the deal indexes
    # (at least as many new deals as the table holds, and BULK_MIN_ROWS).
    threshold: int

    def begin(self, planner: Planner) -> None:
        """Called once, when handing over starts: sets `planner.send`. (`stream.Fork` forks here:
        the child plans the rest and the parent writes; neither returns.) Returning without
        setting it means no hand-over: the planner goes on alone."""


class PlannedElsewhere(Exception):  # noqa: N818 (not an error: how a writing parent gets its plan)
    """Raised through the planner in a process whose child planned the rest of the file."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("planned in a child process")
        self.plan = plan


# New deals per hand-over: few enough that little is left to write when planning ends, enough
# that each message is worth sending. Whether it is time is looked at every 1,024 rows.
CHUNK_ROWS = 4000
HAND_OVER_MASK = 1023


@dataclass
class Table:
    """The planned state of one table: existing rows (as loaded) and new ones, by id."""

    entity: str
    rows: dict[int, list[Any]] = field(default_factory=dict)
    original: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # existing rows as loaded
    next_id: int = 1
    first_new: int = 1
    touched: set[int] = field(default_factory=set)  # existing rows the file names
    dirty: set[int] = field(default_factory=set)  # existing rows whose columns change
    tagged: set[int] = field(default_factory=set)  # existing rows that get new tags

    def new_ids(self) -> range:
        return range(self.first_new, self.next_id)


@dataclass
class Plan:
    """Everything an import would do. `apply.write_plan` carries it out."""

    csv: CsvText
    mapping: Mapping
    options: ImportOptions
    tables: dict[str, Table]
    rows_read: int = 0
    merged_rows: int = 0
    rejects: list[Reject] = field(default_factory=list)
    unknown_stages: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)  # -> (line, as written)
    new_stages: list[tuple[int, int, str, int, int]] = field(default_factory=list)  # id, pipeline, name, pos, prob
    stage_shifts: dict[int, tuple[int, int]] = field(default_factory=dict)  # pipeline -> (after position, by)
    stage_changes: list[tuple[int, int | None, int, str]] = field(default_factory=list)
    first_stage_change: int = 1
    new_tags: dict[str, tuple[int, str]] = field(default_factory=dict)  # casefold -> (id, name)
    new_links: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # entity -> (record, tag)
    linked_existing: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    date_order: str | None = None
    now: str = ""
    # When the new deals went to the writer while planning (`stream`): the first stage change id
    # this import gave out (stage_changes then only holds those not written yet).
    streamed_from_change: int | None = None
    stream_broken: bool = False  # handing over stopped half-way: this plan must not be written

    def counts(self) -> dict[str, dict[str, int]]:
        """created / updated / unchanged (and rejected for the file's own type) per record type."""
        out = {}
        own = ENTITY_OF_TYPE[self.options.record_type]
        for entity in ("deal", "company", "contact"):
            t = self.tables[entity]
            created = len(t.new_ids())
            updated = len(t.dirty | t.tagged)
            unchanged = len(t.touched) - updated  # touched holds existing records only
            row = {"created": created, "updated": updated, "unchanged": unchanged}
            if entity == own:
                row["rejected"] = len(self.rejects)
            if any(row.values()) or entity == own:
                out[entity] = row
        return out

    def changes_anything(self) -> bool:
        c = self.counts()
        return any(v.get("created") or v.get("updated") for v in c.values()) or bool(self.new_stages) or any(
            self.linked_existing.values())

    def updates(self, entity: str) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(id, old values, new values) of the existing rows the import changes."""
        t = self.tables[entity]
        cols = COLS[entity]
        out = []
        for rid in sorted(t.dirty):
            before, after = t.original[rid], t.rows[rid]
            changed = [i for i, c in enumerate(cols) if before[i] != after[i] and c not in _NEVER_UPDATED]
            out.append((rid, {cols[i]: before[i] for i in changed}, {cols[i]: after[i] for i in changed}))
        return out

    def release(self) -> None:
        """Let go of the planned rows once written (counts, rejects and stages stay)."""
        for t in self.tables.values():
            t.rows = {}
            t.original = {}
        self.stage_changes = []
        self.new_links = {}
        self.linked_existing = {}

    def error_lines(self, limit: int = MAX_SHOWN_ERRORS) -> list[str]:
        return [r.message for r in self.rejects[:limit]]


class Planner:
    """Reads the rows of a file against the database (read only) and builds a Plan."""

    def __init__(self, conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping, options: ImportOptions,
                 progress: Callable[[int], None] | None = None) -> None:
        self.conn = conn
        self.handover: Handover | None = None
        self.send: Callable[[DealChunk], None] | None = None  # where chunks go, once handing over began
        self.csv = csv_text
        self.mapping = mapping
        self.options = options
        self.progress = progress
        self.entity = ENTITY_OF_TYPE[options.record_type]
        self.tables = {e: Table(e) for e in COLS}
        self.plan = Plan(csv_text, mapping, options, self.tables, date_order=options.date_order,
                         now=clock.to_db(clock.utcnow()))
        self.now = self.plan.now
        self.today = clock.today().isoformat()
        self.tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
        self.idx = {f: mapping.index(f) for f in mapping.columns if f}
        self.ix: dict[str, int] = dict(self.idx)  # type: ignore[arg-type]
        self._deal_ix = [self.ix.get(name, -1) for name in self._DEAL_INPUTS]
        self._pick_deal = operator.itemgetter(*self._deal_ix)
        # what tells two rows apart when the file has no external id: an `id` column
        plain_id = next((i for i, h in enumerate(mapping.header) if h.strip().casefold() == "id"), -1)
        self._plain_id_ix = plain_id
        self.order = options.date_order
        self._load()

    # --- loading what exists ------------------------------------------------------------------

    def _load(self) -> None:
        c = self.conn
        self.default_currency = (c.execute("SELECT value FROM setting WHERE key = 'currency'").fetchone() or ("USD",))[0]
        self.pipelines: dict[str, int] = {}
        default = None
        for pid, name, is_default in c.execute(
                "SELECT id, name, is_default FROM pipeline WHERE deleted_at IS NULL ORDER BY position, id"):
            self.pipelines[name.casefold()] = pid
            if default is None or is_default:
                default = pid if (default is None or is_default) else default
        self.pipeline_names = {pid: name for pid, name in c.execute("SELECT id, name FROM pipeline")}
        if self.options.pipeline:
            key = self.options.pipeline.strip().casefold()
            if key not in self.pipelines:
                raise ValidationError(
                    f"--pipeline: unknown pipeline {self.options.pipeline!r} "
                    f"(pipelines: {', '.join(self.pipeline_names[p] for p in self.pipelines.values())})", "pipeline")
            default = self.pipelines[key]
        if default is None:
            raise ValidationError("the database has no pipeline", "pipeline")
        self.default_pipeline = default
        self.stages: dict[int, dict[str, tuple[int, str]]] = {}
        self.kind_stage: dict[int, dict[str, int]] = {}
        self.first_open: dict[int, int] = {}
        self.last_open: dict[int, tuple[int, int]] = {}  # pipeline -> (position, probability)
        self.stage_kind: dict[int, str] = {}
        for sid, pid, name, kind, position, prob in c.execute(
                "SELECT id, pipeline_id, name, kind, position, probability FROM stage WHERE deleted_at IS NULL"
                " ORDER BY pipeline_id, position, id"):
            self.stages.setdefault(pid, {})[" ".join(name.casefold().split())] = (sid, kind)
            self.kind_stage.setdefault(pid, {}).setdefault(kind, sid)
            self.stage_kind[sid] = kind
            if kind == "open":
                self.first_open.setdefault(pid, sid)
                self.last_open[pid] = (position, prob)
        self.next_stage_id = (c.execute("SELECT coalesce(max(id), 0) FROM stage").fetchone()[0]) + 1
        self.tag_ids = {name.casefold(): tid for tid, name in c.execute("SELECT id, name FROM tag")}
        self.next_tag_id = (c.execute("SELECT coalesce(max(id), 0) FROM tag").fetchone()[0]) + 1

        self.co_by_ext: dict[str, int] = {}
        self.co_by_domain: dict[str, int] = {}
        self.co_by_name: dict[str, int] = {}
        self.co_by_base: dict[str, list[int]] = {}
        self.co_by_name_domain: dict[tuple[str, str, str], int] = {}  # same name, other domain or id
        self._load_table("company", self._index_company)
        self.ct_by_ext: dict[str, int] = {}
        self.ct_by_email: dict[str, int] = {}
        self.ct_by_name: dict[tuple[str, int | None], int] = {}
        self._load_table("contact", self._index_contact)
        self.dl_by_ext: dict[str, int] = {}
        # title + customer -> deals (several: one customer may buy "Website relaunch" twice)
        # (an int, or a list when there are several: most keys have one deal, and 100,000 one-item
        # lists would cost 7 MB)
        self.dl_by_key: dict[tuple[str, int | None, int | None], int | list[int]] = {}
        # dl_by_key is built when a row first needs it (`_same_deal`): a file whose rows all find
        # their deals by external id never does (re-importing 100,000 deals, six turns each:
        # 2.68-2.73 s -> 2.44-2.52 s). Until then the keys given to `_add_key` wait here, in order.
        self._key_log: list[tuple[tuple[str, int | None, int | None], int]] | None = []
        self.claimed: dict[int, str | None] = {}  # deal -> the row id of the file row that matched it
        if self.entity == "deal":
            self._load_table("deal", self._index_loaded_deal)
        else:
            t = self.tables["deal"]
            t.next_id = t.first_new = c.execute("SELECT coalesce(max(id), 0) FROM deal").fetchone()[0] + 1
        self.plan.first_stage_change = c.execute("SELECT coalesce(max(id), 0) FROM stage_change").fetchone()[0] + 1
        # record id * 2**32 + tag id: a set of ints is half the size of a set of pairs
        self.existing_links: dict[str, set[int]] = {}
        if "tags" in self.idx:
            link, column = {"deal": ("deal_tag", "deal_id"), "company": ("company_tag", "company_id"),
                            "contact": ("contact_tag", "contact_id")}[self.entity]
            self.existing_links[self.entity] = {
                r for (r,) in c.execute(f"SELECT ({column} << 32) + tag_id FROM {link}")}

    def _load_table(self, entity: str, index: Callable[[int, list[Any]], None]) -> None:
        t = self.tables[entity]
        cols = COLS[entity]
        # SQLite hands out a new string for every cell; dates, sources and currencies repeat, so
        # share them (100,000 deals: about 40 MB less)
        shared = [i for i, c in enumerate(cols) if c in _REPEATING and (c, entity) != ("title", "deal")]
        memo: dict[Any, Any] = {}
        for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM {entity} WHERE deleted_at IS NULL ORDER BY id"):
            if shared:
                values = list(row)
                for i in shared:
                    v = values[i]
                    values[i] = memo.setdefault(v, v)
                row = tuple(values)
            # rows[id] is the loaded tuple until something changes it (then a list): re-importing
            # 100,000 unchanged deals copies none of them
            t.original[row[0]] = row
            t.rows[row[0]] = row
            index(row[0], row)
        t.next_id = t.first_new = self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {entity}").fetchone()[0] + 1

    def _index_company(self, cid: int, row: list[Any]) -> None:
        p = _POS["company"]
        if row[p["external_id"]]:
            self.co_by_ext.setdefault(row[p["external_id"]], cid)
        if row[p["domain"]]:
            self.co_by_domain.setdefault(row[p["domain"]].casefold(), cid)
        self.co_by_name.setdefault(V.name_key(row[p["name"]]), cid)
        same_base = self.co_by_base.setdefault(V.base_key(row[p["name"]]), [])
        if cid not in same_base:
            same_base.append(cid)
        self.co_by_name_domain.setdefault((V.name_key(row[p["name"]]), row[p["domain"]] or "", row[p["external_id"]] or ""),
                                          cid)

    def _index_contact(self, cid: int, row: list[Any]) -> None:
        p = _POS["contact"]
        if row[p["external_id"]]:
            self.ct_by_ext.setdefault(row[p["external_id"]], cid)
        if row[p["email"]]:
            self.ct_by_email.setdefault(V.email_key(row[p["email"]]), cid)
        self.ct_by_name.setdefault((V.person_key(row[p["name"]]), row[p["company_id"]]), cid)

    def _index_deal(self, did: int, row: list[Any]) -> None:
        self._index_loaded_deal(did, row)
        self._add_key(self._deal_key(row), did)

    def _index_loaded_deal(self, did: int, row: list[Any] | tuple[Any, ...]) -> None:
        """A deal as loaded: its key goes into dl_by_key when that is built (`_index_keys`)."""
        ext = row[_EXT]
        if ext:
            self.dl_by_ext.setdefault(ext, did)

    @staticmethod
    def _deal_key(row: list[Any] | tuple[Any, ...]) -> tuple[str, int | None, int | None]:
        p = _POS["deal"]
        company = row[p["company_id"]]
        return V.title_key(row[p["title"]]), company, None if company else row[p["contact_id"]]

    def _index_keys(self) -> None:
        """Build dl_by_key: the loaded deals' keys in id order, then those given since, as if
        each had been added when it came."""
        log, self._key_log = self._key_log or [], None
        for did, row in self.tables["deal"].original.items():  # (loaded in id order)
            self._add_key(self._deal_key(row), did)
        for key, did in log:
            self._add_key(key, did)

    def _add_key(self, key: tuple[str, int | None, int | None], did: int) -> None:
        if self._key_log is not None:
            self._key_log.append((key, did))
            return
        same = self.dl_by_key.get(key)
        if same is None:
            self.dl_by_key[key] = did
        elif type(same) is int:
            if same != did:
                self.dl_by_key[key] = [same, did]
        elif did not in same:
            same.append(did)

    # --- the rows -------------------------------------------------------------------------------

    def _start_rows(self) -> None:
        # The function, not a bound method: a method kept on the planner would make a reference
        # cycle, and all the planner holds (100,000 rows' keys and caches) would wait for the
        # cyclic GC, which then took 0.14 s to find it after a re-import of 100,000 deals.
        self._handler = {"deal": Planner._deal_row, "company": Planner._company_row,
                         "contact": Planner._contact_row}[self.entity]
        self._width = len(self.mapping.header)
        self._pad = [""] * (self._width + 1)
        # From the first date that could be day/month or month/day until a date tells which, rows
        # are held, then planned in the file's order: a later row of the same deal still wins.
        self._held: list[tuple[int, list[str]]] = []
        self._date_ix = [self.ix[name] for name in ("expected_close", "closed_on", "created_at", "stage_entered_at")
                         if name in self.ix] if self.entity == "deal" else []
        self._rows = data_rows(self.csv)

    def _read_rows(self) -> None:
        """The file's rows from where reading stands (a planning child goes on from the row where
        its parent forked, see `stream`)."""
        try:
            for line, fields in self._rows:
                self._read_row(line, fields)
                if self.handover is not None and not self.plan.rows_read & HAND_OVER_MASK:
                    self._hand_over()
        except UnclosedQuote as exc:  # the file's last row, with the rest of the file in one value
            self.plan.rows_read += 1
            header = self.mapping.header
            self._reject(exc.line, exc.fields, header[exc.column] if exc.column < len(header) else None, None,
                         exc.reason)

    def _read_row(self, line: int, fields: list[str]) -> None:
        self.plan.rows_read += 1
        if self.progress is not None and self.plan.rows_read % 2000 == 0:
            self.progress(line)
        if not self._held:
            self._plan_row(line, fields)
            return
        self._held.append((line, fields))
        if self._tells_date_order(fields):
            held, self._held = self._held, []
            for held_line, held_fields in held:
                self._plan_row(held_line, held_fields)

    def _tells_date_order(self, fields: list[str]) -> bool:
        for i in self._date_ix:
            if i < len(fields) and fields[i] and (hint := V.date_hint(fields[i])):
                self.order = hint
                return True
        return False

    def _plan_row(self, line: int, fields: list[str], last: bool = False) -> None:
        """One row into the plan, or into the rejects. With `last`, a date that could still be
        either order is an error; before, the row waits for a later one to tell (`_held`)."""
        width = self._width
        n = len(fields)
        if n > width and any(f.strip() for f in fields[width:]):
            self._reject(line, fields, None, None, f"has {n} fields but the header has {width} (a stray delimiter?)")
            return
        cells = fields[:width] + self._pad[n:] if n <= width else fields[:width] + [""]
        if "'" in "".join(cells):
            cells = [_unguard(c) for c in cells]
        try:
            self._handler(self, line, cells)
        except RowError as exc:
            reason = exc.reason
            if isinstance(exc.__cause__, AmbiguousDate) and self.order is None:
                if not last:
                    self._held.append((line, fields))
                    return
                reason = f"{exc.value!r} could be day/month or month/day; give --date-order dmy or mdy"
            self._reject(line, fields, exc.column, exc.value, reason)

    def _after_rows(self) -> None:
        """The rows still held (no date told the day/month order); the rejects in order."""
        held, self._held = self._held, []
        for line, fields in held:
            self._plan_row(line, fields, last=True)
        self.plan.rejects.sort(key=lambda r: r.line)
        self.plan.date_order = self.order
        if self.progress is not None:
            self.progress(-1)

    def _reject(self, line: int, fields: list[str], column: str | None, value: str | None, reason: str) -> None:
        where = f"line {line}" + (f", column {column!r}" if column else "")
        self.plan.rejects.append(Reject(line, fields, f"{where}: {reason}"))

    def _cell(self, fields: list[str], name: str) -> str:
        # rows are padded to the header's width plus one empty cell, which unmapped fields read (-1)
        return fields[self.ix.get(name, -1)]

    def _parse(self, fields: list[str], name: str, parser: Callable[..., Any], *args: Any) -> Any:
        raw = fields[self.ix.get(name, -1)]
        if not raw:
            return None
        try:
            return parser(raw, *args)
        except (ValidationError, ValueError) as exc:  # ValueError: a library parser's own complaint
            message = exc.message if isinstance(exc, ValidationError) else f"{raw.strip()!r}: {exc}"
            # "amount: '12,5x' is not an amount" -> "'12,5x' is not an amount"
            if ": " in message and not message.startswith("'") and message.split(": ", 1)[0].replace(" ", "").isalpha():
                message = message.split(": ", 1)[1]
            raise RowError(self.mapping.header_of(name), raw, message) from exc

    def _date(self, fields: list[str], name: str, parser: Callable[..., Any] = V.date) -> str | None:
        raw = fields[self.ix.get(name, -1)]
        if not raw:
            return None
        if self.order is None:
            hint = V.date_hint(raw)
            if hint:
                self.order = hint
        return self._parse(fields, name, parser, self.order)

    def _text(self, fields: list[str], name: str, max_len: int = 10_000_000) -> str | None:
        raw = fields[self.ix.get(name, -1)]
        value = raw.strip() if raw else None
        if value and len(value) > max_len:
            raise RowError(self.mapping.header_of(name), value[:20] + "…", f"longer than {max_len} characters")
        return value or None

    def _tags(self, fields: list[str]) -> tuple[str, ...]:
        return self._parse(fields, "tags", V.tags) or ()

    # --- companies ------------------------------------------------------------------------------

    def company_for(self, name: str | None, domain: str | None, values: dict[str, Any] | None = None,
                    ext: str | None = None, create: bool = True, only_empty: bool = False) -> int | None:
        """The id of the matching company (updated with `values`), created when new. With
        `only_empty` (a deal's or contact's row naming its company) known columns are kept."""
        cid = self.co_by_ext.get(ext) if ext else None
        if cid is None and domain:
            cid = self.co_by_domain.get(domain)
        key = V.name_key(name)
        t = self.tables["company"]
        if cid is None and key:
            cid = self.co_by_name.get(key)
            if cid is None:
                cid = self._by_base(key, V.base_key(name))
            if cid is not None:
                found = t.rows[cid]
                pos = _POS["company"]
                if (domain and found[pos["domain"]] and found[pos["domain"]] != domain) or (
                        ext and found[pos["external_id"]] and found[pos["external_id"]] != ext):
                    cid = self.co_by_name_domain.get((key, domain or "", ext or ""))
        fill = {"name": name, "domain": domain, **(values or {})}
        if ext:
            fill["external_id"] = ext
        if cid is None:
            if not name or not create:
                return None
            cid = t.next_id
            t.next_id += 1
            row = [None] * len(COMPANY_COLS)
            row[0] = cid
            row[_POS["company"]["created_at"]] = self.now
            row[_POS["company"]["updated_at"]] = self.now
            t.rows[cid] = row
            self._merge("company", cid, fill)
        else:
            self._merge("company", cid, fill, only_empty)
        self._index_company(cid, t.rows[cid])
        if cid < t.first_new:
            t.touched.add(cid)
        return cid

    def _by_base(self, key: str, base: str) -> int | None:
        """`Acme` finds the one `Acme Inc`, `Acme Inc` the one `Acme`; nothing when that is not
        one company, or when both names carry a legal form (`Acme Ltd` is not `Acme GmbH`)."""
        pos = _POS["company"]["name"]
        rows = self.tables["company"].rows
        found = [c for c in self.co_by_base.get(base, ()) if key == base or V.name_key(rows[c][pos]) == base]
        return found[0] if len(found) == 1 else None

    def _merge(self, entity: str, rid: int, fill: dict[str, Any], only_empty: bool = False) -> None:
        t = self.tables[entity]
        row = t.rows[rid]
        pos = _POS[entity]
        existing = rid in t.original
        identity = _IDENTITY[entity]
        changes = []
        for column, value in fill.items():
            if value is None:
                continue
            i = pos[column]
            current = row[i]
            if current == value:
                continue
            if current is not None and (only_empty or column in identity):
                continue  # the name a record was first known by stays
            changes.append((i, value))
        if type(row) is tuple:
            if not changes and row is t.original.get(rid):
                return
            row = t.rows[rid] = list(row)
        for i, value in changes:
            row[i] = value
        if changes and entity in self._sent_to and t.first_new <= rid < self._sent_to[entity]:
            self._rewritten[entity].add(rid)  # written already (`stream`): write it again at the end
        if existing:
            original = t.original[rid]
            # updated_at is the last column of every table: compare the others
            if tuple(row[:-1]) != original[:-1]:
                t.dirty.add(rid)
                row[-1] = self.now
            else:
                t.dirty.discard(rid)
                row[-1] = original[-1]

    def _company_row(self, line: int, fields: list[str]) -> None:
        name = self._text(fields, "name", 200)
        if not name:
            raise RowError(self.mapping.header_of("name"), "", "the company name is empty")
        website = self._parse(fields, "website", V.url)
        domain_raw = self._cell(fields, "domain")
        domain = V.domain_of(domain_raw) if domain_raw.strip() else None
        if domain_raw.strip() and domain is None:
            raise RowError(self.mapping.header_of("domain"), domain_raw, f"{domain_raw.strip()!r} is not a domain name")
        email = self._parse(fields, "email", V.email)
        domain = domain or V.domain_of(website) or V.company_domain_from_email(email)
        values = {
            "website": website, "email": email, "phone": self._text(fields, "phone", 100),
            "address": self._text(fields, "address", 500), "source": self._text(fields, "source", 100),
            "category": self._text(fields, "category", 100), "size": self._text(fields, "size", 100),
            "notes": self._text(fields, "notes"),
        }
        tags = self._tags(fields)
        ext = self._text(fields, "external_id", 200)
        before = self.tables["company"].next_id
        cid = self.company_for(name, domain, values, ext)
        self._count_merge("company", cid, before)
        self._link_tags("company", cid, tags)

    def _count_merge(self, entity: str, rid: int | None, next_before: int) -> None:
        """A row that lands on a record planned earlier in this file was merged into it."""
        t = self.tables[entity]
        if rid is not None and rid >= t.first_new and rid < next_before:
            self.plan.merged_rows += 1

    # --- contacts -------------------------------------------------------------------------------

    def contact_for(self, name: str | None, email: str | None, company_id: int | None,
                    values: dict[str, Any] | None = None, ext: str | None = None) -> int | None:
        cid = self.ct_by_ext.get(ext) if ext else None
        ekey = V.email_key(email)
        if cid is None and ekey:
            cid = self.ct_by_email.get(ekey)
        pkey = V.person_key(name)
        if cid is None and pkey:
            cid = self.ct_by_name.get((pkey, company_id))
            if cid is None and company_id is not None:
                found = self.ct_by_name.get((pkey, None))
                # a person known without a company, now seen with one: the same person
                if found is not None and not (self.tables["contact"].rows[found][_POS["contact"]["email"]] and ekey):
                    cid = found
        t = self.tables["contact"]
        fill = {"name": name or (email.split("@")[0] if email else None), "email": email, "company_id": company_id,
                **(values or {})}
        if ext:
            fill["external_id"] = ext
        if cid is None:
            if not fill["name"]:
                return None
            cid = t.next_id
            t.next_id += 1
            row = [None] * len(CONTACT_COLS)
            row[0] = cid
            row[_POS["contact"]["created_at"]] = self.now
            row[_POS["contact"]["updated_at"]] = self.now
            t.rows[cid] = row
            self._merge("contact", cid, fill)
        else:
            row = t.rows[cid]
            if row[_POS["contact"]["company_id"]] is not None:
                fill["company_id"] = None  # keep the company a known contact has
            if row[_POS["contact"]["email"]] is not None and ekey == V.email_key(row[_POS["contact"]["email"]]):
                fill["email"] = None  # same address, maybe another case: keep it as stored
            self._merge("contact", cid, fill)
        self._index_contact(cid, t.rows[cid])
        if cid < t.first_new:
            t.touched.add(cid)
        return cid

    def _contact_row(self, line: int, fields: list[str]) -> None:
        name = self._text(fields, "name", 200)
        if not name:
            parts = [self._text(fields, f, 100) for f in ("first_name", "middle_name", "last_name")]
            name = " ".join(p for p in parts if p) or None
        email = self._parse(fields, "email", V.email)
        if not name and not email:
            raise RowError(None, None, "the contact has neither a name nor an email address")
        company_name = self._text(fields, "company", 200)
        website = self._parse(fields, "website", V.url)
        values = {"phone": self._text(fields, "phone", 100), "title": self._text(fields, "title", 200),
                  "notes": self._text(fields, "notes")}
        tags = self._tags(fields)
        ext = self._text(fields, "external_id", 200)
        company_id = None
        if company_name or website:
            domain = V.domain_of(website) if website else None
            company_id = self.company_for(company_name, domain, {"website": website} if website else None,
                                          only_empty=True)
        before = self.tables["contact"].next_id
        cid = self.contact_for(name, email, company_id, values, ext)
        self._count_merge("contact", cid, before)
        self._link_tags("contact", cid, tags)

    # --- deals ----------------------------------------------------------------------------------

    def _stage_for(self, fields: list[str], pipeline_id: int, line: int) -> tuple[int, int | None]:
        """(stage id, the open stage it went through first or None) from the stage and status cells."""
        raw_stage = self._cell(fields, "stage").strip()
        status = self._parse(fields, "status", V.status)
        stages = self.stages.get(pipeline_id, {})
        kinds = self.kind_stage.get(pipeline_id, {})
        stage = None
        if raw_stage:
            key = " ".join(raw_stage.casefold().split())
            found = stages.get(key)
            if found is None:
                compact = re.sub(r"[\W_]+", "", key)
                kind = {"closedwon": "won", "won": "won", "closedlost": "lost", "lost": "lost"}.get(compact)
                if kind and kind in kinds:
                    found = (kinds[kind], kind)
            if found is None:
                found = self._unknown_stage(pipeline_id, raw_stage, line)
            stage = found
        if status and status != "open":
            if stage is not None and stage[1] == status:
                return stage[0], None
            if status not in kinds:
                raise RowError(self.mapping.header_of("status"), self._cell(fields, "status"),
                               f"pipeline {self.pipeline_names[pipeline_id]!r} has no {status} stage")
            through = stage[0] if stage is not None and stage[1] == "open" else None
            return kinds[status], through
        if stage is not None:
            return stage[0], None
        if pipeline_id not in self.first_open:
            raise RowError(None, None, f"pipeline {self.pipeline_names[pipeline_id]!r} has no open stage")
        return self.first_open[pipeline_id], None

    def _unknown_stage(self, pipeline_id: int, name: str, line: int) -> tuple[int, str]:
        key = (pipeline_id, " ".join(name.casefold().split()))
        self.plan.unknown_stages.setdefault(key, (line, " ".join(name.split())))
        if not self.options.create_stages:
            return (0, "open")  # the import stops before writing (unknown stages are listed)
        sid = self.next_stage_id
        self.next_stage_id += 1
        after, prob = self.last_open.get(pipeline_id, (-1, 0))
        shift_after, count = self.plan.stage_shifts.get(pipeline_id, (after, 0))
        position = shift_after + count + 1
        self.plan.stage_shifts[pipeline_id] = (shift_after, count + 1)
        clean = " ".join(name.split())
        self.plan.new_stages.append((sid, pipeline_id, clean, position, prob))
        self.stages.setdefault(pipeline_id, {})[key[1]] = (sid, "open")
        self.stage_kind[sid] = "open"
        return (sid, "open")

    def _same_deal(self, key: tuple[str, int | None, int | None], row_id: str | None) -> int | None:
        """The deal a row without an external id means: the first with its title and customer not
        yet matched by another row of this file. When all are taken, rows that carry different
        ids (crmtui's own export has an `id` column) are different deals; otherwise the row
        repeats one seen earlier and merges into it."""
        if self._key_log is not None:
            self._index_keys()
        candidates = self.dl_by_key.get(key)
        if candidates is None:
            return None
        if type(candidates) is int:
            candidates = [candidates]
        first_new = self.tables["deal"].first_new
        for did in candidates:
            if did < first_new and did not in self.claimed:
                return did
        if row_id is not None and all(self._claimant(d) != row_id for d in candidates):
            return None
        return candidates[0]

    def _claimant(self, did: int) -> str | None:
        """The id of the file row that a deal was matched or created by."""
        if did in self.claimed:
            return self.claimed[did]
        return self.tables["deal"].rows[did][_POS["deal"]["external_id"]]

    _DEAL_INPUTS = ("title", "amount", "cost", "currency", "expected_close", "closed_on", "created_at",
                    "stage_entered_at", "confidence", "proposal_url", "contact_email", "website", "tags", "pipeline",
                    "stage", "status", "source", "lost_reason", "notes", "external_id", "company", "contact")

    def _value(self, name: str, parser: Callable[..., Any], raw: str, *args: Any) -> Any:
        """`parser(raw)`, its error turned into a RowError naming the column."""
        try:
            return parser(raw, *args)
        except (ValidationError, ValueError) as exc:  # ValueError: a library parser's own complaint
            raise self._row_error(name, raw, exc) from exc

    def _row_error(self, name: str, raw: str, exc: Exception) -> RowError:
        message = exc.message if isinstance(exc, ValidationError) else f"{raw.strip()!r}: {exc}"
        if ": " in message and not message.startswith("'") and message.split(": ", 1)[0].replace(" ", "").isalpha():
            message = message.split(": ", 1)[1]
        return RowError(self.mapping.header_of(name), raw, message)

    def _hint(self, raw: str) -> None:
        hint = V.date_hint(raw)
        if hint:
            self.order = hint

    def _deal_row(self, line: int, fields: list[str]) -> None:
        # one pass over the cells (unmapped fields read the empty cell at -1), parsers only for values
        (r_title, r_amount, r_cost, r_currency, r_expected, r_closed, r_created, r_entered, r_confidence,
         r_proposal, r_email, r_website, r_tags, r_pipeline, r_stage, r_status, r_source, r_lost, r_notes, r_ext,
         r_company, r_contact) = self._pick_deal(fields)
        title = " ".join(r_title.split())
        if not title:
            raise RowError(self.mapping.header_of("title"), "", "the deal title is empty")
        if len(title) > 200:
            raise RowError(self.mapping.header_of("title"), title[:20] + "…", "longer than 200 characters")
        # The cells in order, each parser's error naming its column (`name`); inline rather than
        # one helper call per cell: 100,000 rows x 8 cells.
        name = "amount"
        try:
            cents, written_currency = V.amount(r_amount) if r_amount else (None, None)
            name = "cost"
            cost = V.amount(r_cost) if r_cost else None
            name = "currency"
            currency = (V.currency(r_currency) if r_currency else None) or written_currency
            if currency == self.default_currency:
                currency = None
            expected = closed_on = created_at = entered_at = None
            if r_expected:
                name = "expected_close"
                if self.order is None:
                    self._hint(r_expected)
                expected = V.date(r_expected, self.order)
            if r_closed:
                name = "closed_on"
                if self.order is None:
                    self._hint(r_closed)
                closed_on = V.date(r_closed, self.order)
            if r_created:
                name = "created_at"
                if self.order is None:
                    self._hint(r_created)
                created_at = V.timestamp(r_created, self.order)
            if r_entered:
                name = "stage_entered_at"
                if self.order is None:
                    self._hint(r_entered)
                entered_at = V.timestamp(r_entered, self.order)
            name = "confidence"
            confidence = V.confidence(r_confidence) if r_confidence else None
            name = "proposal_url"
            proposal = V.url(r_proposal) if r_proposal else None
            name = "contact_email"
            contact_email = V.email(r_email) if r_email else None
            name = "website"
            website = V.url(r_website) if r_website else None
            name = "tags"
            tags = V.tags(r_tags) if r_tags else ()
        except (ValidationError, ValueError) as exc:  # ValueError: a library parser's own complaint
            raise self._row_error(name, self._cell(fields, name), exc) from exc
        pipeline_id = self.default_pipeline
        raw_pipeline = r_pipeline.strip()
        if raw_pipeline:
            pipeline_id = self.pipelines.get(raw_pipeline.casefold())
            if pipeline_id is None:
                names = ", ".join(self.pipeline_names[p] for p in self.pipelines.values())
                raise RowError(self.mapping.header_of("pipeline"), raw_pipeline,
                               f"unknown pipeline {raw_pipeline!r} (pipelines: {names})")
        sk = (pipeline_id, r_stage, r_status)
        found_stage = self._stage_cache.get(sk)
        if found_stage is None:
            found_stage = self._stage_cache[sk] = self._stage_for(fields, pipeline_id, line)
        stage_id, through = found_stage
        kind = self.stage_kind.get(stage_id, "open")
        if kind == "open":
            closed_on = None
        elif closed_on and closed_on > self.today:
            if closed_on > self.tomorrow:
                raise RowError(self.mapping.header_of("closed_on"), r_closed.strip(),
                               f"{r_closed.strip()!r} is after today ({self.today}); a {kind} deal has closed already")
            closed_on = self.today  # (written in a time zone where it is tomorrow already)
        source = r_source.strip() or None
        lost_reason = r_lost.strip() or None
        notes = r_notes.strip() or None
        ext = r_ext.strip() or None
        company_name = r_company.strip() or None
        contact_name = r_contact.strip() or None
        if source is not None:
            source = self._shared.setdefault(source, source)  # a few sources on 100,000 rows: one string each
        if max(len(r_company), len(r_contact), len(r_source), len(r_lost), len(r_ext)) > 200:
            for name, value in (("company", company_name), ("contact", contact_name), ("source", source),
                                ("lost_reason", lost_reason), ("external_id", ext)):
                if value and len(value) > 200:
                    raise RowError(self.mapping.header_of(name), value[:20] + "…", "longer than 200 characters")

        # Every value is valid: now find or plan the linked records. Big files name the same
        # customer on many rows; finding it again with the same cells gives the same answer.
        company_id = None
        if company_name or website:
            ck = (company_name, website)
            company_id = self._company_cache.get(ck)
            if company_id is None:
                company_id = self.company_for(company_name, V.domain_of(website) if website else None,
                                              {"website": website} if website else None, only_empty=True)
                self._company_cache[ck] = company_id
        if company_id is None and contact_email and not company_name:
            company_id = self.co_by_domain.get(V.company_domain_from_email(contact_email) or "")
        contact_id = None
        if contact_name or contact_email:
            pk = (contact_name, contact_email, company_id)
            found = self._contact_cache.get(pk)
            if found is None:
                contact_id = self.contact_for(contact_name, contact_email, company_id)
                if company_id is None and contact_id is not None:
                    company_id = self.tables["contact"].rows[contact_id][_POS["contact"]["company_id"]]
                self._contact_cache[pk] = (contact_id, company_id)
            else:
                contact_id, company_id = found

        t = self.tables["deal"]
        did = self.dl_by_ext.get(ext) if ext else None
        key = (title.casefold(), company_id, None if company_id else contact_id)
        row_id = ext or fields[self._plain_id_ix].strip() or None
        # Most rows of a big file name a deal no other has the key of: no matching call for them.
        fresh_key = did is None and self._key_log is None and key not in self.dl_by_key
        if did is None and not fresh_key:
            did = self._same_deal(key, row_id)
        if did is not None and did not in self.claimed:
            if row_id is not None and row_id == t.rows[did][_EXT]:
                row_id = t.rows[did][_EXT]  # the same text: keep one copy, not the file's as well
            self.claimed[did] = row_id
        if kind != "lost":
            lost_reason = None
        cost_cents = cost[0] if cost else None
        p = _POS["deal"]
        if did is None:
            did = t.next_id
            t.next_id += 1
            created = created_at or self.now
            if kind != "open" and not closed_on:
                # a closed deal's "Close Date" (HubSpot, Salesforce) is the day it closed; one still
                # ahead was only expected, and the deal closed early: by today at the latest
                if expected and expected <= self.today:
                    closed_on = expected
                else:
                    closed_on = min((entered_at or (self.today if expected else created))[:10], self.today)
            if entered_at:
                entered = entered_at
            elif closed_on and kind != "open":
                entered = f"{closed_on} 00:00:00.000000"
                entered = self._shared.setdefault(entered, entered)
            else:
                entered = created
            if entered < created:
                entered = created
            # in DEAL_COLS order
            t.rows[did] = [did, title, company_id, contact_id, pipeline_id, stage_id, entered, cents or 0, cost_cents,
                           currency, confidence, expected, closed_on, source, lost_reason, proposal, notes, ext,
                           created, self.now]
            if through is not None:
                self._through[did] = through
            if ext:
                self.dl_by_ext[ext] = did
            if fresh_key:
                self.dl_by_key[key] = did  # (what `_add_key` does for a key not seen yet)
            else:
                self._add_key(key, did)
            if row_id is not None and not ext:
                self.claimed[did] = row_id  # (with an external id the row keeps it)
            if tags:
                ids = self._tag_cache.get(tags)
                if ids is not None:  # (what `_link_tags` does for a new deal with tags seen before)
                    self._new_link_set.setdefault("deal", []).extend([(did, tid) for tid in ids])
                else:
                    self._link_tags("deal", did, tags)
            return
        row = t.rows[did]
        if (row is t.original.get(did) and row[p["stage_id"]] == stage_id
                and (kind == "open" or not closed_on or row[p["closed_on"]] == closed_on)
                and _pick_fill(row) == (title, company_id, contact_id, cents, cost_cents, currency, confidence,
                                        expected, source, lost_reason, proposal, notes, ext)):
            # A loaded deal the row repeats as it is (re-importing a file): what `_merge` would
            # find, in one tuple comparison (100,000 unchanged deals: ~0.2 s less).
            # (its key is the one it was loaded with: dl_by_key has it, or will)
            if ext:
                self.dl_by_ext[ext] = did
            t.touched.add(did)
            self._link_tags("deal", did, tags)
            return
        fill: dict[str, Any] = {
            "title": title, "company_id": company_id, "contact_id": contact_id, "amount_cents": cents,
            "cost_cents": cost_cents, "currency": currency, "confidence": confidence,
            "expected_close": expected, "source": source, "lost_reason": lost_reason,
            "proposal_url": proposal, "notes": notes, "external_id": ext,
        }
        is_new = did >= t.first_new
        if is_new:
            self.plan.merged_rows += 1
            if did < self._streamed_to:
                self._rewrite.add(did)  # written already: write it again when the file is done
        if row[p["stage_id"]] != stage_id and self._cell(fields, "stage").strip() + self._cell(fields, "status").strip():
            fill["pipeline_id"] = pipeline_id
            fill["stage_id"] = stage_id
            when = entered_at or self.now
            fill["closed_on"] = (closed_on or self.today) if kind != "open" else None
            stored = t.original.get(did)
            if stored is not None and stored[p["stage_id"]] == stage_id and not entered_at:
                # Back to the stage it has in the database (an earlier row of this file moved it):
                # since then as before, so that importing the file again changes nothing.
                when = stored[p["stage_entered_at"]]
                fill["closed_on"] = (closed_on or stored[p["closed_on"]]) if kind != "open" else None
            fill["stage_entered_at"] = when
            if type(row) is tuple:
                row = t.rows[did] = list(row)
            if kind == "open":
                row[p["closed_on"]] = None  # back to an open stage: not closed any more
            if kind != "lost":
                row[p["lost_reason"]] = None
            if is_new:
                if through is not None:
                    self._through[did] = through
                else:
                    self._through.pop(did, None)
            else:
                previous = self._moved.get(did)
                self._moved[did] = (previous[0] if previous else row[p["stage_id"]], stage_id, when)
        elif kind != "open" and closed_on:
            fill["closed_on"] = closed_on
        self._merge("deal", did, fill)
        row = t.rows[did]
        if row is not t.original.get(did):
            # (a loaded row that nothing changed was indexed by these very values when loaded)
            self._index_deal(did, row)
        if ext:
            self.dl_by_ext[ext] = did
        self._add_key(key, did)
        if not is_new:
            t.touched.add(did)
        self._link_tags("deal", did, tags)

    _through: dict[int, int]  # new deal -> the open stage it passed before its won/lost stage
    _stage_cache: dict[tuple[int, str, str], tuple[int, int | None]]
    _tag_cache: dict[tuple[str, ...], list[int]]
    _company_cache: dict[tuple[str | None, str | None], int | None]
    _contact_cache: dict[tuple[str | None, str | None, int | None], tuple[int | None, int | None]]
    _moved: dict[int, tuple[int, int, str]]
    _shared: dict[str, str]

    # --- tags -----------------------------------------------------------------------------------

    def _link_tags(self, entity: str, rid: int | None, tags: tuple[str, ...]) -> None:
        if rid is None or not tags:
            return
        t = self.tables[entity]
        existing = rid < t.first_new
        ids = self._tag_cache.get(tags)
        if ids is not None:
            if not existing:
                self._new_link_set.setdefault(entity, []).extend([(rid, tid) for tid in ids])
                return
            links = self.existing_links.get(entity, ())
            base = rid << 32
            for tid in ids:
                if base + tid not in links:
                    break
            else:
                return  # a known record that has these tags already (re-importing a file)
        ids = []
        for name in tags:
            key = name.casefold()
            tid = self.tag_ids.get(key)
            ids.append(tid)
            if tid is None:
                tid = self.next_tag_id
                self.next_tag_id += 1
                self.tag_ids[key] = tid
                self.plan.new_tags[key] = (tid, name)
                ids[-1] = tid
            pair = (rid, tid)
            if existing:
                links = self.existing_links.setdefault(entity, set())
                packed = (rid << 32) + tid
                if packed not in links:
                    links.add(packed)
                    self.plan.linked_existing.setdefault(entity, []).append(pair)
                    t.tagged.add(rid)
            else:
                self._new_link_set.setdefault(entity, []).append(pair)
        self._tag_cache[tags] = ids

    _new_link_set: dict[str, list[tuple[int, int]]]  # may repeat a pair (INSERT OR IGNORE)

    def complete(self) -> Plan:
        """Plan every row of the file (touches no database: the loading was done)."""
        # 100,000 rows make millions of small objects and no cycles: the cyclic GC would only rescan them
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._start_rows()
            return self.go_on()
        except PlannedElsewhere as elsewhere:  # this process wrote while a child planned
            return elsewhere.plan
        finally:
            if was_enabled:
                gc.enable()

    def go_on(self) -> Plan:
        """Plan the rest of the file, from the row reading stands at."""
        self._read_rows()
        self._after_rows()
        return self.finish()

    def hand_over_to(self, handover: Handover) -> None:
        """Hand new deals over once there are enough (deal files only): see `Handover`."""
        if self.entity == "deal":
            self.handover = handover

    def finish(self) -> Plan:
        """Turn what was collected into the plan's insert lists (what was not handed over)."""
        plan = self.plan
        if self._streaming:
            self._finish_stream()
        plan.new_links = self._new_link_set
        t = self.tables["deal"]
        changes = self._changes_for(range(self._streamed_to, t.next_id))
        p = _POS["deal"]
        rows, original = t.rows, t.original
        for did, (old, new, when) in sorted(self._moved.items()):
            if rows[did][p["stage_id"]] != original[did][p["stage_id"]]:
                changes.append((did, old, new, when))
        plan.stage_changes = changes
        return plan

    def _changes_for(self, deal_ids: range | list[int]) -> list[tuple[int, int | None, int, str]]:
        rows = self.tables["deal"].rows
        return stage_history([rows[did] for did in deal_ids], self._through)

    # --- handing new deals to the writer while planning (see `stream`) --------------------------

    _streamed_to: int  # new deals below this id were handed over
    _streaming: bool
    _links_sent: int  # of _new_link_set["deal"]
    _next_change: int
    _rewrite: set[int]
    _sent_to: dict[str, int]
    _rewritten: dict[str, set[int]]

    def _doomed(self) -> bool:
        """The import will stop before writing (`apply._check`): writing more is wasted."""
        return bool((self.plan.rejects and not self.options.skip_invalid)
                    or (self.plan.unknown_stages and not self.options.create_stages))

    def _hand_over(self, final: bool = False) -> None:
        handover = self.handover
        if handover is None:
            return
        if self._doomed():
            self.handover = None
            return
        t = self.tables["deal"]
        start, stop = self._streamed_to, t.next_id
        if not self._streaming:
            if final or stop - t.first_new < handover.threshold:
                return
            self._streaming = True
            handover.begin(self)
            if self.send is None:  # it could not start (no process to fork): plan here, as for a small file
                self._streaming = False
                self.handover = None
                return
        if stop - start < CHUNK_ROWS and not (final and self._unsent()):
            return
        links = self._new_link_set.get("deal", [])
        rows = [t.rows[did] for did in range(start, stop)]
        through, first = self._reserve_changes(rows)
        chunk = DealChunk(rows, through, first, links[self._links_sent:],
                          companies=self._new_since("company"), contacts=self._new_since("contact"))
        self._links_sent = len(links)
        self._streamed_to = stop
        assert self.send is not None, "Handover.begin sets where chunks go"
        self.send(chunk)

    def _unsent(self) -> bool:
        return self._streamed_to < self.tables["deal"].next_id or any(
            self._sent_to[entity] < self.tables[entity].next_id for entity in self._sent_to)

    def _new_since(self, entity: str) -> list[list[Any]]:
        """The `entity` records planned since the last hand-over (marked as handed over)."""
        t = self.tables[entity]
        start, self._sent_to[entity] = self._sent_to[entity], t.next_id
        return [t.rows[rid] for rid in range(start, t.next_id)]

    def _reserve_changes(self, rows: list[list[Any]]) -> tuple[dict[int, int], int]:
        """For a hand-over of `rows`: the open stages they passed (`stage_history`), and the id of
        their first stage change; the ids after it are theirs (one change each, two for a deal
        that passed an open stage)."""
        through_of = self._through
        through = {row[0]: through_of[row[0]] for row in rows if row[0] in through_of} if through_of else {}
        first = self._next_change
        self._next_change += len(rows) + sum(1 for row in rows if row[0] in through and through[row[0]] != row[_STAGE])
        return through, first

    def _finish_stream(self) -> None:
        """Hand over the last new deals, and again those that later rows changed."""
        self._hand_over(final=True)
        if self.handover is None:  # doomed: the import stops before writing
            self.plan.stream_broken = True
            return
        rows = self.tables["deal"].rows
        rewrite = sorted(self._rewrite)
        co, ct = (self.tables[e].rows for e in ("company", "contact"))
        companies = [co[rid] for rid in sorted(self._rewritten["company"])]
        contacts = [ct[rid] for rid in sorted(self._rewritten["contact"])]
        if rewrite or companies or contacts:
            assert self.send is not None
            again = [rows[did] for did in rewrite]
            self.send(DealChunk(again, *self._reserve_changes(again), [], companies=companies,
                                contacts=contacts, rewrite=True))
        self.plan.streamed_from_change = self.plan.first_stage_change
        self.plan.first_stage_change = self._next_change
        self._new_link_set["deal"] = self._new_link_set.get("deal", [])[self._links_sent:]


def start_plan(conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping, options: ImportOptions,
               progress: Callable[[int], None] | None = None) -> Planner:
    """A planner that has read what exists (the database's part); `complete` reads the file."""
    planner = Planner(conn, csv_text, mapping, options, progress)
    planner._streamed_to = planner.tables["deal"].first_new
    planner._streaming = False
    planner._links_sent = 0
    planner._next_change = planner.plan.first_stage_change
    planner._rewrite = set()
    # companies and contacts go with the deals (`stream`): below these ids they were handed over
    planner._sent_to = {e: planner.tables[e].first_new for e in ("company", "contact")}
    planner._rewritten = {e: set() for e in ("company", "contact")}
    planner._through = {}
    planner._moved = {}
    planner._new_link_set = {}
    planner._company_cache = {}
    planner._stage_cache = {}
    planner._tag_cache = {}
    planner._contact_cache = {}
    planner._shared = {}
    return planner


def make_plan(conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping, options: ImportOptions,
              progress: Callable[[int], None] | None = None) -> Plan:
    """Read every row of the file and decide what the import would do (reads the database only)."""
    return start_plan(conn, csv_text, mapping, options, progress).complete()
