"""Shaping crmtui to the way you sell, from the shell: `crmtui pipelines ...`, `crmtui stages ...`,
and the follow-up rules (`crmtui rules show|set`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import (SETUP, CsvOption, DbOption, JsonOption, PlainTable, handles_errors, one_format,
                               open_session, out, print_csv, print_json, say)

app = typer.Typer()
rules_app = typer.Typer(help="Show or change the follow-up rules.", no_args_is_help=True)
pipelines_app = typer.Typer(help="List, add, rename, delete pipelines; choose the default one.",
                            invoke_without_command=True)
stages_app = typer.Typer(help="List the stages of a pipeline (without a command), or add, change, rename, reorder"
                              " and delete them.", invoke_without_command=True)
app.add_typer(pipelines_app, name="pipelines", rich_help_panel=SETUP)
app.add_typer(stages_app, name="stages", rich_help_panel=SETUP)
app.add_typer(rules_app, name="rules", rich_help_panel=SETUP)

PipelineOption = Annotated[
    Optional[str], typer.Option("--pipeline", help="Pipeline name (default: the default pipeline).")
]
StageArg = Annotated[str, typer.Argument(metavar="STAGE", help="The stage: its name, or its 1-based position.")]
PipelineArg = Annotated[str, typer.Argument(metavar="PIPELINE", help="The pipeline's name.")]
ProbabilityOption = Annotated[Optional[str], typer.Option("--probability", metavar="0-100",
                                                          help="Win probability in percent.")]
DaysOption = Annotated[Optional[str], typer.Option("--expected-days", metavar="N|none",
                                                   help="Days a deal should sit here before it shows as aging.")]
KindOption = Annotated[Optional[str], typer.Option("--kind", metavar="open|won|lost|closed",
                                                   help="What a deal in this stage is.")]
ColorOption = Annotated[Optional[str], typer.Option("--color", "--colour", metavar="COLOUR",
                                                    help="Its colour on the board and the deal page: a name such as"
                                                         " green or dark_orange, #rrggbb, or none.")]


def _group_options(ctx: typer.Context, db: Path | None) -> None:
    """`crmtui stages --db X add ...`: the group's --db holds for its command too."""
    if db is not None:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "db": db}


def _pipeline(ctx: typer.Context, pipeline: str | None) -> str | None:
    """The command's --pipeline, else the one given to the group (`crmtui stages --pipeline X add ...`)."""
    return pipeline if pipeline is not None else (ctx.parent.params.get("pipeline") if ctx.parent else None)


# --- pipelines -----------------------------------------------------------------------------------


@pipelines_app.callback()
@handles_errors
def pipelines_main(ctx: typer.Context, json_out: JsonOption = False, csv_out: CsvOption = False,
                   db: DbOption = None) -> None:
    """List, add, rename and delete pipelines; choose the default one. Without a command: the list."""
    _group_options(ctx, db)
    if ctx.invoked_subcommand is None:
        _print_pipelines(ctx, json_out, csv_out, db)


@pipelines_app.command("list")
@handles_errors
def pipelines_list(ctx: typer.Context, json_out: JsonOption = False, csv_out: CsvOption = False,
                   db: DbOption = None) -> None:
    """The pipelines, with their stages and deals; the default one marked."""
    _print_pipelines(ctx, json_out, csv_out, db)


def _print_pipelines(ctx: typer.Context, json_out: bool, csv_out: bool, db: Path | None) -> None:
    from crmtui.store.setup_pipelines import pipeline_rows

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = pipeline_rows(s)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["position", "pipeline", "default", "stages", "open_deals", "deals"],
                  ([r["position"], r["name"], bool(r["default"]), r["stages"], r["open_deals"], r["deals"]]
                   for r in rows))
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("#", "Pipeline", "Default", "Stages", "Open deals", "Deals"):
        table.add_column(name, justify="right" if name in ("#", "Stages", "Open deals", "Deals") else "left")
    for r in rows:
        table.add_row(str(r["position"]), r["name"], "default" if r["default"] else "", str(r["stages"]),
                      f"{r['open_deals']:,}", f"{r['deals']:,}")
    out.print(table)


@pipelines_app.command("add")
@handles_errors
def pipelines_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The new pipeline's name.")],
    copy_stages_from: Annotated[Optional[str], typer.Option(
        "--copy-stages-from", metavar="PIPELINE", help="Start with this pipeline's stages (default: the default"
                                                        " stages).")] = None,
    db: DbOption = None,
) -> None:
    """Add a pipeline, with the default stages or a copy of another pipeline's."""
    from crmtui.store.pipelines import find_pipeline, list_stages
    from crmtui.store.setup_pipelines import add_pipeline

    with open_session(ctx, db) as s:
        pipe = add_pipeline(s, name, copy_stages_from=copy_stages_from)
        n = len(list_stages(s, pipe.id))
        source = "the default stages"
        if copy_stages_from:
            source = f"copied from {find_pipeline(s, copy_stages_from).name!r}"
    say(f"Added pipeline {pipe.name!r} with {n} stages ({source})")


