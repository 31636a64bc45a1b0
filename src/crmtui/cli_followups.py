"""Follow-up commands: `crmtui today`, `crmtui rules show|set`, `crmtui snooze`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crmtui.cli import DbOption, JsonOption, PlainTable, app, err, handles_errors, open_session, out, print_json

rules_app = typer.Typer(help="Show or change the follow-up rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@app.command()
@handles_errors
def today(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Rows shown per section (counts are complete).", min=1)] = 5,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """What needs doing today. Exit code 0 when nothing is due, 1 when something is (for scripts)."""
    from crmtui.store.followups import compute_agenda

    with open_session(ctx, db) as s:
        agenda = compute_agenda(s, limit=limit)
    if json_out:
        print_json(agenda.to_json())
    elif agenda.total == 0:
        out.print(f"Nothing due today ({agenda.today.isoformat()}).")
    else:
        print_agenda(agenda)
    raise typer.Exit(1 if agenda.total else 0)


def print_agenda(agenda: Any) -> None:
    """The agenda's sections, a line per item. Each section is a grid, so that a line too long for
    the terminal wraps under its text, not under the ids."""
    from crmtui.store.followups import SECTIONS
    from crmtui.store.money import format_money_short

    out.print(f"[bold]Today, {agenda.today.strftime('%a %d %b %Y')}[/]")
    for name, title in SECTIONS.items():
        count = agenda.counts[name]
        if not count:
            continue
        out.print(f"\n[bold]{title}[/] ({count:,})")
        lines = PlainTable.grid(padding=(0, 0, 0, 2))
        lines.add_column(justify="right", no_wrap=True, min_width=7)
        lines.add_column()
        for item in agenda.items[name]:
            ref = f"#{item.deal_id}" if item.deal_id else f"task {item.task_id}"
            who = f" · {item.customer}" if item.customer else ""
            amount = f" · {format_money_short(item.amount_cents)}" if item.amount_cents else ""
            lines.add_row(ref, f"{item.title}{who}{amount} — {item.reason}")
        out.print(lines)
        if count > len(agenda.items[name]):
            out.print(f"  [dim]… and {count - len(agenda.items[name]):,} more[/]")


@rules_app.command("show")
@handles_errors
def rules_show(ctx: typer.Context, json_out: JsonOption = False, db: DbOption = None) -> None:
    """Show the follow-up rules and their values."""
    from crmtui.store.settings import SPECS, all_settings

    with open_session(ctx, db) as s:
        values = all_settings(s)
    if json_out:
        print_json(values)
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("Rule", "Value", "Default", "Meaning"):
        table.add_column(name)
    for key, spec in SPECS.items():
        show = lambda v: ("on" if v else "off") if spec.kind == "bool" else str(v)  # noqa: E731
        table.add_row(key, show(values[key]), show(spec.default), spec.help)
    out.print(table)


@rules_app.command("set")
@handles_errors
def rules_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The rule, e.g. stale-days (see `crmtui rules show`).")],
    value: Annotated[str, typer.Argument(help="The new value: a number of days, or on/off.")],
    db: DbOption = None,
) -> None:
    """Change a follow-up rule."""
    from crmtui.store.settings import SPECS, set_setting

    with open_session(ctx, db) as s:
        typed = set_setting(s, key, value)
    shown = ("on" if typed else "off") if SPECS[key].kind == "bool" else typed
    out.print(f"{key} = {shown}")


@app.command()
@handles_errors
def snooze(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    until: Annotated[str, typer.Argument(help="Until when: a date, +1w, fri ... or 'off' to wake it.")],
    db: DbOption = None,
) -> None:
    """Silence a deal's follow-up alerts until a date."""
    from crmtui.store.deals import snooze_deal

    with open_session(ctx, db) as s:
        deal, day = snooze_deal(s, deal_id, until)
    if day:
        out.print(f"Snoozed deal #{deal.id} until {day.isoformat()}")
    else:
        err.print(f"Deal #{deal.id} is awake: its alerts show again")



