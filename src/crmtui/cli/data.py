"""Data in and out: `crmtui import`, `crmtui imports list|undo`, `crmtui export`, and `crmtui demo`
(sample data to try the app on)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import (DATA, CsvOption, DbOption, JsonOption, PlainTable, db_path, err, handles_errors,
                               interactive, one_format, open_db, out, print_csv, print_error, print_json, record_table)

app = typer.Typer()
imports_app = typer.Typer(help="Past imports: list them, undo one.", no_args_is_help=True)
app.add_typer(imports_app, name="imports", rich_help_panel=DATA)

_ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-32": "UTF-32",
                    "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "cp1252": "Windows-1252",
                    "latin-1": "Latin-1", "iso8859-1": "Latin-1"}


@app.command("import", rich_help_panel=DATA)
@handles_errors
def import_file(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="A CSV file, or - for standard input.")],
    record_type: Annotated[Optional[str], typer.Option(
        "--type", help="deals, companies, contacts or products (default: told by the headers).")] = None,
    maps: Annotated[Optional[list[str]], typer.Option(
        "--map", help="'CSV column=field' (repeat); 'CSV column=' ignores a column.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen; write nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the valid rows; write the others to the rejects file.")] = False,
    rejects: Annotated[Optional[Path], typer.Option(
        "--rejects", help="Where to write rejected rows (default: FILE.rejects.csv beside the file).")] = None,
    encoding: Annotated[Optional[str], typer.Option(
        "--encoding", help="The file's encoding when it cannot be detected (cp1252, latin-1, utf-16, ...).")] = None,
    delimiter: Annotated[Optional[str], typer.Option(
        "--delimiter", help="The field delimiter when sniffing gets it wrong (',', ';', 'tab', '|').")] = None,
    pipeline: Annotated[Optional[str], typer.Option(
        "--pipeline", help="Pipeline for the deals (default: the default pipeline).")] = None,
    create_stages: Annotated[bool, typer.Option(
        "--create-stages", help="Add the stages the pipeline lacks (open ones before its won and lost stages).")
    ] = False,
    map_stages: Annotated[Optional[list[str]], typer.Option(
        "--map-stage", help="'Their stage=Our stage' (repeat): a stage of the file as one of the pipeline's.")] = None,
    new_pipeline: Annotated[Optional[str], typer.Option(
        "--new-pipeline", help="Make a pipeline of this name from the file's stages; the deals go there.")] = None,
    stage_order: Annotated[Optional[str], typer.Option(
        "--stage-order", help="'A,B,C': the order of the open stages --new-pipeline or --create-stages makes.")
    ] = None,
    create_fields: Annotated[bool, typer.Option(
        "--create-fields", help="Make custom fields of the columns that match no field.")] = False,
    date_order: Annotated[Optional[str], typer.Option(
        "--date-order", help="dmy, mdy or ymd, for dates like 03/04/2026 when the file does not prove it.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No mapping table and no progress bar.")] = False,
    follow_up: Annotated[Optional[bool], typer.Option(
        "--follow-up/--no-follow-up",
        help="Add a 'Follow up' task to each new open deal (default: the follow-up-on-import rule, off).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Import deals, companies, contacts or products from a CSV file (any real export), in one transaction."""
    from crmtui.store.dates import DATE_ORDERS
    from crmtui.store.errors import ValidationError
    from crmtui.store.importer.apply import (
        RowsRejected,
        default_rejects_path,
        map_columns,
        read_file,
        run_import,
        write_rejects,
    )
    from crmtui.store.importer.plan import ImportOptions
    from crmtui.store.importer.stages import parse_stage_map, parse_stage_order

    if date_order is not None and date_order.lower() not in DATE_ORDERS:
        raise ValidationError(f"--date-order: {date_order!r} is not one of dmy, mdy, ymd", "date_order")
    if record_type == "products":
        _import_products(ctx, db, file, maps=maps, encoding=encoding, delimiter=delimiter, dry_run=dry_run,
                         quiet=quiet, json_out=json_out)
        return
    # (the file first: a file that cannot be read opens no database; the columns then, with its custom fields)
    csv_text = read_file(file, record_type=record_type, maps=maps, encoding=encoding, delimiter=delimiter)
    database = open_db(ctx, db)
    try:
        mapping = map_columns(csv_text, record_type=record_type, maps=maps, db=database, create_fields=create_fields)
    except BaseException:
        database.close()
        raise
    if not quiet and not json_out:
        _show_mapping(csv_text, mapping)
    options = ImportOptions(record_type=mapping.record_type, pipeline=pipeline, create_stages=create_stages,
                            date_order=date_order.lower() if date_order else None, skip_invalid=skip_invalid,
                            follow_up=follow_up, stage_map=parse_stage_map(map_stages), new_pipeline=new_pipeline,
                            stage_order=parse_stage_order(stage_order), create_fields=create_fields)
    if not json_out and interactive():
        _ask_stage_order(csv_text, mapping, options)
    rejects_path = rejects or default_rejects_path(file)
    bar = _progress(csv_text, enabled=not quiet and err.is_terminal)

    def before_write(plan: Any) -> None:
        # The rows --skip-invalid leaves out go to their file before anything is written: when
        # it cannot be written, the import stops (and says which rows it would have left out).
        if plan.rejects:
            try:
                write_rejects(rejects_path, plan)
            except ValidationError as unwritable:
                _show_errors(plan, None)
                raise ValidationError(f"{unwritable.message}; nothing was imported", "rejects") from None
        bar.writing(plan)

    try:
        with bar as progress:
            result = run_import(database, csv_text, mapping, options, dry_run=dry_run, progress=progress,
                                before_write=before_write)
    except RowsRejected as exc:
        try:
            write_rejects(rejects_path, exc.plan)
        except ValidationError as unwritable:
            _show_errors(exc.plan, None)
            print_error(unwritable.message)
        else:
            _show_errors(exc.plan, rejects_path)
        raise
    finally:
        database.close()
    from crmtui.store.importer.summary import import_summary

    def summary() -> dict[str, Any]:
        return import_summary(result, dry_run=dry_run, rejects_path=rejects_path)

    if result.import_id is not None:
        from crmtui.store.hooks import announce

        announce("import-finished", lambda: {"import_id": result.import_id, "import": summary()}, database.path)
    if json_out:
        print_json(summary())
        return
    _show_summary(result, rejects_path)