@pipelines_app.command("rename")
@handles_errors
def pipelines_rename(
    ctx: typer.Context,
    pipeline: PipelineArg,
    new_name: Annotated[str, typer.Argument(metavar="NEW", help="Its new name.")],
    db: DbOption = None,
) -> None:
    """Rename a pipeline."""
    from crmtui.store.setup_pipelines import rename_pipeline

    with open_session(ctx, db) as s:
        old, pipe = rename_pipeline(s, pipeline, new_name)
    say(f"Renamed pipeline {old!r} to {pipe.name!r}" if old != pipe.name else f"Pipeline {old!r} keeps its name")


@pipelines_app.command("default")
@handles_errors
def pipelines_default(ctx: typer.Context, pipeline: PipelineArg, db: DbOption = None) -> None:
    """Make a pipeline the default: where new deals go and the board opens."""
    from crmtui.store.setup_pipelines import set_default_pipeline

    with open_session(ctx, db) as s:
        pipe = set_default_pipeline(s, pipeline)
    say(f"{pipe.name!r} is the default pipeline")


@pipelines_app.command("delete")
@handles_errors
def pipelines_delete(
    ctx: typer.Context,
    pipeline: PipelineArg,
    move_deals_to: Annotated[Optional[str], typer.Option(
        "--move-deals-to", metavar="PIPELINE", help="Move its deals here: each to the stage of the same name, else"
                                                     " the first stage of the same kind.")] = None,
    db: DbOption = None,
) -> None:
    """Delete a pipeline. One that holds deals needs --move-deals-to; the last one stays."""
    from crmtui.store.setup_pipelines import delete_pipeline

    with open_session(ctx, db) as s:
        done = delete_pipeline(s, pipeline, move_deals_to=move_deals_to)
    parts = [f"Deleted pipeline {done.pipeline.name!r}"]
    if done.target is not None:
        parts.append(f"moved {done.moved:,} deal{'s' if done.moved != 1 else ''} to {done.target.name!r}")
    if done.new_default is not None:
        parts.append(f"{done.new_default.name!r} is the default pipeline now")
    say("; ".join(parts))


# --- stages --------------------------------------------------------------------------------------


@stages_app.callback()
@handles_errors
def stages(
    ctx: typer.Context,
    pipeline: PipelineOption = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """List the stages of a pipeline, with probability and expected days (without a command); add,
    change, rename, reorder and delete them."""
    _group_options(ctx, db)
    if ctx.invoked_subcommand is not None:
        return
    one_format(json_out, csv_out)
    from crmtui.store.pipelines import find_pipeline, list_stages

    with open_session(ctx, db) as s:
        pipe = find_pipeline(s, pipeline)
        rows = [
            {"position": i + 1, "name": st.name, "kind": st.kind, "probability": st.probability,
             "expected_days": st.expected_days, "color": st.color}
            for i, st in enumerate(list_stages(s, pipe.id))
        ]
    if json_out:
        print_json({"pipeline": pipe.name, "stages": rows})
        return
    if csv_out:  # the table's title, the pipeline, is a column here
        print_csv(["pipeline", "position", "stage", "kind", "probability", "expected_days", "color"],
                  ([pipe.name, r["position"], r["name"], r["kind"], r["probability"], r["expected_days"], r["color"]]
                   for r in rows))
        return
    table = PlainTable(title=pipe.name, show_edge=False, header_style="bold")
    for name in ("#", "Stage", "Kind", "Probability", "Expected days", "Colour"):
        table.add_column(name)
    for r in rows:
        table.add_row(str(r["position"]), r["name"], r["kind"], f"{r['probability']}%",
                      str(r["expected_days"] or "–"), r["color"] or "–")
    out.print(table)


def _describe(stage: Any) -> str:  # noqa: ANN401 - a Stage
    days = f"{stage.expected_days} days" if stage.expected_days else "no aging alert"
    return f"{stage.kind}, {stage.probability}%, {days}" + (f", colour {stage.color}" if stage.color else "")


@stages_app.command("add")
@handles_errors
def stages_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The new stage's name.")],
    pipeline: PipelineOption = None,
    after: Annotated[Optional[str], typer.Option("--after", metavar="STAGE", help="Put it after this stage"
                                                 " (default: after the last open stage).")] = None,
    probability: ProbabilityOption = None,
    expected_days: DaysOption = None,
    kind: Annotated[str, typer.Option("--kind", metavar="open|won|lost|closed",
                                      help="What a deal in this stage is.")] = "open",
    color: ColorOption = None,
    db: DbOption = None,
) -> None:
    """Add a stage to a pipeline."""
    from crmtui.store.pipelines import find_pipeline
    from crmtui.store.setup_pipelines import add_stage

    with open_session(ctx, db) as s:
        stage = add_stage(s, name, pipeline=_pipeline(ctx, pipeline), after=after, probability=probability,
                          expected_days=expected_days, kind=kind, color=color)
        pipe = find_pipeline(s, stage.pipeline_id)
    say(f"Added stage {stage.name!r} to {pipe.name!r} ({_describe(stage)})")


