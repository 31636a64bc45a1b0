"""The import screen (`I`, or "Import a file" in the command palette): a CSV file into deals,
companies or contacts, through the importer `crmtui import` uses, in four steps.

1 File      the current folder's .csv, .tsv and .txt files in a tree, or a path typed in
2 Columns   what was read (encoding, delimiter, record type: `t` changes it) and each column's
            field with a sample value; enter changes one (what `--map 'Column=field'` does), `f`
            makes the columns that match no field custom fields (`--create-fields`)
3 Stages    deals: the file's stages beside the pipeline's; enter maps one (`--map-stage`), `c`
            adds those the pipeline lacks (`--create-stages`), `N` makes a new pipeline of them
            (`--new-pipeline`), `K`/`J` order the stages made (`--stage-order`)
4 Preview   a dry run: the counts, the first records as they will be written, the rejected
            rows; `i` imports in one transaction, esc leaves and nothing is written

Reading, planning and writing run in thread workers and report back by message (a report for a
choice since changed is dropped). The import opens its own connection for its one transaction,
as the CLI does; the app holds no transaction open meanwhile (its sessions are short and the
board's connection only reads), so neither waits on the other.
"""

from __future__ import annotations

import dataclasses
from itertools import islice
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, DirectoryTree, Header, Input, ProgressBar, Static

from crmtui.store.errors import CrmError
from crmtui.widgets.fit_table import Amount, Col, FitTable
from crmtui.widgets.footer import AppFooter

STEPS = {"file": "File", "columns": "Columns", "stages": "Stages", "preview": "Preview"}
FILE_SUFFIXES = {".csv", ".tsv", ".txt"}
IGNORE = "(ignore)"
UNMAPPED = "(not mapped)"
SAMPLE_ROWS = 20  # rows looked at for each column's sample value
ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-32": "UTF-32",
             "cp1252": "Windows-1252", "latin-1": "Latin-1", "iso8859-1": "Latin-1"}
ENTITY_WORDS = {"deal": "deals", "company": "companies", "contact": "contacts"}
COLUMN_COLS = [Col("Column", "column", shrink_to=12), Col("Field", "field", shrink_to=12),
               Col("Sample", "sample", shrink_to=10), Col("Note", "note", shrink_to=14, drop=1)]
STAGE_COLS = [Col("Their stage", "theirs", shrink_to=12), Col("Rows", "rows"), Col("Kind", "kind"),
              Col("Becomes", "becomes", shrink_to=16)]
PREVIEW_COLS = {
    "deals": [Col("", "action"), Col("Title", "name", shrink_to=14), Col("Customer", "customer", shrink_to=10),
              Col("Stage", "stage", shrink_to=8, drop=1), Col("Amount", "amount")],
    "companies": [Col("", "action"), Col("Name", "name", shrink_to=14), Col("Domain", "detail", shrink_to=10)],
    "contacts": [Col("", "action"), Col("Name", "name", shrink_to=14), Col("Email", "detail", shrink_to=12),
                 Col("Company", "customer", shrink_to=10, drop=1)],
}
STEP_HINTS = {
    "file": "enter opens the file or folder · tab: type a path · esc leaves",
    "columns": "enter changes the field · t type · f new fields · n next · esc leaves",
    "stages": "enter maps · c creates the missing · N new pipeline · K/J order · n next",
    "preview": "i imports (one transaction) · 2 columns · 3 stages · esc leaves",
}


class CsvTree(DirectoryTree):
    """Folders and the files an import reads (.csv, .tsv, .txt); hidden ones left out."""

    def filter_paths(self, paths: Any) -> list[Path]:  # noqa: ANN401
        return [p for p in paths if not p.name.startswith(".")
                and (p.suffix.lower() in FILE_SUFFIXES or self._safe_is_dir(p))]


def has_import_files(folder: Path) -> bool:
    try:
        return any(p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith(".") and p.is_file()
                   for p in folder.iterdir())
    except OSError:
        return False


def counts_text(counts: dict[str, dict[str, int]]) -> str:
    """`deals: 9 new, 1 updated, 2 rejected · companies: 3 new`."""
    parts = []
    for entity, c in counts.items():
        what = [f"{c['created']:,} new"] + [f"{c[k]:,} {k}" for k in ("updated", "unchanged", "rejected") if c.get(k)]
        parts.append(f"{ENTITY_WORDS[entity]}: {', '.join(what)}")
    return " · ".join(parts)


def why_ignored(why: str) -> str:
    """The mapping's reason for an ignored column, in the screen's words (not the CLI's)."""
    if why == "--map":
        return "ignored (your choice)"
    return why.replace("comes from --map", "is given to another column")