def _import_products(ctx: typer.Context, db: Path | None, file: str, *, maps: list[str] | None,
                     encoding: str | None, delimiter: str | None, dry_run: bool, quiet: bool, json_out: bool) -> None:
    """`crmtui import FILE --type products`: the catalogue, matched by code, then name."""
    from crmtui.store.importer.products import MAX_SHOWN_ERRORS, ProductRowsRejected, import_products
    from crmtui.store.importer.reading import open_csv

    csv_text = open_csv(file, encoding=encoding, delimiter=delimiter)
    database = open_db(ctx, db)
    try:
        result = import_products(database, csv_text, maps=maps, dry_run=dry_run)
    except ProductRowsRejected as exc:
        for line in exc.errors[:MAX_SHOWN_ERRORS]:
            err.print(f"  {line}", soft_wrap=True, markup=False)
        if len(exc.errors) > MAX_SHOWN_ERRORS:
            err.print(f"  … and {len(exc.errors) - MAX_SHOWN_ERRORS:,} more", markup=False)
        raise
    finally:
        database.close()
    if json_out:
        print_json(result.summary())
        return
    if not quiet:
        err.print(f"Reading {csv_text.name} as products: {_ENCODING_LABELS.get(csv_text.encoding, csv_text.encoding)}"
                  f", {csv_text.layout}", markup=False)
        err.print("Columns: " + ", ".join(f"{h!r} → {f}" for h, f in result.summary()["columns"].items()),
                  markup=False)
        if result.ignored:
            err.print("Ignored: " + ", ".join(repr(h) for h in result.ignored), markup=False)
    out.print(f"{csv_text.name}: {_rows(result.rows)}: {result.created:,} created, {result.updated:,} updated,"
              f" {result.unchanged:,} unchanged", markup=False)
    if dry_run:
        out.print("Dry run: nothing was written.")
    elif result.import_id is None:
        out.print("Nothing changed: every row matches what is already in the database.")
    else:
        out.print(f"Import #{result.import_id} done. Undo it with: crmtui imports undo {result.import_id}")


