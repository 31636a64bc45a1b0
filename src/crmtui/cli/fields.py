"""Custom fields from the shell: `crmtui fields ...`, and editing any field of a record with
`crmtui set REF FIELD=VALUE...`."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from crmtui.cli.common import (RECORDS, SETUP, CsvOption, DbOption, JsonOption, PlainTable, handles_errors,
                               one_format, open_session, out, print_csv, print_json)

app = typer.Typer()
fields_app = typer.Typer(help="Custom fields of deals, companies and contacts; hiding built-in ones.",
                         no_args_is_help=True)
app.add_typer(fields_app, name="fields", rich_help_panel=SETUP)

EntityArg = Annotated[str, typer.Argument(metavar="RECORD", help="deal, company or contact.")]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The field's name.")]
KINDS_HELP = "text, number, money, date, choice, multichoice, url, email, phone, rating, yesno or lookup."


@fields_app.command("list")
@handles_errors
def fields_list(
    ctx: typer.Context,
    entity: Annotated[Optional[str], typer.Option("--entity", help="Only deal, company or contact fields.")] = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """List the custom fields, in order, and the hidden built-in ones."""
    from crmtui.store.custom_fields import ENTITIES, list_fields, record_type
    from crmtui.store.field_setup import hidden_fields

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = list_fields(s, entity)
        entities = ENTITIES if entity is None else (record_type(entity),)
        hidden = {e: sorted(hidden_fields(s, e)) for e in entities}
    if json_out:
        print_json({"fields": rows, "hidden": hidden})
        return
    if csv_out:  # the custom fields' table; the hidden built-in fields are in --json
        print_csv(["record", "position", "field", "kind", "options_or_source", "required"],
                  ([r["entity"], r["position"], r["name"], r["kind"], r["options"] or r["lookup"], bool(r["required"])]
                   for r in rows))
        return
    if rows:
        table = PlainTable(show_edge=False, header_style="bold")
        for name in ("Record", "#", "Field", "Kind", "Options or source", "Required"):
            table.add_column(name)
        for r in rows:
            table.add_row(r["entity"], str(r["position"]), r["name"], r["kind"],
                          ", ".join(r["options"]) or r["lookup"] or "", "yes" if r["required"] else "")
        out.print(table)
    else:
        out.print("No custom fields yet. Add one with [bold]crmtui fields add deal NAME --kind KIND[/].")
    for e, names in hidden.items():
        if names:
            out.print(escape(f"Hidden {e} fields: {', '.join(names)} (crmtui fields show {e} NAME)"))


@fields_app.command("add")
@handles_errors
def fields_add(
    ctx: typer.Context,
    entity: EntityArg,
    name: NameArg,
    kind: Annotated[str, typer.Option("--kind", help=f"What it holds: {KINDS_HELP}")],
    options: Annotated[Optional[str], typer.Option("--options", help="A choice field's options: 'a,b,c'.")] = None,
    lookup: Annotated[
        Optional[str], typer.Option("--from", help="A lookup field's source: company.size, contact.Birthday, ...")
    ] = None,
    required: Annotated[bool, typer.Option("--required", help="Asked for in quick add.")] = False,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a custom field to deals, companies or contacts."""
    from crmtui.store.custom_fields import field_summary
    from crmtui.store.field_setup import add_field

    with open_session(ctx, db) as s:
        field = add_field(s, entity, name, kind, options=options, required=required, lookup=lookup)
    if json_out:
        print_json(field_summary(field))
        return
    detail = f"options {', '.join(field['choices'])}" if field["choices"] else f"from {field['source']}" \
        if field["kind"] == "lookup" else ""
    out.print(escape(f"Added {field['entity']} field {field['name']!r} ({field['kind']}"
                     f"{', ' + detail if detail else ''}{', required' if field['required'] else ''})"))


