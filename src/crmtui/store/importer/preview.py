"""What an import would do, for a person to look at before anything is written (the import
screen): the file's stages beside the pipeline's, and a dry run of the import
(`run_import(dry_run=True)`, as `crmtui import --dry-run`) with its counts, the first records it
would create and change as they would be written, and the rows it would reject."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from crmtui.store.db import Database, translate_errors
from crmtui.store.importer.mapping import ENTITY_OF_TYPE, Mapping
from crmtui.store.importer.plan import POS, ImportOptions, Plan
from crmtui.store.importer.reading import CsvText
from crmtui.store.importer.stages import FileStage, file_stages, stage_key, stage_kind_of

PREVIEW_ROWS = 50
PREVIEW_REJECTS = 200


@dataclass
class PreviewRow:
    action: str  # "new" or "update"
    name: str  # a deal's title, a company's or contact's name
    customer: str = ""  # a deal's company (its contact when it has none); a contact's company
    stage: str = ""
    amount_cents: int | None = None
    currency: str = ""
    detail: str = ""  # a company's domain (else website), a contact's email


@dataclass
class Preview:
    record_type: str
    rows_read: int
    merged_rows: int
    counts: dict[str, dict[str, int]]
    changes: bool  # whether importing would change anything
    rows: list[PreviewRow] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)  # the first PREVIEW_REJECTS, each "line N, column 'X': why"
    reject_count: int = 0
    new_pipeline: str | None = None
    new_stages: list[tuple[str, str]] = field(default_factory=list)  # (name, kind) in pipeline order
    new_fields: list[str] = field(default_factory=list)  # "Employees (number)"
    titles_from: list[str] = field(default_factory=list)  # the columns titles are made of (no title column)
    warnings: list[str] = field(default_factory=list)


def preview_import(db: Database, csv_text: CsvText, mapping: Mapping, options: ImportOptions, *,
                   progress: Callable[[int], None] | None = None) -> Preview:
    """Plan the import against `db` and write nothing. Invalid rows are kept in the preview
    (as with --skip-invalid) rather than stopping it; unknown stages and a file with no rows
    raise ValidationError as the import would. `csv_text` stays as it is (an import empties it)."""
    from crmtui.store.importer.apply import run_import

    stages = _stage_names(db)
    previews: list[Preview] = []
    run_import(db, dataclasses.replace(csv_text), mapping, dataclasses.replace(options, skip_invalid=True),
               dry_run=True, progress=progress, before_write=lambda plan: previews.append(preview_of(plan, stages)))
    return previews[0]


def preview_of(plan: Plan, stage_names: dict[int, str] | None = None) -> Preview:
    """The preview of a plan; with `stage_names` (id -> name), its first records too, which
    must be read before it is written (`Plan.release` drops them)."""
    stages = {**(stage_names or {}), **{s[0]: s[2] for s in plan.new_stages}}
    entity = ENTITY_OF_TYPE[plan.options.record_type]
    table = plan.tables[entity]
    new = list(table.new_ids()[:PREVIEW_ROWS]) if stage_names is not None else []
    changed = sorted(table.dirty | table.tagged | table.custom_dirty)[:PREVIEW_ROWS - len(new)] if new else []
    row_of = {"deal": _deal_row, "company": _company_row, "contact": _contact_row}[entity]
    return Preview(
        record_type=plan.options.record_type, rows_read=plan.rows_read, merged_rows=plan.merged_rows,
        counts=plan.counts(), changes=plan.changes_anything(),
        rows=[row_of(plan, rid, action, stages) for action, ids in (("new", new), ("update", changed)) for rid in ids],
        rejects=[r.message for r in plan.rejects[:PREVIEW_REJECTS]], reject_count=len(plan.rejects),
        new_pipeline=plan.new_pipeline[1] if plan.new_pipeline else None,
        new_stages=[(s[2], s[5]) for s in sorted(plan.new_stages, key=lambda s: (s[1], s[3]))],
        new_fields=[f"{f.name} ({f.kind})" for f in plan.new_fields], titles_from=plan.mapping.titles_made_from(),
        warnings=list(plan.warnings))


def _name(plan: Plan, entity: str, rid: int | None) -> str:
    if rid is None or rid not in plan.tables[entity].rows:
        return ""
    return plan.tables[entity].rows[rid][POS[entity]["name"]] or ""


def _deal_row(plan: Plan, rid: int, action: str, stages: dict[int, str]) -> PreviewRow:
    row, col = plan.tables["deal"].rows[rid], POS["deal"]
    customer = _name(plan, "company", row[col["company_id"]]) or _name(plan, "contact", row[col["contact_id"]])
    return PreviewRow(action, row[col["title"]], customer, stages.get(row[col["stage_id"]], ""),
                      row[col["amount_cents"]], row[col["currency"]] or "")


def _company_row(plan: Plan, rid: int, action: str, _stages: dict[int, str]) -> PreviewRow:
    row, col = plan.tables["company"].rows[rid], POS["company"]
    return PreviewRow(action, row[col["name"]], detail=row[col["domain"]] or row[col["website"]] or "")


def _contact_row(plan: Plan, rid: int, action: str, _stages: dict[int, str]) -> PreviewRow:
    row, col = plan.tables["contact"].rows[rid], POS["contact"]
    return PreviewRow(action, row[col["name"]], _name(plan, "company", row[col["company_id"]]),
                      detail=row[col["email"]] or "")


def _stage_names(db: Database) -> dict[int, str]:
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            return dict(conn.execute("SELECT id, name FROM stage"))
        finally:
            conn.close()


# --- the file's stages and the pipeline's --------------------------------------------------------


@dataclass
class StageChoices:
    """A deals file's stages (`file_stages`) beside those of the pipeline its deals go to."""

    pipeline: str
    pipelines: list[str]  # every pipeline, in order
    ours: list[tuple[str, str]]  # the pipeline's stages: (name, kind), in order
    theirs: list[FileStage]

    def ours_for(self, name: str) -> str | None:
        """The pipeline's stage a file's stage means without being mapped: the one of the same
        name (any case), else the one of the kind its words say ("Closed Won": the won stage)."""
        key = stage_key(name)
        same = next((ours for ours, _kind in self.ours if stage_key(ours) == key), None)
        kind = stage_kind_of(name)
        if same is not None or kind == "open":
            return same
        return next((ours for ours, k in self.ours if k == kind), None)


def stage_choices(db: Database, csv_text: CsvText, mapping: Mapping, pipeline: str | None = None) -> StageChoices:
    """The stages of the file (reads it all) and those of `pipeline` (None: the default one)."""
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            pipelines = conn.execute("SELECT id, name, is_default FROM pipeline WHERE deleted_at IS NULL"
                                     " ORDER BY position, id").fetchall()
            chosen = next((p for p in pipelines if pipeline is not None and p[1].casefold() == pipeline.casefold()),
                          None) or next((p for p in pipelines if p[2]), pipelines[0] if pipelines else None)
            ours = conn.execute("SELECT name, kind FROM stage WHERE pipeline_id = ? AND deleted_at IS NULL"
                                " ORDER BY position, id", (chosen[0] if chosen else 0,)).fetchall()
        finally:
            conn.close()
    return StageChoices(chosen[1] if chosen else "", [p[1] for p in pipelines], [tuple(s) for s in ours],
                        file_stages(csv_text, mapping))
