"""Planning an import: every row read, checked and matched against the database before anything
is written (the planner only reads; the caller holds the write lock).

The planner loads what exists (stages, tags, and the records with their keys: `stages`, `tags`,
`matching`), then reads the file's rows in order and gives each to the row planner of its record
type (`deal_rows`, `company_rows`, `contact_rows`). A row that fails goes into the rejects with
its line and column. Rows whose dates could be day/month or month/day wait until a later date
tells the order. A big deals file hands its new deals to the writer while planning goes on
(`handover`).
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable

from crmtui.store import clock
from crmtui.store.dates import AmbiguousDate
from crmtui.store.importer import handover
from crmtui.store.importer import values as V
from crmtui.store.importer.cells import Cells, DealCells, RowError, unguard
from crmtui.store.importer.company_rows import CompanyRows
from crmtui.store.importer.contact_rows import ContactRows
from crmtui.store.importer.custom import CustomCells, custom_changed
from crmtui.store.importer.deal_rows import DealRows
from crmtui.store.importer.handover import DealHandover, Handover, PlannedElsewhere
from crmtui.store.importer.mapping import Mapping
from crmtui.store.importer.matching import Matcher
from crmtui.store.importer.plan import COLS, ENTITY_OF_TYPE, POS, ImportOptions, Plan, Reject, Table, stage_history
from crmtui.store.importer.reading import CsvText, UnclosedQuote, data_rows
from crmtui.store.importer.records import Records
from crmtui.store.importer.stages import Stages
from crmtui.store.importer.tags import TagLinks

_STAGE = POS["deal"]["stage_id"]
_DATES = ("expected_close", "close_date", "closed_on", "created_at", "stage_entered_at")


class Planner:
    """Reads the rows of a file against the database (read only) and builds a Plan."""

    def __init__(self, conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping, options: ImportOptions,
                 progress: Callable[[int], None] | None = None) -> None:
        self.csv = csv_text
        self.mapping = mapping
        self.options = options
        self.progress = progress
        self.entity = ENTITY_OF_TYPE[options.record_type]
        tables = {e: Table(e) for e in COLS}
        self.plan = plan = Plan(csv_text, mapping, options, tables, date_order=options.date_order,
                                now=clock.to_db(clock.utcnow()))
        currency = (conn.execute("SELECT value FROM setting WHERE key = 'currency'").fetchone() or ("USD",))[0]
        self.cells = cells = (DealCells(mapping, options.date_order, currency) if self.entity == "deal"
                              else Cells(mapping, options.date_order))
        self.stages = stages = Stages(conn, options, plan)
        self.tag_links = tag_links = TagLinks(conn, plan, self.entity, load_links="tags" in cells.ix)
        matcher = Matcher(conn, tables, self.entity)
        self.custom = (CustomCells(conn, mapping, cells, self.entity, tables[self.entity]) if mapping.custom
                       else None)
        custom = self.custom.values if self.custom is not None else None
        plan.first_stage_change = conn.execute("SELECT coalesce(max(id), 0) FROM stage_change").fetchone()[0] + 1
        self.through: dict[int, int] = {}  # new deal -> the open stage it passed before its won/lost stage
        self.moved: dict[int, tuple[int, int, str]] = {}  # deal that exists -> (from, to, when)
        self.handing = DealHandover(plan, self.through, tag_links.new)
        records = Records(tables, matcher, plan.now, self.handing)
        if isinstance(cells, DealCells):
            # Deals with line items take their amount (and cost, when a line has one) from the lines
            lined = dict(conn.execute("SELECT deal_id, max(unit_cost_cents IS NOT NULL) FROM deal_line"
                                      " WHERE deleted_at IS NULL GROUP BY deal_id"))
            self.row_planner: DealRows | CompanyRows | ContactRows = DealRows(
                plan, cells, stages, matcher, records, tag_links, self.handing, self.through, self.moved, custom,
                lined)
        elif self.entity == "company":
            self.row_planner = CompanyRows(plan, cells, records, tag_links, custom)
        else:
            self.row_planner = ContactRows(plan, cells, records, tag_links, custom)

    # --- the rows -------------------------------------------------------------------------------

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

    def _start_rows(self) -> None:
        # The row planner's method: it holds nothing that leads back here. (One of the planner's own
        # methods kept on it would be a reference cycle, and all it holds, 100,000 rows' keys and
        # caches, would wait for the cyclic GC: 0.14 s after a re-import of 100,000 deals.)
        self._plan_row_of_type = self.row_planner.plan_row
        self._width = len(self.mapping.header)
        self._pad = [""] * (self._width + 1)
        # From the first date that could be day/month or month/day until a date tells which, rows
        # are held, then planned in the file's order: a later row of the same deal still wins.
        self._held: list[tuple[int, list[str]]] = []
        ix = self.cells.ix
        self._date_ix = [ix[name] for name in _DATES if name in ix] if self.entity == "deal" else []
        if self.custom is not None:
            self._date_ix += self.custom.date_ix
        self._rows = data_rows(self.csv)

    def _read_rows(self) -> None:
        """The file's rows from where reading stands (a planning child goes on from the row where
        its parent forked, see `stream`)."""
        plan, progress, handing = self.plan, self.progress, self.handing
        mask = handover.HAND_OVER_MASK
        try:
            for line, fields in self._rows:
                plan.rows_read += 1
                if progress is not None and plan.rows_read % 2000 == 0:
                    progress(line)
                if self._held:
                    self._hold(line, fields)
                else:
                    self._plan_row(line, fields)
                if handing.target is not None and not plan.rows_read & mask:
                    self.hand_over()
        except UnclosedQuote as exc:  # the file's last row, with the rest of the file in one value
            plan.rows_read += 1
            header = self.mapping.header
            self._reject(exc.line, exc.fields, header[exc.column] if exc.column < len(header) else None, None,
                         exc.reason)

    def _hold(self, line: int, fields: list[str]) -> None:
        """A row read while rows wait for the day/month order: it waits too, unless it tells."""
        self._held.append((line, fields))
        if self._tells_date_order(fields):
            held, self._held = self._held, []
            for held_line, held_fields in held:
                self._plan_row(held_line, held_fields)

    def _tells_date_order(self, fields: list[str]) -> bool:
        for i in self._date_ix:
            if i < len(fields) and fields[i] and (hint := V.date_hint(fields[i])):
                self.cells.order = hint
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
        padded = fields[:width] + self._pad[n:] if n <= width else fields[:width] + [""]
        if "'" in "".join(padded):
            padded = [unguard(c) for c in padded]
        try:
            self._plan_row_of_type(line, padded)
        except RowError as exc:
            reason = exc.reason
            if isinstance(exc.__cause__, AmbiguousDate) and self.cells.order is None:
                if not last:
                    self._held.append((line, fields))
                    return
                reason = f"{exc.value!r} could be day/month or month/day; give --date-order dmy or mdy"
            column = self.mapping.header_of(exc.field) if exc.field else None
            self._reject(line, fields, column, exc.value, reason)

    def _after_rows(self) -> None:
        """The rows still held (no date told the day/month order); the rejects in order."""
        held, self._held = self._held, []
        for line, fields in held:
            self._plan_row(line, fields, last=True)
        self.plan.rejects.sort(key=lambda r: r.line)
        self.plan.date_order = self.cells.order
        if self.progress is not None:
            self.progress(-1)

    def _reject(self, line: int, fields: list[str], column: str | None, value: str | None, reason: str) -> None:
        where = f"line {line}" + (f", column {column!r}" if column else "")
        self.plan.rejects.append(Reject(line, fields, f"{where}: {reason}"))

    # --- the plan -------------------------------------------------------------------------------

    def finish(self) -> Plan:
        """Turn what was collected into the plan's insert lists (what was not handed over)."""
        plan = self.plan
        if self.handing.streaming:
            self.handing.finish(self)
        plan.new_links = self.tag_links.new
        self.stages.finish()
        own = plan.tables[self.entity]
        own.custom_dirty = custom_changed(own)
        t = plan.tables["deal"]
        rows, original = t.rows, t.original
        changes = stage_history([rows[did] for did in range(self.handing.streamed_to, t.next_id)], self.through)
        for did, (old, new, when) in sorted(self.moved.items()):
            if rows[did][_STAGE] != original[did][_STAGE]:
                changes.append((did, old, new, when))
        plan.stage_changes = changes
        return plan

    def hand_over_to(self, target: Handover) -> None:
        """Hand new deals over once there are enough (deal files only): see `Handover`."""
        if self.entity == "deal":
            self.handing.target = target

    def hand_over(self) -> None:
        """Hand the new deals planned since the last time over, when there are enough."""
        self.handing.hand_over(self)


def start_plan(conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping, options: ImportOptions,
               progress: Callable[[int], None] | None = None) -> Planner:
    """A planner that has read what exists (the database's part); `complete` reads the file."""
    return Planner(conn, csv_text, mapping, options, progress)


def make_plan(conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping, options: ImportOptions,
              progress: Callable[[int], None] | None = None) -> Plan:
    """Read every row of the file and decide what the import would do (reads the database only)."""
    return start_plan(conn, csv_text, mapping, options, progress).complete()