@stages_app.command("set")
@handles_errors
def stages_set(
    ctx: typer.Context,
    stage: StageArg,
    pipeline: PipelineOption = None,
    probability: ProbabilityOption = None,
    expected_days: DaysOption = None,
    kind: KindOption = None,
    color: ColorOption = None,
    db: DbOption = None,
) -> None:
    """Change a stage's probability, expected days, kind or colour."""
    from crmtui.store.errors import ValidationError
    from crmtui.store.setup_pipelines import update_stage

    given = {"probability": probability, "expected_days": expected_days, "kind": kind, "color": color}
    changes = {key: value for key, value in given.items() if value is not None}
    if not changes:
        raise ValidationError("say what to change: --probability, --expected-days, --kind or --color")
    with open_session(ctx, db) as s:
        st = update_stage(s, stage, pipeline=_pipeline(ctx, pipeline), **changes)
    say(f"Stage {st.name!r}: {_describe(st)}")


@stages_app.command("rename")
@handles_errors
def stages_rename(
    ctx: typer.Context,
    stage: StageArg,
    new_name: Annotated[str, typer.Argument(metavar="NEW", help="Its new name.")],
    pipeline: PipelineOption = None,
    db: DbOption = None,
) -> None:
    """Rename a stage; its deals' history shows the new name."""
    from crmtui.store.setup_pipelines import rename_stage

    with open_session(ctx, db) as s:
        old, st = rename_stage(s, stage, new_name, pipeline=_pipeline(ctx, pipeline))
    say(f"Renamed stage {old!r} to {st.name!r}" if old != st.name else f"Stage {old!r} keeps its name")


@stages_app.command("move")
@handles_errors
def stages_move(
    ctx: typer.Context,
    stage: StageArg,
    after: Annotated[Optional[str], typer.Option("--after", metavar="STAGE", help="Put it after this stage.")] = None,
    first: Annotated[bool, typer.Option("--first", help="Make it the first stage.")] = False,
    last: Annotated[bool, typer.Option("--last", help="Make it the last stage.")] = False,
    pipeline: PipelineOption = None,
    db: DbOption = None,
) -> None:
    """Reorder a stage: --after STAGE, --first or --last."""
    from crmtui.store.pipelines import list_stages
    from crmtui.store.setup_pipelines import move_stage

    with open_session(ctx, db) as s:
        st = move_stage(s, stage, pipeline=_pipeline(ctx, pipeline), after=after, first=first, last=last)
        order = [x.name for x in list_stages(s, st.pipeline_id)]
    say(f"Moved stage {st.name!r}: " + " → ".join(order))


@stages_app.command("delete")
@handles_errors
def stages_delete(
    ctx: typer.Context,
    stage: StageArg,
    move_deals_to: Annotated[Optional[str], typer.Option(
        "--move-deals-to", metavar="STAGE", help="Move its deals to this stage of the same pipeline.")] = None,
    pipeline: PipelineOption = None,
    db: DbOption = None,
) -> None:
    """Delete a stage. One that holds deals needs --move-deals-to; the history keeps its name."""
    from crmtui.store.setup_pipelines import delete_stage

    with open_session(ctx, db) as s:
        done = delete_stage(s, stage, pipeline=_pipeline(ctx, pipeline), move_deals_to=move_deals_to)
    message = f"Deleted stage {done.stage.name!r}"
    if done.target is not None:
        message += f"; moved {done.moved:,} deal{'s' if done.moved != 1 else ''} to {done.target.name!r}"
    say(message)


# --- follow-up rules -----------------------------------------------------------------------------


@rules_app.command("show")
@handles_errors
def rules_show(ctx: typer.Context, json_out: JsonOption = False, csv_out: CsvOption = False,
               db: DbOption = None) -> None:
    """Show the follow-up rules and their values (`crmtui settings show` shows the other settings)."""
    from crmtui.store.settings import RULES, SPECS, all_settings, show_value

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        values = all_settings(s)
    if json_out:
        print_json({key: values[key] for key in RULES})
        return
    if csv_out:
        print_csv(["rule", "value", "default", "meaning"],
                  ([key, values[key], SPECS[key].default, SPECS[key].help] for key in RULES))
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("Rule", "Value", "Default", "Meaning"):
        table.add_column(name)
    for key in RULES:
        table.add_row(key, show_value(key, values[key]), show_value(key, SPECS[key].default), SPECS[key].help)
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
    from crmtui.store.settings import set_setting, show_value

    with open_session(ctx, db) as s:
        typed = set_setting(s, key, value)
    out.print(f"{key} = {show_value(key, typed)}", markup=False)