def _ask_stage_order(csv_text: Any, mapping: Any, options: Any) -> None:
    """--new-pipeline without --stage-order: the person at the terminal puts the file's open
    stages in order (their order of first appearance when they just press Enter)."""
    from crmtui.store.errors import ValidationError
    from crmtui.store.importer.stages import check_stage_options, new_pipeline_open_stages, parse_order_answer

    if options.new_pipeline is None or options.stage_order is not None:
        return
    check_stage_options(options, mapping)
    found = new_pipeline_open_stages(csv_text, mapping, options.stage_map)
    if len(found) < 2:
        return
    err.print(f"The open stages of {csv_text.name}, as they first appear:", markup=False)
    for i, stage in enumerate(found, 1):
        err.print(f"  {i}. {stage.name} ({_rows(stage.rows)})", markup=False)
    names = [s.name for s in found]
    while options.stage_order is None:
        answer = typer.prompt(f"Their order in pipeline {options.new_pipeline!r}, first stage first (e.g. "
                              f"{' '.join(str(n) for n in range(len(names), 0, -1))}; Enter keeps this order)",
                              default="", show_default=False, err=True)
        try:
            options.stage_order = parse_order_answer(answer, names)
        except ValidationError as exc:
            print_error(exc.message)


def _show_mapping(csv_text: Any, mapping: Any) -> None:
    from crmtui.store.importer.summary import unmatched_columns

    err.print(f"Reading {csv_text.name} as {mapping.record_type}: "
              f"{_ENCODING_LABELS.get(csv_text.encoding, csv_text.encoding)}, {csv_text.layout}"
              + (f", header on line {csv_text.header_line}" if csv_text.header_line != 1 else ""), markup=False)
    # Headers are the file's text: never Rich markup.
    err.print("Columns: " + ", ".join(f"{h!r} → {f}" for h, f in mapping.pairs()), markup=False)
    if mapping.titles_made_from():
        err.print(f"Titles: none in the file; made of {_titles_text(mapping)}", soft_wrap=True, markup=False)
    if mapping.new_fields:
        err.print("New fields: " + ", ".join(f"{mapping.header[f.column]!r} → {_field_text(f)}"
                                             for f in mapping.new_fields), markup=False)
    made = {mapping.header[f.column] for f in mapping.new_fields or ()}
    ignored = [(h, why) for h, why in mapping.ignored if h not in made]
    if ignored:
        err.print("Ignored: " + ", ".join(f"{h!r} ({why})" for h, why in ignored), markup=False)
    unmatched = unmatched_columns(mapping)
    if unmatched and mapping.new_fields is None:
        err.print(f"To keep a column that matches no field: --create-fields makes it a custom field, or "
                  f"--map {_shell_quoted(unmatched[0]['column'] + '=FIELD')} maps it to one", markup=False)


def _shell_quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _titles_text(mapping: Any) -> str:
    """How a deals file without a title column titles its deals: "'product' and 'account':
    "<product> – <account>", or "<account> deal" when a row has no product"."""
    product, customer = (None if i is None else mapping.header[i] for i in (mapping.title_product,
                                                                            mapping.title_customer))
    if product is not None and customer is not None:
        return (f"{product!r} and {customer!r}: \"<{product}> – <{customer}>\", or \"<{customer}> deal\" when a row"
                f" has no {product}")
    return f"{product!r}" if product is not None else f"{customer!r}: \"<{customer}> deal\""


def _field_text(f: Any) -> str:
    """A new field as the mapping lines show it: `choice (A, B, C)`."""
    shown = ", ".join(f.options[:6]) + (", …" if len(f.options) > 6 else "")
    return f"{f.kind} ({shown})" if f.options else f.kind


