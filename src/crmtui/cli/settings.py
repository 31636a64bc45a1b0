"""Choice lists and general settings from the shell: `crmtui choices ...`, `crmtui settings ...`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from crmtui.cli.common import (SETUP, CsvOption, DbOption, JsonOption, PlainTable, handles_errors, one_format,
                               open_session, out, print_csv, print_json)

app = typer.Typer()
choices_app = typer.Typer(help="The lists forms offer: source, lost-reason, customer-size, category.",
                          no_args_is_help=True)
settings_app = typer.Typer(help="Currency, locale, theme, start screen and the other settings.", no_args_is_help=True)
app.add_typer(choices_app, name="choices", rich_help_panel=SETUP)
app.add_typer(settings_app, name="settings", rich_help_panel=SETUP)

ListArg = Annotated[str, typer.Argument(metavar="LIST", help="source, lost-reason, customer-size or category.")]


_PLURAL = {"deal": "deals", "company": "companies"}


def _records(counts: dict[str, int]) -> str:
    """`12 deals and 3 companies` (nothing for none)."""
    return " and ".join(f"{n:,} {table if n == 1 else _PLURAL[table]}" for table, n in counts.items() if n)


def _said(value: str) -> str:
    return repr(" ".join(value.split()))


# --- choices -----------------------------------------------------------------------------------


@choices_app.command("list")
@handles_errors
def choices_list(
    ctx: typer.Context,
    list_: Annotated[Optional[str], typer.Argument(metavar="[LIST]", help="Only this list.")] = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """Show the choice lists (or one), in the order forms offer them."""
    from crmtui.store.choices import all_lists, list_name, shown_name

    one_format(json_out, csv_out)
    wanted = list_name(list_) if list_ is not None else None
    with open_session(ctx, db) as s:
        lists = {shown_name(name): values for name, values in all_lists(s).items() if wanted in (None, name)}
    if json_out:
        print_json(lists)
        return
    if csv_out:
        print_csv(["list", "position", "value"],
                  ([name, i + 1, value] for name, values in lists.items() for i, value in enumerate(values)))
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("List", "#", "Value"):
        table.add_column(name)
    for name, values in lists.items():
        for i, value in enumerate(values):
            table.add_row(name if i == 0 else "", str(i + 1), value)
        if not values:
            table.add_row(name, "", "(empty)")
    out.print(table)


@choices_app.command("add")
@handles_errors
def choices_add(
    ctx: typer.Context,
    list_: ListArg,
    value: Annotated[str, typer.Argument(help="The value to offer, added at the end.")],
    db: DbOption = None,
) -> None:
    """Add a value to a list."""
    from crmtui.store.choices import add_choice, list_name, shown_name

    with open_session(ctx, db) as s:
        added = add_choice(s, list_, value)
    out.print(f"Added {added!r} to {shown_name(list_name(list_))}", markup=False)


@choices_app.command("rename")
@handles_errors
def choices_rename(
    ctx: typer.Context,
    list_: ListArg,
    old: Annotated[str, typer.Argument(help="The value as it is now (any case).")],
    new: Annotated[str, typer.Argument(help="What it becomes, in the list and in every record that says it.")],
    db: DbOption = None,
) -> None:
    """Rename a value; every deal or company that says it is renamed with it."""
    from crmtui.store.choices import list_name, rename_choice, shown_name

    with open_session(ctx, db) as s:
        changed = rename_choice(s, list_, old, new)
    records = _records(changed)
    out.print(f"Renamed {_said(old)} to {_said(new)} in {shown_name(list_name(list_))}"
              + (f"; {records} now say it" if records else ""), markup=False)


@choices_app.command("remove")
@handles_errors
def choices_remove(
    ctx: typer.Context,
    list_: ListArg,
    value: Annotated[str, typer.Argument(help="The value to stop offering.")],
    db: DbOption = None,
) -> None:
    """Stop offering a value. Records that say it keep it."""
    from crmtui.store.choices import list_name, remove_choice, shown_name

    with open_session(ctx, db) as s:
        still = remove_choice(s, list_, value)
    records = _records(still)
    out.print(f"Removed {_said(value)} from {shown_name(list_name(list_))}"
              + (f"; {records} still say it" if records else ""), markup=False)


@choices_app.command("move")
@handles_errors
def choices_move(
    ctx: typer.Context,
    list_: ListArg,
    value: Annotated[str, typer.Argument(help="The value to move.")],
    after: Annotated[Optional[str], typer.Option("--after", help="Put it right after this value.")] = None,
    first: Annotated[bool, typer.Option("--first", help="Put it first.")] = False,
    last: Annotated[bool, typer.Option("--last", help="Put it last.")] = False,
    db: DbOption = None,
) -> None:
    """Change where a value stands in its list."""
    from crmtui.store.choices import list_name, move_choice, shown_name

    with open_session(ctx, db) as s:
        order = move_choice(s, list_, value, after=after, first=first, last=last)
    out.print(f"{shown_name(list_name(list_))}: {', '.join(order)}", markup=False)


# --- settings ----------------------------------------------------------------------------------


@settings_app.command("show")
@handles_errors
def settings_show(ctx: typer.Context, json_out: JsonOption = False, csv_out: CsvOption = False,
                  db: DbOption = None) -> None:
    """Show every setting: the general ones, then the follow-up rules."""
    from crmtui.store.settings import GENERAL, RULES, SPECS, all_settings, show_value

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        values = all_settings(s)
    if json_out:
        print_json(values)
        return
    if csv_out:
        print_csv(["setting", "value", "default", "meaning"],
                  ([key, values[key], SPECS[key].default, SPECS[key].help] for key in (*GENERAL, *RULES)))
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("Setting", "Value", "Default", "Meaning"):
        table.add_column(name)
    for keys in (GENERAL, RULES):
        if keys is RULES:
            table.add_section()
        for key in keys:
            table.add_row(key, show_value(key, values[key]), show_value(key, SPECS[key].default), SPECS[key].help)
    out.print(table)


@settings_app.command("set")
@handles_errors
def settings_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The setting, e.g. locale (see `crmtui settings show`).")],
    value: Annotated[str, typer.Argument(help="The new value; `none` clears a locale or card fields.")],
    db: DbOption = None,
) -> None:
    """Change a setting (a follow-up rule too)."""
    from crmtui.store.settings import set_setting, show_value

    with open_session(ctx, db) as s:
        typed = set_setting(s, key, value)
    out.print(f"{key} = {show_value(key, typed)}", markup=False)
