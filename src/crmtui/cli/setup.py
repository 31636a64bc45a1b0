"""Shaping crmtui to the way you sell, from the shell: `crmtui stages`, and the follow-up rules
(`crmtui rules show|set`)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from crmtui.cli.common import SETUP, DbOption, JsonOption, PlainTable, handles_errors, open_session, out, print_json

app = typer.Typer()
rules_app = typer.Typer(help="Show or change the follow-up rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules", rich_help_panel=SETUP)


@app.command(rich_help_panel=SETUP)
@handles_errors
def stages(
    ctx: typer.Context,
    pipeline: Annotated[Optional[str], typer.Option(help="Pipeline name (default: the default pipeline).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List the stages of a pipeline, with probability and expected days."""
    from crmtui.store.pipelines import find_pipeline, list_stages

    with open_session(ctx, db) as s:
        pipe = find_pipeline(s, pipeline)
        rows = [
            {"position": i + 1, "name": st.name, "kind": st.kind, "probability": st.probability,
             "expected_days": st.expected_days}
            for i, st in enumerate(list_stages(s, pipe.id))
        ]
    if json_out:
        print_json({"pipeline": pipe.name, "stages": rows})
        return
    table = PlainTable(title=pipe.name, show_edge=False, header_style="bold")
    for name in ("#", "Stage", "Kind", "Probability", "Expected days"):
        table.add_column(name)
    for r in rows:
        table.add_row(str(r["position"]), r["name"], r["kind"], f"{r['probability']}%", str(r["expected_days"] or "–"))
    out.print(table)


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