class _progress:
    """A Rich progress bar on stderr for long files (not when piped, not with --quiet)."""

    def __init__(self, csv_text: Any, enabled: bool) -> None:
        self.enabled = enabled and csv_text.chars > 200_000
        self.total = csv_text.line_count
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                            TimeRemainingColumn(), console=err, transient=True)
        self.bar.start()
        self.task = self.bar.add_task("Checking rows", total=self.total)

        def update(line: int) -> None:
            self.bar.update(self.task, completed=self.total if line < 0 else line)

        return update

    def writing(self, _plan: Any) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description="Writing", completed=self.total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _show_errors(plan: Any, rejects_path: Path | None) -> None:
    """The first row errors; where all of them are (None: the rejects file could not be written)."""
    for line in plan.error_lines():
        err.print(f"  {line}", soft_wrap=True, markup=False)
    more = len(plan.rejects) - len(plan.error_lines())
    if more > 0:
        err.print(f"  … and {more:,} more")
    if rejects_path is not None:
        err.print(f"All rejected rows, with an error column, are in {rejects_path}", soft_wrap=True, markup=False)


def _count(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _rows(n: int) -> str:
    return _count(n, "row", "rows")


def _show_summary(result: Any, rejects_path: Path) -> None:
    from crmtui.store.importer.summary import new_pipeline_summary

    plan = result.plan
    csv_text = plan.csv
    out.print(f"{csv_text.name}: {_rows(plan.rows_read)}, {_ENCODING_LABELS.get(csv_text.encoding, csv_text.encoding)},"
              f" {csv_text.layout}" + (f", dates {plan.date_order}" if plan.date_order else ""),
              markup=False)
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("", "created", "updated", "unchanged", "rejected"):
        table.add_column(name, justify="left" if not name else "right")
    labels = {"deal": "deals", "company": "companies", "contact": "contacts"}
    for entity, c in plan.counts().items():
        table.add_row(labels[entity], f"{c['created']:,}", f"{c['updated']:,}", f"{c['unchanged']:,}",
                      f"{c['rejected']:,}" if "rejected" in c else "")
    out.print(table)
    if plan.merged_rows:
        out.print(f"{_rows(plan.merged_rows)} repeated a record seen earlier in the file and "
                  f"{'was' if plan.merged_rows == 1 else 'were'} merged into it.")
    made = new_pipeline_summary(plan)
    if made:
        out.print(f"New pipeline {made['name']!r}: " + ", ".join(
            f"{s['name']} ({s['probability']}%)" if s["kind"] == "open" else f"{s['name']} ({s['kind']})"
            for s in made["stages"]), markup=False)
        if made["default"]:
            out.print(f"{made['name']!r} is the default pipeline now: the database had no deals before.", markup=False)
    elif plan.new_stages:
        out.print("New stages: " + ", ".join(s[2] for s in plan.new_stages), markup=False)
    for warning in plan.warnings:
        err.print(f"Note: {warning}", soft_wrap=True, markup=False)
    if plan.mapping.titles_made_from():
        out.print(f"The file has no title column: titles made of {_titles_text(plan.mapping)}.", soft_wrap=True,
                  markup=False)
    if plan.new_fields:
        entity = {"deals": "deal", "companies": "company", "contacts": "contact"}[plan.mapping.record_type]
        out.print(f"New {entity} fields: " + "; ".join(f"{f.name}: {_field_text(f)}" for f in plan.new_fields),
                  markup=False)
    if plan.rejects:
        for line in plan.error_lines(5):
            err.print(f"  {line}", soft_wrap=True, markup=False)
        err.print(f"{_rows(len(plan.rejects))} skipped; see {rejects_path}", soft_wrap=True, markup=False)
    if result.dry_run:
        out.print("Dry run: nothing was written.")
    elif result.import_id is None and plan.rejects and plan.rows_read == len(plan.rejects):
        out.print("No valid rows: nothing was imported.")
    elif result.import_id is None:
        out.print("Nothing changed: every row matches what is already in the database.")
    else:
        out.print(f"Import #{result.import_id} done. Undo it with: crmtui imports undo {result.import_id}")


@imports_app.command("list")
@handles_errors
def imports_list(ctx: typer.Context, json_out: JsonOption = False, csv_out: CsvOption = False,
                 db: DbOption = None) -> None:
    """List past imports, newest first."""
    from crmtui.store.importer.history import list_imports

    one_format(json_out, csv_out)
    database = open_db(ctx, db)
    try:
        rows = list_imports(database)
    finally:
        database.close()
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "when", "file", "type", "rows", "created", "updated", "undone"],
                  ([r["id"], r["imported_at"], r["source"], r["type"], r["rows"], _total(r, "created"),
                    _total(r, "updated"), r["undone_at"]] for r in rows))
        return
    if not rows:
        err.print("No imports yet. Try [bold]crmtui import data/samples/deals.csv[/].")
        return
    body = []
    for r in rows:
        created, updated = _total(r, "created"), _total(r, "updated")
        body.append([str(r["id"]), r["imported_at"][:16].replace("T", " "), r["source"], r["type"], f"{r['rows']:,}",
                     f"{created:,}", f"{updated:,}", (r["undone_at"] or "")[:16].replace("T", " ")])
    out.print(record_table(
        [("ID", "figure"), ("When", "fixed"), ("File", "text"), ("Type", "text"), ("Rows", "figure"),
         ("Created", "figure"), ("Updated", "figure"), ("Undone", "text")], body, main="File"))


