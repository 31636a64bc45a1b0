"""`crmtui playbook`: the tasks a stage adds to each deal that enters it."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from crmtui.cli.common import (AUTOMATION, CsvOption, DbOption, JsonOption, PlainTable, handles_errors, one_format,
                               open_session, out, print_csv, print_json, say)

app = typer.Typer()
playbook_app = typer.Typer(help="The tasks a stage adds to each deal that enters it: list, add, remove.",
                           no_args_is_help=True)
app.add_typer(playbook_app, name="playbook", rich_help_panel=AUTOMATION)

PipelineOption = Annotated[
    Optional[str], typer.Option("--pipeline", help="Pipeline name (default: the default pipeline).")
]


@playbook_app.command("list")
@handles_errors
def playbook_list(
    ctx: typer.Context, pipeline: PipelineOption = None, json_out: JsonOption = False, csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """Each stage's playbook tasks, with their ids (for `playbook remove`) and when they fall due."""
    from crmtui.store.playbooks import list_entries

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        playbook = list_entries(s, pipeline)
    if json_out:
        print_json(playbook)
        return
    if csv_out:
        print_csv(["id", "stage", "task", "due"], ([t["id"], t["stage"], t["task"], t["due"]] for t in playbook["tasks"]))
        return
    if not playbook["tasks"]:
        say(f"No playbook tasks in {playbook['pipeline']!r}. Add one: crmtui playbook add STAGE TEXT --due +2d")
        return
    table = PlainTable(title=playbook["pipeline"], show_edge=False, header_style="bold")
    for name in ("ID", "Stage", "Task", "Due"):
        table.add_column(name, justify="right" if name == "ID" else "left")
    for t in playbook["tasks"]:
        table.add_row(str(t["id"]), t["stage"], t["task"], t["due"])
    out.print(table)


@playbook_app.command("add")
@handles_errors
def playbook_add(
    ctx: typer.Context,
    stage: Annotated[str, typer.Argument(metavar="STAGE", help="The stage: its name (any case) or 1-based position.")],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The task, e.g. 'Chase the proposal'.")],
    due: Annotated[str, typer.Option("--due", metavar="+5d", help="When it is due after the deal enters the"
                                     " stage: +5d, +2w or '5 days'; 0 the same day.")] = "0",
    pipeline: PipelineOption = None,
    db: DbOption = None,
) -> None:
    """Add a task to a stage's playbook: every deal that enters the stage from now on gets it."""
    from crmtui.store.models import Stage
    from crmtui.store.playbooks import add_entry

    with open_session(ctx, db) as s:
        entry = add_entry(s, stage, text, due, pipeline=pipeline)
        stage_name = s.get(Stage, entry.stage_id).name
    days = entry.due_days
    when = "the day" if not days else f"{days} day{'s' if days != 1 else ''} after"
    say(f"Added playbook task #{entry.id} to {stage_name!r}: {entry.body!r}, due {when} a deal enters it")


@playbook_app.command("remove")
@handles_errors
def playbook_remove(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="The playbook task's id (crmtui playbook list).")],
    db: DbOption = None,
) -> None:
    """Take a task off its stage's playbook; the tasks it already added to deals stay."""
    from crmtui.store.playbooks import remove_entry

    with open_session(ctx, db) as s:
        entry, stage_name = remove_entry(s, entry_id)
    say(f"Removed playbook task #{entry.id} {entry.body!r} from {stage_name!r}; tasks it added stay")
