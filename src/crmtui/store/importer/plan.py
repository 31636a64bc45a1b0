"""The plan of an import: everything it would do, decided before anything is written.

The plan holds the rows to insert (with ids assigned in advance, so deals can point at companies
created a few rows earlier), the columns to update on existing records (old and new values, for
undo), custom values, the stage changes, the tag links, and the rows rejected with a reason.
Records are kept as plain lists in the tables' column order, not ORM objects: 100,000 deals must
plan in well under a second. `planner` builds it; `apply.write_plan` carries it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmtui.store.importer.mapping import ENTITY_OF_TYPE, Mapping
from crmtui.store.importer.reading import CsvText

COMPANY_COLS = ("id", "name", "website", "domain", "email", "phone", "address", "source", "category", "size",
                "notes", "external_id", "created_at", "updated_at")
CONTACT_COLS = ("id", "name", "email", "phone", "title", "company_id", "notes", "external_id", "created_at",
                "updated_at")
DEAL_COLS = ("id", "title", "company_id", "contact_id", "pipeline_id", "stage_id", "stage_entered_at",
             "amount_cents", "cost_cents", "currency", "confidence", "expected_close", "closed_on", "source",
             "lost_reason", "proposal_url", "notes", "external_id", "created_at", "updated_at")
COLS = {"company": COMPANY_COLS, "contact": CONTACT_COLS, "deal": DEAL_COLS}
POS = {entity: {c: i for i, c in enumerate(cols)} for entity, cols in COLS.items()}  # entity -> column -> index
_NEVER_UPDATED = {"id", "created_at", "updated_at"}
_STAGE, _ENTERED, _CREATED = (POS["deal"][c] for c in ("stage_id", "stage_entered_at", "created_at"))
MAX_SHOWN_ERRORS = 10
CUSTOM_PREFIX = "cf_"  # custom field 7 in an update's old and new values: "cf_7" (as the store's forms name it)


@dataclass
class ImportOptions:
    record_type: str
    pipeline: str | None = None
    create_stages: bool = False
    date_order: str | None = None
    skip_invalid: bool = False
    follow_up: bool | None = None  # add the "Follow up" task to new open deals; None: the rules decide
    # The file's stage -> one of ours (`--map-stage 'Theirs=Ours'`), as written on the command line.
    stage_map: list[tuple[str, str]] = field(default_factory=list)
    new_pipeline: str | None = None  # make this pipeline from the file's stages (`--new-pipeline`)
    stage_order: list[str] | None = None  # the open stages of the new pipeline, in order (`--stage-order`)
    create_fields: bool = False  # columns that match no field become custom fields (`--create-fields`)


@dataclass
class Reject:
    line: int
    fields: list[str]
    message: str


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
    # Custom values: those the file gives (record -> field id -> value), those the existing
    # records hold in the mapped fields (field id -> record -> value), and the existing records
    # whose values change (`Planner.finish` finds them).
    custom: dict[int, dict[int, str]] = field(default_factory=dict)
    custom_stored: dict[int, dict[int, str]] = field(default_factory=dict)
    custom_dirty: set[int] = field(default_factory=set)

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
    # id, pipeline, name, position, probability, kind
    new_stages: list[tuple[int, int, str, int, int, str]] = field(default_factory=list)
    new_pipeline: tuple[int, str, int] | None = None  # id, name, position (`--new-pipeline`)
    # The default pipeline the new one takes over from: a database without deals opens on the
    # pipeline it was filled into.
    default_from: int | None = None
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
    new_fields: list[Any] = field(default_factory=list)  # the custom fields made (`new_fields.NewField`)
    warnings: list[str] = field(default_factory=list)  # what the import did on its own, and how to choose

    def counts(self) -> dict[str, dict[str, int]]:
        """created / updated / unchanged (and rejected for the file's own type) per record type."""
        out = {}
        own = ENTITY_OF_TYPE[self.options.record_type]
        for entity in ("deal", "company", "contact"):
            t = self.tables[entity]
            created = len(t.new_ids())
            updated = len(t.dirty | t.tagged | t.custom_dirty)
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
            self.linked_existing.values()) or bool(self.new_fields)

    def updates(self, entity: str) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(id, old values, new values) of the existing rows the import changes; a custom value
        as `cf_ID` (its old value None when it had none)."""
        t = self.tables[entity]
        cols = COLS[entity]
        out = []
        for rid in sorted(t.dirty | t.custom_dirty):
            before, after = t.original[rid], t.rows[rid]
            changed = [i for i, c in enumerate(cols) if before[i] != after[i] and c not in _NEVER_UPDATED]
            old, new = {cols[i]: before[i] for i in changed}, {cols[i]: after[i] for i in changed}
            for fid, value in t.custom.get(rid, {}).items():
                stored = t.custom_stored.get(fid, {}).get(rid)
                if stored != value:
                    old[f"{CUSTOM_PREFIX}{fid}"], new[f"{CUSTOM_PREFIX}{fid}"] = stored, value
            out.append((rid, old, new))
        return out

    def release(self) -> None:
        """Let go of the planned rows once written (counts, rejects and stages stay)."""
        for t in self.tables.values():
            t.rows = {}
            t.original = {}
            t.custom = {}
            t.custom_stored = {}
        self.stage_changes = []
        self.new_links = {}
        self.linked_existing = {}

    def error_lines(self, limit: int = MAX_SHOWN_ERRORS) -> list[str]:
        return [r.message for r in self.rejects[:limit]]


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