def _total(past_import: dict[str, Any], outcome: str) -> int:
    """How many records of every type an import created (or updated)."""
    return sum(counts.get(outcome, 0) for counts in past_import["counts"].values())


def _working(text: str, wanted: bool = True) -> Any:
    """A spinner on stderr while something slow runs, in a terminal (and when `wanted`). It lets
    standard output alone: an export printing there must reach its pipe, not the terminal."""
    from contextlib import nullcontext

    if not (wanted and err.is_terminal):
        return nullcontext()
    from rich.live import Live
    from rich.spinner import Spinner

    return Live(Spinner("dots", text), console=err, transient=True, redirect_stdout=False, redirect_stderr=False)


def _stdout_is_a_file() -> bool:
    """Standard output goes to a file (`> out.csv`): not to the terminal, nor into a pipe, whose
    reader may be printing to the terminal too."""
    import os
    import stat
    import sys

    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):  # (io.UnsupportedOperation is a ValueError: a stdout with no file)
        return False


def _undo_preview_text(import_id: int, p: dict[str, Any]) -> str:
    """What undoing an import will do, in a few sentences, listing what it keeps (see `undo_preview`)."""
    when = p["imported_at"][:16].replace("T", " ")
    made = [_count(p[key], one, key) for key, one in (("deals", "deal"), ("companies", "company"),
                                                      ("contacts", "contact"), ("pipelines", "pipeline"),
                                                      ("stages", "stage"), ("fields", "field"),
                                                      ("products", "product")) if p.get(key)]
    made_text = ", ".join(made[:-1]) + " and " + made[-1] if len(made) > 1 else made[0] if made else "nothing"
    text = f"Import #{import_id} ({p['source']}, {when}) created {made_text}."
    kept, kept_edits = p.get("kept", []), p.get("kept_edits", [])
    if made:
        total = sum(p.get(key, 0) for key in ("deals", "companies", "contacts", "pipelines", "stages", "fields",
                                              "products"))
        if not kept:
            text += " Undoing it deletes " + ("it." if total == 1 else "them.")
        elif len(kept) >= total:
            text += " Undoing it keeps " + ("it:" if total == 1 else "them all:") + _kept_lines(kept)
        else:
            text += f" Undoing it deletes them, but keeps {'one' if len(kept) == 1 else f'{len(kept):,}'} of them:"
            text += _kept_lines(kept)
    if p["changed"]:
        text += "\n" if kept else " "
        text += f"It puts back {_count(p['changed'], 'record', 'records')} the import changed"
        text += (", but not the fields edited since:" + _kept_lines(kept_edits)) if kept_edits else "."
    return text


def _kept_lines(records: list[dict[str, Any]]) -> str:
    """One line for each record an undo keeps (or keeps fields of): kind, id, name and why."""
    return "".join(f"\n  {r['kind']} #{r['id']} {r['name']!r}: {', '.join(r.get('why') or r['fields'])}"
                   for r in records)