# --- what the workers report -----------------------------------------------------------------------


class FileRead(Message):
    def __init__(self, csv_text: Any, samples: list[str]) -> None:  # noqa: ANN401
        super().__init__()
        self.csv_text, self.samples = csv_text, samples


class Mapped(Message):
    def __init__(self, version: int, mapping: Any, error: str | None) -> None:  # noqa: ANN401
        super().__init__()
        self.version, self.mapping, self.error = version, mapping, error


class StagesRead(Message):
    def __init__(self, version: int, choices: Any) -> None:  # noqa: ANN401
        super().__init__()
        self.version, self.choices = version, choices


class Planned(Message):
    def __init__(self, version: int, preview: Any) -> None:  # noqa: ANN401
        super().__init__()
        self.version, self.preview = version, preview


class Imported(Message):
    def __init__(self, import_id: int | None, outcome: Any, rejects: Path | None,  # noqa: ANN401
                 new_pipeline: int | None) -> None:
        super().__init__()
        self.import_id, self.outcome, self.rejects = import_id, outcome, rejects
        self.new_pipeline = new_pipeline


class Failed(Message):
    def __init__(self, version: int, work: str, error: CrmError) -> None:
        super().__init__()
        self.version, self.work, self.error = version, work, error


class Progress(Message):
    def __init__(self, line: int, label: str = "") -> None:
        super().__init__()
        self.line, self.label = line, label