@fields_app.command("set")
@handles_errors
def fields_set(
    ctx: typer.Context,
    entity: EntityArg,
    name: NameArg,
    kind: Annotated[Optional[str], typer.Option("--kind", help=f"A new kind: {KINDS_HELP}")] = None,
    options: Annotated[Optional[str], typer.Option("--options", help="A choice field's options: 'a,b,c'.")] = None,
    required: Annotated[
        Optional[bool], typer.Option("--required/--optional", help="Whether quick add asks for it.")
    ] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Change a custom field's kind, options or whether quick add asks for it; its values are read
    again as the new kind (a value the new kind cannot hold refuses the change)."""
    from crmtui.store.custom_fields import field_summary
    from crmtui.store.field_setup import change_field

    with open_session(ctx, db) as s:
        field = change_field(s, entity, name, kind=kind, options=options, required=required)
    if json_out:
        print_json(field_summary(field))
        return
    detail = f", options {', '.join(field['choices'])}" if field["choices"] else ""
    out.print(escape(f"{field['entity'].capitalize()} field {field['name']!r} is {field['kind']}{detail}"
                     f"{', required' if field['required'] else ''}"))


@fields_app.command("rename")
@handles_errors
def fields_rename(ctx: typer.Context, entity: EntityArg, name: NameArg,
                  new_name: Annotated[str, typer.Argument(metavar="NEW", help="The new name.")],
                  db: DbOption = None) -> None:
    """Rename a custom field; its values stay."""
    from crmtui.store.field_setup import rename_field

    with open_session(ctx, db) as s:
        field = rename_field(s, entity, name, new_name)
    out.print(escape(f"Renamed the {field['entity']} field to {field['name']!r}"))


@fields_app.command("move")
@handles_errors
def fields_move(
    ctx: typer.Context,
    entity: EntityArg,
    name: NameArg,
    after: Annotated[Optional[str], typer.Option("--after", metavar="FIELD", help="Put it after this field.")] = None,
    first: Annotated[bool, typer.Option("--first", help="Put it first.")] = False,
    last: Annotated[bool, typer.Option("--last", help="Put it last.")] = False,
    db: DbOption = None,
) -> None:
    """Change where a custom field comes in the order of its record type."""
    from crmtui.store.field_setup import move_field

    with open_session(ctx, db) as s:
        order = move_field(s, entity, name, after=after, first=first, last=last)
    out.print(escape(f"Order: {', '.join(order)}"))


@fields_app.command("delete")
@handles_errors
def fields_delete(ctx: typer.Context, entity: EntityArg, name: NameArg, db: DbOption = None) -> None:
    """Move a custom field, with its values, to the trash (crmtui trash restore F<id> brings it back)."""
    from crmtui.store.field_setup import delete_field

    with open_session(ctx, db) as s:
        field = delete_field(s, entity, name)
    out.print(escape(f"Deleted the {field['entity']} field {field['name']!r} with its values;"
                     f" crmtui trash restore F{field['id']} brings them back"))


@fields_app.command("options")
@handles_errors
def fields_options(
    ctx: typer.Context,
    entity: EntityArg,
    name: NameArg,
    add: Annotated[Optional[str], typer.Option("--add", metavar="X", help="Offer one more option.")] = None,
    rename: Annotated[
        Optional[str], typer.Option("--rename", metavar="X=Y", help="Rename an option, in every record too.")
    ] = None,
    remove: Annotated[
        Optional[str], typer.Option("--remove", metavar="X", help="Stop offering an option (records keep it).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Change the options of a choice or multichoice field."""
    from crmtui.store import field_setup as setup
    from crmtui.store.errors import ValidationError

    if sum(x is not None for x in (add, rename, remove)) != 1:
        raise ValidationError("give one of --add X, --rename X=Y or --remove X")
    with open_session(ctx, db) as s:
        note = ""
        if add is not None:
            options = setup.add_option(s, entity, name, add)
        elif rename is not None:
            old, sep, new = rename.partition("=")
            if not sep:
                raise ValidationError(f"--rename: {rename!r} is not OLD=NEW", "rename")
            options, count = setup.rename_option(s, entity, name, old, new)
            note = f"; {_records(count, entity)} rewritten"
        else:
            options, count = setup.remove_option(s, entity, name, remove or "")
            note = f"; {_records(count, entity)} keep {remove.strip()!r}" if count else ""
    out.print(escape(f"Options: {', '.join(options)}{note}"))


def _records(count: int, entity: str) -> str:
    from crmtui.store.custom_fields import plural, record_type

    kind = record_type(entity)
    return f"{count} {kind if count == 1 else plural(kind)}"


@fields_app.command("hide")
@handles_errors
def fields_hide(ctx: typer.Context, entity: EntityArg,
                field: Annotated[str, typer.Argument(help="A built-in field, e.g. cost.")],
                db: DbOption = None) -> None:
    """Hide a built-in field from forms, pages and cards (the data and the export keep it)."""
    from crmtui.store.field_setup import hide_field

    with open_session(ctx, db) as s:
        key, changed = hide_field(s, entity, field)
    out.print(f"{'Hid' if changed else 'Already hidden:'} {key}", markup=False)


@fields_app.command("show")
@handles_errors
def fields_show(ctx: typer.Context, entity: EntityArg,
                field: Annotated[str, typer.Argument(help="A hidden built-in field.")], db: DbOption = None) -> None:
    """Show a hidden built-in field again."""
    from crmtui.store.field_setup import show_field

    with open_session(ctx, db) as s:
        key, changed = show_field(s, entity, field)
    out.print(f"{'Showing' if changed else 'Not hidden:'} {key}", markup=False)


@app.command("set", rich_help_panel=RECORDS)
@handles_errors
def set_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="12 or D12 a deal, C7 a company, P31 a contact.")],
    assignments: Annotated[
        list[str],
        typer.Argument(metavar="FIELD=VALUE...", help="e.g. amount=5000 'Customer size=large'; FIELD= clears."),
    ],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Change fields of a deal, company or contact, built-in or custom, checked as the app checks them."""
    from crmtui.store.editing import parse_assignments, set_fields
    from crmtui.store.trash import parse_ref

    parsed = parse_ref(ref, default="deal", allowed=("deal", "company", "contact"))
    values = parse_assignments(assignments)
    with open_session(ctx, db) as s:
        changed = set_fields(s, parsed.kind, parsed.id, values)
        record = _record(s, parsed.kind, parsed.id) if json_out else None
    if json_out:
        print_json(record)
    elif changed:
        out.print(escape(f"Updated {parsed.kind} {parsed}: {', '.join(changed)}"))
    else:
        out.print(escape(f"Nothing to change on {parsed.kind} {parsed}"))


def _record(session: Any, kind: str, record_id: int) -> dict[str, Any]:  # noqa: ANN401 - a Session
    """A record as its list or show command's --json prints it."""
    from crmtui.store.deals import deal_detail
    from crmtui.store.listing import company_rows, contact_rows

    if kind == "deal":
        return deal_detail(session, record_id)
    (row,) = (company_rows if kind == "company" else contact_rows)(session, **{f"{kind}_id": record_id})
    return row