@imports_app.command("undo")
@handles_errors
def imports_undo(
    ctx: typer.Context,
    import_id: Annotated[int, typer.Argument(metavar="ID", help="The import's id (see crmtui imports list).")],
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Do not ask first (it only asks in a terminal, never in a script or a pipe).")] = False,
    db: DbOption = None,
) -> None:
    """Undo an import: remove what it created and restore what it changed, but keep what was
    worked on since (listed)."""
    from crmtui.store.importer.history import undo_import, undo_preview

    database = open_db(ctx, db)
    try:
        if not yes and interactive():
            with _working(f"Looking at import #{import_id}…"):
                preview = undo_preview(database, import_id)
            err.print(_undo_preview_text(import_id, preview), soft_wrap=False, markup=False)
            if not typer.confirm(f"Undo import #{import_id}?", default=False, err=True):
                err.print(f"Import #{import_id} was not undone.")
                raise typer.Exit(1)
        with _working(f"Undoing import #{import_id}…"):
            r = undo_import(database, import_id)
    finally:
        database.close()
    restored = f"; restored {_count(r['restored'], 'changed record', 'changed records')}" if r["restored"] else ""
    removed = [_count(r[key], one, key) for key, one in (("deals", "deal"), ("companies", "company"),
                                                         ("contacts", "contact"), ("pipelines", "pipeline"),
                                                         ("stages", "stage"), ("fields", "field"),
                                                         ("products", "product"))
               if r[key] or (key not in ("pipelines", "stages", "fields", "products") and not r["products"])]
    removed_text = f"{', '.join(removed[:-1])} and {removed[-1]}" if len(removed) > 1 else removed[0]
    out.print(f"Undid import #{import_id}: removed {removed_text}{restored}.")
    if r["kept"]:
        out.print(f"Kept {_count(len(r['kept']), 'record', 'records')} it created:" + _kept_lines(r["kept"]),
                  markup=False)
    if r["kept_edits"]:
        out.print(f"Kept the fields edited since in {_count(len(r['kept_edits']), 'record', 'records')} it changed:"
                  + _kept_lines(r["kept_edits"]), markup=False)


@app.command("export", rich_help_panel=DATA)
@handles_errors
def export(
    ctx: typer.Context,
    record_type: Annotated[str, typer.Option(
        "--type", help="deals, companies, contacts, activities, products, tasks (a calendar: --format ics) or all"
                       " (all but products and tasks).")] = "deals",
    fmt: Annotated[Optional[str], typer.Option(
        "--format", help="csv or json; ics for --type tasks (the default there); vcf (vCard 3.0) for --type contacts.")
    ] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="File to write (default: standard output); a directory for --type all --format csv.")
    ] = None,
    meetings: Annotated[bool, typer.Option(
        "--meetings", help="With --type tasks: the logged meetings too, as one-hour events.")] = False,
    db: DbOption = None,
) -> None:
    """Export deals, companies, contacts, activities or products as CSV or JSON (the records with
    --type all); open tasks as a calendar file."""
    from crmtui.store.exporter import export_to

    database = open_db(ctx, db)
    try:
        # 100,000 deals take seconds: a spinner while the export goes to a file
        to_stdout = output is None or str(output) == "-"
        with _working(f"Exporting {record_type}…", not to_stdout or _stdout_is_a_file()):
            fmt = fmt or ("ics" if record_type == "tasks" else "csv")
            written = export_to(database, record_type, fmt, output, meetings=meetings)
    finally:
        database.close()
    if not to_stdout:  # (`-o -` is standard output, as without -o: the text says it all)
        err.print(", ".join(f"{n:,} {kind}" for kind, n in written.items()) + f" written to {output}", markup=False)


# --- demo --------------------------------------------------------------------------------------


@app.command(rich_help_panel=DATA)
@handles_errors
def demo(
    ctx: typer.Context,
    deals: Annotated[int, typer.Option("--deals", help="How many deals to create.", min=1)] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same data.")] = 42,
    force: Annotated[bool, typer.Option("--force", help="Add to a database that already has deals.")] = False,
    db: DbOption = None,
) -> None:
    """Fill a database with realistic sample data (18 months of history)."""
    import time

    from crmtui.store.db import open_database
    from crmtui.store.demo import generate_demo

    start = time.perf_counter()
    database = open_database(db_path(ctx, db))
    try:
        s = generate_demo(database, deals=deals, seed=seed, force=force)
    finally:
        database.close()
    err.print(
        f"Added {s.deals:,} deals ({s.open_deals:,} open), {s.companies:,} companies, {s.contacts:,} contacts, "
        f"{s.stage_changes:,} stage changes and {s.activities:,} activities to {database.path} "
        f"in {time.perf_counter() - start:.1f} s"
    )