class ImportScreen(Screen[None]):
    """Choose a file, check its columns and stages, see the preview, import or leave."""

    CSS_PATH = "import.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
        Binding("escape", "close", "Close", id="import.close"),
        Binding("n", "next", "Next", id="import.next"),
        Binding("m,enter", "change", "Change", id="import.change"),
        Binding("t", "record_type", "Type", id="import.type"),
        Binding("f", "create_fields", "New fields", id="import.create_fields"),
        Binding("p", "pipeline", "Pipeline", id="import.pipeline"),
        Binding("c", "create_stages", "Create stages", id="import.create_stages"),
        Binding("N", "new_pipeline", "New pipeline", id="import.new_pipeline"),
        Binding("K,ctrl+up", "move(-1)", "Move up", id="import.move_up"),
        Binding("J,ctrl+down", "move(1)", "Move down", id="import.move_down"),
        Binding("i", "run_import", "Import", id="import.run"),
        *[Binding(str(n), f"step('{name}')", title, show=False, id=f"import.step_{name}")
          for n, (name, title) in enumerate(STEPS.items(), start=1)],
    ]
    STEP_ACTIONS = {"change": {"columns", "stages"}, "record_type": {"columns"}, "create_fields": {"columns"},
                    "pipeline": {"stages"}, "create_stages": {"stages"}, "new_pipeline": {"stages"},
                    "move": {"stages"}, "run_import": {"preview"}}

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = folder or Path.cwd()
        self.step = "file"
        self.busy: str | None = None  # "reading", "mapping", "importing" while a worker runs
        self.version = 0  # counts the choices made: a worker's report on older ones is dropped
        self.csv_text: Any = None
        self.samples: list[str] = []
        # The choices, as the CLI's options name them.
        self.record_type: str | None = None  # --type; None: told by the headers
        self.maps: dict[str, str] = {}  # --map: column -> field ("" ignores it)
        self.create_fields = False
        self.pipeline: str | None = None  # --pipeline
        self.stage_map: dict[str, str] = {}  # --map-stage: their stage -> ours
        self.create_stages = False
        self.new_pipeline: str | None = None
        self.mapping: Any = None
        self.stage_column: int | None = None  # the column the stage choices are about
        self.stages: Any = None  # StageChoices, once read
        self.stage_rows: list[Any] = []  # the file's stages, in the order shown (K/J)
        self.preview: Any = None
        self.planning = False
        self.done = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="import-steps", classes="screen-title")
        with ContentSwitcher(initial="step-file", id="import-body"):
            with Vertical(id="step-file"):
                yield Input(placeholder="a CSV file's path (enter reads it), or pick one below", id="import-path")
                yield Static("", id="import-no-files", markup=False)
                yield CsvTree(self.folder, id="import-tree")
            with Vertical(id="step-columns"):
                yield Static("", id="import-detected", markup=False)
                yield FitTable(COLUMN_COLS, id="import-columns", cursor_type="row", zebra_stripes=True)
            with Vertical(id="step-stages"):
                yield Static("", id="import-stage-info", markup=False)
                yield FitTable(STAGE_COLS, id="import-stages", cursor_type="row", zebra_stripes=True)
            with Vertical(id="step-preview"):
                yield Static("", id="import-counts", markup=False)
                yield Static("", id="import-working", markup=False)
                yield ProgressBar(id="import-progress", show_eta=False)
                yield FitTable(PREVIEW_COLS["deals"], id="import-preview", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="import-rejects"):
                    yield Static("", id="import-rejects-text", markup=False)
        yield Static("", id="import-error", markup=False)
        yield Static("", id="import-hint", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self._error()
        self._working("")
        self._show_folder(self.folder)
        self._show_step("file")

    # --- steps ---------------------------------------------------------------------------------

    def available(self, step: str) -> bool:
        if step == "file":
            return True
        if self.csv_text is None:
            return False
        if step == "stages":
            return self.mapping is not None and self.mapping.record_type == "deals" and self.mapping.has("stage")
        return step == "columns" or self.mapping is not None

    def _show_step(self, step: str) -> None:
        self.step = step
        self.query_one(ContentSwitcher).current = f"step-{step}"
        crumbs = Text.assemble(("Import", "bold"), " ›")
        for n, (name, title) in enumerate(STEPS.items(), start=1):
            style = "bold reverse" if name == step else "" if self.available(name) else "dim"
            crumbs.append("  ")
            crumbs.append(f" {n} {title} ", style=style)
        if self.csv_text is not None:
            crumbs.append(f"   {Path(self.csv_text.name).name}", style="dim")
        self.query_one("#import-steps", Static).update(crumbs)
        self.query_one("#import-hint", Static).update(
            "the import is done · esc back to the board" if self.done else STEP_HINTS[step])
        focus = {"file": "#import-tree", "columns": "#import-columns", "stages": "#import-stages",
                 "preview": "#import-preview"}[step]
        if step == "file" and not has_import_files(self.query_one(CsvTree).path):
            focus = "#import-path"
        self.query_one(focus).focus()
        if step == "stages" and self.stages is None:
            self._read_stages()
        if step == "preview" and self.preview is None and not self.planning and not self.done:
            self._start_planning()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel", "close"):
            return (action == "close") == self.done
        if self.busy is not None or self.done:
            return False
        if action == "step":
            return self.available(str(parameters[0]))
        if action == "next":
            return self._next_step() is not None
        if self.step not in self.STEP_ACTIONS.get(action, {self.step}):
            return False
        if action in ("record_type", "create_fields"):
            return self.csv_text is not None
        if action == "change":
            return self.csv_text is not None if self.step == "columns" else self.stages is not None
        if action in ("create_stages", "new_pipeline"):
            return self.stages is not None
        if action == "pipeline":
            return self.stages is not None and len(self.stages.pipelines) > 1 and self.new_pipeline is None
        if action == "move":
            return self.stages is not None and (self.create_stages or self.new_pipeline is not None)
        if action == "run_import":
            return self.preview is not None and not self.planning
        return True

    def _next_step(self) -> str | None:
        order = list(STEPS)
        return next((s for s in order[order.index(self.step) + 1:] if self.available(s)), None)

    def action_step(self, step: str) -> None:
        if self.available(step):
            self._show_step(step)

    def action_next(self) -> None:
        following = self._next_step()
        if following is not None:
            self._show_step(following)

    def action_cancel(self) -> None:
        if self.busy == "importing":
            self.notify("The import is being written; it finishes as one transaction", timeout=3)
            return
        self.app.pop_screen()

    def action_close(self) -> None:
        self.app.pop_screen()

    def _error(self, message: str = "") -> None:
        error = self.query_one("#import-error", Static)
        error.update(message)
        error.display = bool(message)

    def _changed(self) -> None:
        """A choice changed: the preview (and any report under way) is out of date."""
        self.version += 1
        self.preview = None
        self.planning = False
        self._working("")
        self._error()

    # --- 1 the file ------------------------------------------------------------------------------

    def _show_folder(self, folder: Path) -> None:
        self.query_one(CsvTree).path = folder
        note = self.query_one("#import-no-files", Static)
        empty = not has_import_files(folder)
        note.update(f"No CSV files in {folder}. Type a file's path above, or open a folder below." if empty else "")
        note.display = empty

    @on(Input.Submitted, "#import-path")
    def _typed(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            return
        path = Path(event.value.strip()).expanduser()
        if path.is_dir():
            self._error()
            self._show_folder(path)
            return
        self._open(path)

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self._open(event.path)

    def _open(self, path: Path) -> None:
        if self.busy is not None:
            return
        if path.is_absolute() and path.is_relative_to(Path.cwd()):
            path = path.relative_to(Path.cwd())  # named as the CLI would name it
        self._error()
        self.busy = "reading"
        self._read(path)

    @work(thread=True, exclusive=True, group="import-read")
    def _read(self, path: Path) -> None:
        from crmtui.store.importer.apply import read_file
        from crmtui.store.importer.reading import data_rows

        try:
            csv_text = read_file(path)
            rows = data_rows(csv_text)
            try:
                first = [fields for _line, fields in islice(rows, SAMPLE_ROWS)]
            finally:
                rows.close()
        except CrmError as exc:
            self.post_message(Failed(self.version, "reading", exc))
            return
        samples = [next((f[i].strip() for f in first if i < len(f) and f[i].strip()), "")
                   for i in range(len(csv_text.header))]
        self.post_message(FileRead(csv_text, samples))

    @on(FileRead)
    def _file_read(self, message: FileRead) -> None:
        self.busy = None
        self.csv_text, self.samples = message.csv_text, message.samples
        self.record_type, self.maps, self.create_fields = None, {}, False
        self._forget_stages()
        self.stage_column = None
        self._remap()
        self._show_step("columns")

    # --- 2 the columns ---------------------------------------------------------------------------

    def _remap(self) -> None:
        """The mapping again from the file's header and the choices (in a worker: with
        --create-fields it reads the whole file to tell each new field's kind)."""
        from crmtui.store.importer.mapping import detect_type

        self._changed()
        self.mapping = None
        if self.record_type is None and detect_type(self.csv_text.header) is None:
            self._error("Cannot tell from the headers whether the file holds deals, companies or contacts:"
                        " press t to choose")
            self._show_columns()
            return
        self.busy = "mapping"
        self._map(self.version, self.csv_text, self.record_type, self.map_options(), self.create_fields)

    @work(thread=True, exclusive=True, group="import-map")
    def _map(self, version: int, csv_text: Any, record_type: str | None, maps: list[str],  # noqa: ANN401
             create_fields: bool) -> None:
        from crmtui.store.importer.apply import map_columns

        try:
            mapping = map_columns(csv_text, record_type=record_type, maps=maps, db=self.app.database,
                                  create_fields=create_fields)
        except CrmError as exc:
            self.post_message(Mapped(version, None, exc.message))
            return
        self.post_message(Mapped(version, mapping, None))

    @on(Mapped)
    def _mapped(self, message: Mapped) -> None:
        if message.version != self.version:
            return
        self.busy = None
        self.mapping = message.mapping
        if message.error:
            self._error(message.error)
        mapping = self.mapping
        stage_column = mapping.index("stage") if mapping is not None and mapping.record_type == "deals" else None
        if stage_column != self.stage_column:  # the stage choices were about another column's values
            self._forget_stages()
            self.stage_column = stage_column
        self._show_columns()
        self._show_step(self.step)

    def map_options(self) -> list[str]:
        """The --map options of the choices made."""
        return [f"{column}={field}" for column, field in self.maps.items()]

    def _show_columns(self) -> None:
        csv_text, mapping = self.csv_text, self.mapping
        kind = mapping.record_type if mapping else self.record_type or "?"
        told = "" if self.record_type else " (told by the headers)"
        header = f", header on line {csv_text.header_line}" if csv_text.header_line != 1 else ""
        lines = [f"{csv_text.name}: {ENCODINGS.get(csv_text.encoding, csv_text.encoding)}, "
                 f"{csv_text.layout}{header} · {kind}{told}"]
        if mapping is not None and mapping.titles_made_from():
            lines.append("No title column: titles are made of " + " and ".join(map(repr, mapping.titles_made_from())))
        self.query_one("#import-detected", Static).update("\n".join(lines))
        self.query_one("#import-columns", FitTable).show(
            [(str(i), self._column_row(i, column)) for i, column in enumerate(csv_text.header)])

    def _column_row(self, i: int, column: str) -> tuple[Any, ...]:
        mapping = self.mapping
        made = {f.column: f for f in (mapping.new_fields or [])} if mapping else {}
        field = mapping.columns[i] if mapping else self.maps.get(column) or None
        if i in made:
            field, note = Text(f"new field: {made[i].name}", style="green"), Text(made[i].kind, style="green")
        elif field:
            note = Text("your choice", style="dim") if column in self.maps else ""
        elif mapping is not None and i == mapping.title_product:
            note = Text("makes the titles (no title column)", style="dim")
        elif mapping is not None and i in mapping.unknown and column not in self.maps:
            note = (Text("no values: nothing to keep", style="dim") if self.create_fields else
                    Text("matches no field (enter maps, f keeps)", style="yellow"))
        else:
            ignored = dict(mapping.ignored) if mapping else {}
            note = Text(why_ignored(ignored.get(column, "not mapped")), style="dim")
        return column, field or Text("—", style="dim"), self.samples[i], note

    @on(DataTable.RowSelected, "#import-columns, #import-stages")
    def _row_selected(self) -> None:
        if self.check_action("change", ()):
            self.action_change()

    def action_change(self) -> None:
        if self.step == "columns":
            self._change_column()
        elif self.step == "stages":
            self._change_stage()

    def _cursor_key(self, selector: str) -> str | None:
        table = self.query_one(selector, FitTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def _change_column(self) -> None:
        from crmtui.screens.settings import PickScreen

        key = self._cursor_key("#import-columns")
        kind = self._told_type()
        if kind is None:
            self.notify("Choose what the file holds first (t)", timeout=3)
            return
        if key is None:
            return
        i = int(key)
        column = self.csv_text.header[i]
        current = (self.mapping.columns[i] if self.mapping else self.maps.get(column)) or IGNORE

        def chosen(value: str | None) -> None:
            if value is None or value == current:
                return
            target = "" if value == IGNORE else value
            # a field feeds from one column: the column that had it goes back to being told by its header
            self.maps = {c: f for c, f in self.maps.items() if c != column and (not target or f != target)}
            self.maps[column] = target
            self._remap()

        self.app.push_screen(PickScreen(f"Field for the column {column!r}", [IGNORE, *self._fields(kind)],
                                        current=current, hint="enter chooses · a letter jumps · esc cancels"), chosen)

    def _told_type(self) -> str | None:
        from crmtui.store.importer.mapping import detect_type

        return self.record_type or detect_type(self.csv_text.header)

    def _fields(self, kind: str) -> list[str]:
        """The record type's fields and its custom fields (`field:NAME`), as --map names them."""
        from crmtui.store.importer.custom import import_fields
        from crmtui.store.importer.mapping import ENTITY_OF_TYPE, FIELD_PREFIX, FIELDS

        conn = self.app.database.raw()
        try:
            custom = import_fields(conn, ENTITY_OF_TYPE[kind])
        finally:
            conn.close()
        return [*FIELDS[kind], *(FIELD_PREFIX + f["name"] for f in custom if f["kind"] != "lookup")]

    def action_record_type(self) -> None:
        from crmtui.screens.settings import PickScreen
        from crmtui.store.importer.mapping import RECORD_TYPES

        current = self.mapping.record_type if self.mapping else None

        def chosen(value: str | None) -> None:
            if value is not None and value != current:
                self.record_type, self.maps = value, {}  # each type has its own fields
                self._forget_stages()
                self._remap()

        self.app.push_screen(PickScreen("The file holds", list(RECORD_TYPES), current=current), chosen)

    def action_create_fields(self) -> None:
        self.create_fields = not self.create_fields
        self._remap()

    # --- 3 the stages ----------------------------------------------------------------------------

    def _forget_stages(self) -> None:
        self.pipeline, self.stage_map, self.create_stages, self.new_pipeline = None, {}, False, None
        self.stages, self.stage_rows = None, []

    def _read_stages(self) -> None:
        if self.mapping is None:
            return
        self.busy = "reading"
        self.query_one("#import-stage-info", Static).update("Reading the file's stages…")
        self._stages(self.version, self.csv_text, self.mapping, self.pipeline)

    @work(thread=True, exclusive=True, group="import-stages")
    def _stages(self, version: int, csv_text: Any, mapping: Any, pipeline: str | None) -> None:  # noqa: ANN401
        from crmtui.store.importer.preview import stage_choices

        try:
            choices = stage_choices(self.app.database, csv_text, mapping, pipeline)
        except CrmError as exc:
            self.post_message(Failed(version, "stages", exc))
            return
        self.post_message(StagesRead(version, choices))

    @on(StagesRead)
    def _stages_read(self, message: StagesRead) -> None:
        if message.version != self.version:
            return
        self.busy = None
        self.stages = message.choices
        self.stage_rows = list(self.stages.theirs)
        self._show_stages()
        self.refresh_bindings()

    def _new_open_stages(self) -> list[str]:
        """The file's open stages the import makes, in the order shown (what --stage-order gets)."""
        if self.new_pipeline is not None:
            return [s.name for s in self.stage_rows if s.kind == "open"]
        if self.create_stages:
            return [s.name for s in self.stage_rows if s.kind == "open" and s.name not in self.stage_map
                    and self.stages.ours_for(s.name) is None]
        return []

    def _show_stages(self, keep: str | None = None) -> None:
        choices = self.stages
        missing = [s for s in choices.theirs if s.name not in self.stage_map and choices.ours_for(s.name) is None]
        if self.new_pipeline is not None:
            how = (f"A new pipeline {self.new_pipeline!r} is made of the file's stages (K/J order its open stages);"
                   f" N renames it, or press N and leave the name empty for none.")
        else:
            ours = ", ".join(name for name, _kind in choices.ours)
            how = f"Pipeline {choices.pipeline!r}: {ours}."
            if missing and self.create_stages:
                how += f" The {len(missing)} it lacks are added to it (c: map them instead)."
            elif missing:
                how += (f" {len(missing)} of the file's stages are not in it: map each (enter), add them (c),"
                        " or make a new pipeline of the file's stages (N).")
        self.query_one("#import-stage-info", Static).update(how)
        opens = self._new_open_stages()
        rows = []
        for s in self.stage_rows:
            rows.append((s.name, (s.name, Text(f"{s.rows:,}", justify="right"), s.kind, self._becomes(s, opens))))
        table = self.query_one("#import-stages", FitTable)
        table.show(rows)
        if keep is not None:
            table.move_cursor(row=table.get_row_index(keep))

    def _becomes(self, stage: Any, opens: list[str]) -> Text:  # noqa: ANN401
        if self.new_pipeline is not None:
            if stage.kind != "open":
                return Text(f"{self.new_pipeline}: its {stage.kind} stage", style="green")
            return Text(f"{self.new_pipeline}: stage {opens.index(stage.name) + 1} of {len(opens)}", style="green")
        if stage.name in self.stage_map:
            return Text(f"{self.stage_map[stage.name]} (your choice)")
        ours = self.stages.ours_for(stage.name)
        if ours is not None:
            return Text(ours, style="dim")
        if self.create_stages:
            where = f"stage {opens.index(stage.name) + 1} of {len(opens)} added" if stage.kind == "open" else "added"
            return Text(f"new {stage.kind} stage ({where})", style="green")
        return Text("not in the pipeline: enter maps it", style="yellow")

    def _change_stage(self) -> None:
        from crmtui.screens.settings import PickScreen

        theirs = self._cursor_key("#import-stages")
        if theirs is None:
            return
        if self.new_pipeline is not None:
            self.notify("Each of the file's stages is a stage of the new pipeline; K/J order them", timeout=3)
            return
        values = [UNMAPPED, *(name for name, _kind in self.stages.ours)]
        current = self.stage_map.get(theirs, UNMAPPED)

        def chosen(value: str | None) -> None:
            if value is None or value == current:
                return
            if value == UNMAPPED:
                del self.stage_map[theirs]
            else:
                self.stage_map[theirs] = value
            self._stages_changed(keep=theirs)

        self.app.push_screen(PickScreen(f"Their stage {theirs!r} is our stage", values, current=current), chosen)

    def _stages_changed(self, keep: str | None = None) -> None:
        self._changed()
        self._show_stages(keep)
        self.refresh_bindings()

    def action_create_stages(self) -> None:
        self.create_stages = not self.create_stages
        self.new_pipeline = None
        self._stages_changed(self._cursor_key("#import-stages"))

    def action_new_pipeline(self) -> None:
        from crmtui.screens.prompt import PromptScreen

        taken = {name.casefold() for name in self.stages.pipelines}

        def check(name: str) -> str | None:
            return f"There is already a pipeline called {name!r}" if name.casefold() in taken else None

        def named(name: str | None) -> None:
            if name is None:
                return
            self.new_pipeline = " ".join(name.split()) or None
            self.stage_map, self.create_stages = {}, False  # (their stages are the new pipeline's)
            self._stages_changed(self._cursor_key("#import-stages"))

        default = self.new_pipeline or Path(self.csv_text.name).stem.replace("_", " ").replace("-", " ").title()
        self.app.push_screen(PromptScreen("Name of the new pipeline (empty: no new pipeline)", value=default,
                                          check=check), named)

    def action_pipeline(self) -> None:
        from crmtui.screens.settings import PickScreen

        def chosen(name: str | None) -> None:
            if name is not None and name != self.stages.pipeline:
                self.pipeline, self.stage_map, self.stages = name, {}, None
                self._changed()
                self._read_stages()

        self.app.push_screen(PickScreen("The deals go to the pipeline", self.stages.pipelines,
                                        current=self.stages.pipeline), chosen)

    def action_move(self, step: int) -> None:
        """Move the stage under the cursor before (-1) or after (1) the next stage the import makes."""
        theirs = self._cursor_key("#import-stages")
        made = self._new_open_stages()
        if theirs not in made or not 0 <= made.index(theirs) + step < len(made):
            return
        names = [s.name for s in self.stage_rows]
        i, j = names.index(theirs), names.index(made[made.index(theirs) + step])
        self.stage_rows[i], self.stage_rows[j] = self.stage_rows[j], self.stage_rows[i]
        self._stages_changed(keep=theirs)

    # --- 4 the preview ---------------------------------------------------------------------------

    def options(self) -> Any:  # noqa: ANN401
        """The import's options, as the CLI's flags give them."""
        from crmtui.store.importer.plan import ImportOptions

        opens = self._new_open_stages() if self.stages is not None else []
        return ImportOptions(record_type=self.mapping.record_type, pipeline=self.pipeline,
                             create_stages=self.create_stages, stage_map=list(self.stage_map.items()),
                             new_pipeline=self.new_pipeline, stage_order=opens or None,
                             create_fields=self.create_fields)

    def _start_planning(self) -> None:
        if self.mapping is None:
            return
        self.planning = True
        self._working("Checking rows…")
        self.query_one("#import-counts", Static).update("")
        self.query_one("#import-preview", FitTable).show([], PREVIEW_COLS[self.mapping.record_type])
        self.query_one("#import-rejects").display = False
        self._plan(self.version, self.csv_text, self.mapping, self.options())

    @work(thread=True, exclusive=True, group="import-plan")
    def _plan(self, version: int, csv_text: Any, mapping: Any, options: Any) -> None:  # noqa: ANN401
        from crmtui.store.importer.preview import preview_import

        try:
            preview = preview_import(self.app.database, csv_text, mapping, options,
                                     progress=lambda line: self.post_message(Progress(line)))
        except CrmError as exc:
            self.post_message(Failed(version, "planning", exc))
            return
        self.post_message(Planned(version, preview))

    def _working(self, label: str) -> None:
        self.query_one("#import-working", Static).update(label)
        bar = self.query_one(ProgressBar)
        bar.update(total=max(self.csv_text.line_count, 1) if self.csv_text else 1, progress=0)
        for widget in (bar, self.query_one("#import-working")):
            widget.display = bool(label)
        self.refresh_bindings()

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(progress=bar.total if message.line < 0 else message.line)
        if message.label:
            self.query_one("#import-working", Static).update(message.label)

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        if message.version != self.version:
            return
        self.planning = False
        self._working("")
        self.preview = p = message.preview
        masked = self.app.privacy
        rows = []
        for n, r in enumerate(p.rows):
            action = Text("new", style="green") if r.action == "new" else Text("update", style="yellow")
            cells = {"action": action, "name": r.name, "customer": r.customer, "stage": r.stage,
                     "detail": r.detail, "amount": Amount(r.amount_cents, r.currency, masked=masked)}
            rows.append((str(n), [cells[c.key] for c in PREVIEW_COLS[p.record_type]]))
        self.query_one("#import-preview", FitTable).show(rows, PREVIEW_COLS[p.record_type])
        self._show_counts(p)
        self.refresh_bindings()

    def _show_counts(self, p: Any) -> None:  # noqa: ANN401
        lines = [f"{p.rows_read:,} rows → {counts_text(p.counts)}", *self._outcome_lines(p)]
        if not p.changes:
            lines.append("Nothing to import: every valid row matches what is already in the database")
        self.query_one("#import-counts", Static).update("\n".join(lines))
        rejects = self.query_one("#import-rejects")
        rejects.display = bool(p.reject_count)
        more = p.reject_count - len(p.rejects)
        self.query_one("#import-rejects-text", Static).update(Text.assemble(
            (f"{p.reject_count:,} rejected row{'s' if p.reject_count != 1 else ''}:\n", "bold"),
            "\n".join(p.rejects) + (f"\n… and {more:,} more" if more > 0 else "")))

    @staticmethod
    def _outcome_lines(p: Any) -> list[str]:  # noqa: ANN401
        """What else an import makes and does: pipeline, stages, fields, titles, notes."""
        lines = []
        if p.merged_rows:
            lines.append(f"{p.merged_rows:,} rows repeat a record seen earlier in the file and are merged into it")
        if p.new_pipeline:
            lines.append(f"New pipeline {p.new_pipeline!r}: " + ", ".join(
                name if kind == "open" else f"{name} ({kind})" for name, kind in p.new_stages))
        elif p.new_stages:
            lines.append("New stages: " + ", ".join(name for name, _kind in p.new_stages))
        if p.new_fields:
            lines.append("New fields: " + ", ".join(p.new_fields))
        if p.titles_from:
            lines.append("No title column: titles are made of " + " and ".join(map(repr, p.titles_from)))
        return lines + [f"Note: {w}" for w in p.warnings]

    # --- 5 importing -----------------------------------------------------------------------------

    def action_run_import(self) -> None:
        from crmtui.screens.confirm import ConfirmScreen
        from crmtui.store.importer.apply import default_rejects_path

        p = self.preview
        if p is None or self.busy is not None:
            return
        if not p.changes:
            self.notify("Nothing to import: every valid row matches what is already in the database", timeout=4)
            return
        if not p.reject_count:
            self._start_import(None)
            return
        rejects = default_rejects_path(self.csv_text.name)
        valid = p.rows_read - p.reject_count
        have = "row has" if p.reject_count == 1 else "rows have"
        question = (f"{p.reject_count:,} of {p.rows_read:,} {have} errors and would not be imported. Import the"
                    f" other {valid:,}?\n\nThe rejected rows, with an error column, go to {rejects}.")
        self.app.push_screen(ConfirmScreen(question, yes="Import", no="Back"),
                             lambda yes: self._start_import(rejects) if yes else None)

    def _start_import(self, rejects: Path | None) -> None:
        self._error()
        self.busy = "importing"
        self._working("Checking rows…")
        options = dataclasses.replace(self.options(), skip_invalid=rejects is not None)
        self._import(self.csv_text, self.mapping, options, rejects)

    @work(thread=True, exclusive=True, group="import-write")
    def _import(self, csv_text: Any, mapping: Any, options: Any, rejects: Path | None) -> None:  # noqa: ANN401
        from crmtui.store.errors import ValidationError
        from crmtui.store.importer.apply import run_import, write_rejects
        from crmtui.store.importer.preview import preview_of

        def before_write(plan: Any) -> None:  # noqa: ANN401
            # (as the CLI: the rows left out are in their file before anything is written)
            if plan.rejects and rejects is not None:
                try:
                    write_rejects(rejects, plan)
                except ValidationError as unwritable:
                    raise ValidationError(f"{unwritable.message}; nothing was imported", "rejects") from None
            self.post_message(Progress(-1, "Writing…"))

        try:
            result = run_import(self.app.database, dataclasses.replace(csv_text), mapping, options,
                                progress=lambda line: self.post_message(Progress(line)), before_write=before_write)
        except CrmError as exc:
            self.post_message(Failed(self.version, "importing", exc))
            return
        plan = result.plan
        if result.import_id is not None:
            from crmtui.store.hooks import announce
            from crmtui.store.importer.summary import import_summary

            announce("import-finished", lambda: {"import_id": result.import_id, "import": import_summary(
                result, dry_run=False, rejects_path=rejects)}, self.app.database.path)
        self.post_message(Imported(result.import_id, preview_of(plan), rejects if plan.rejects else None,
                                   plan.new_pipeline[0] if plan.new_pipeline and result.import_id else None))

    @on(Imported)
    def _imported(self, message: Imported) -> None:
        self.busy = None
        self.done = True
        self._working("")
        if message.import_id is None:
            done = "Nothing changed: every row matches what is already in the database."
        else:
            done = f"Import #{message.import_id} done. Undo it with: crmtui imports undo {message.import_id}"
        lines = [counts_text(message.outcome.counts), done, *self._outcome_lines(message.outcome)]
        if message.rejects is not None:
            lines.append(f"The rejected rows are in {message.rejects}")
        self.query_one("#import-counts", Static).update("\n".join(lines))
        self._show_step("preview")
        if message.new_pipeline is not None:  # the board behind shows where the deals went
            from crmtui.screens.board import BoardScreen

            for screen in self.app.screen_stack:
                if isinstance(screen, BoardScreen):
                    screen.reload(pipeline_id=message.new_pipeline)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        if message.version != self.version and message.work != "importing":
            return
        self.busy = None
        self.planning = False
        self._working("")
        error = message.error
        if getattr(error, "field", None) == "stage" and "unknown stage" in error.message:
            # (the importer's first sentence names them; the rest says how, in the CLI's words)
            self._error(f"{error.message.split('. ')[0]}. Press 3 to map them, add them or make a new pipeline"
                        " of them.")
        else:
            self._error(error.message)
        if message.work == "reading":
            self._show_step("file")
        self.refresh_bindings()
