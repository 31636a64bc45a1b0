"""`crmtui hooks`: the user's scripts crmtui runs when something happens (see crmtui.store.hooks)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from crmtui.cli.common import (AUTOMATION, CsvOption, JsonOption, PlainTable, err, handles_errors, one_format, out,
                               print_csv, print_json, say)

app = typer.Typer()
hooks_app = typer.Typer(help="Your scripts run when something happens: list them, test one, read their log.",
                        no_args_is_help=True)
app.add_typer(hooks_app, name="hooks", rich_help_panel=AUTOMATION)


@hooks_app.command("list")
@handles_errors
def hooks_list(json_out: JsonOption = False, csv_out: CsvOption = False) -> None:
    """What is installed in the hooks folder under each event, and whether it runs (or why not)."""
    from crmtui.locations import hooks_dir
    from crmtui.store.hooks import EVENTS, installed

    one_format(json_out, csv_out)
    found = {hook.name: hook for hook in installed()}
    rows = [{"event": name, "path": str(hook.path) if hook else None, "runnable": bool(hook and hook.runnable),
             "problem": hook.problem if hook else None}
            for name in (*EVENTS, *(n for n in found if n not in EVENTS)) for hook in [found.get(name)]]
    if json_out:
        print_json({"folder": str(hooks_dir()), "hooks": rows})
        return
    if csv_out:
        print_csv(["event", "path", "runnable", "problem"],
                  ([r["event"], r["path"], r["runnable"], r["problem"]] for r in rows))
        return
    folder = hooks_dir()
    say(f"Hooks folder: {folder}" + ("" if folder.is_dir() else " (not made yet)"))
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("Event", "State"):
        table.add_column(name)
    for row in rows:
        state = "runnable" if row["runnable"] else f"refused: {row['problem']}" if row["path"] else "not installed"
        table.add_row(row["event"], state)
    out.print(table)
    if not found:
        say(f"Put an executable named after an event in {folder}; `crmtui hooks test EVENT` tries it.")


@hooks_app.command("test")
@handles_errors
def hooks_test(
    event: Annotated[str, typer.Argument(metavar="EVENT", help="deal-created, stage-changed, deal-won, deal-lost,"
                                         " task-due or import-finished.")],
) -> None:
    """Send EVENT's hook a sample (a made-up deal, with "test": true), wait for it and show how it went."""
    from crmtui.locations import hooks_dir
    from crmtui.store.errors import ValidationError
    from crmtui.store.hooks import EVENTS, find, run_hook, sample_payload, time_limit

    if event not in EVENTS:
        raise ValidationError(f"event: {event!r} is not one of {', '.join(EVENTS)}", "event")
    hook = find(event)
    if hook is None:
        raise ValidationError(f"no {event} hook: put an executable named {event} in {hooks_dir()}", "event")
    if not hook.runnable:
        raise ValidationError(f"the {event} hook is refused: {hook.problem}", "event")
    limit = time_limit()
    say(f"Sending a sample {event} event to {hook.path} (time limit {limit:g} s)...")
    outcome = run_hook(hook.path, sample_payload(event, None), time_limit=limit)
    for label, text in (("Output", outcome.stdout), ("Errors", outcome.stderr)):
        if text.strip():
            out.print(f"[bold]{label}:[/]")
            say(text.rstrip("\n"))
    if outcome.problem is not None:
        err.print(f"[bold red]Error:[/] the {event} hook failed: {escape(outcome.message or outcome.problem)}",
                  soft_wrap=True)
        raise typer.Exit(1)
    say(f"The {event} hook ran (exit code 0).")


@hooks_app.command("log")
@handles_errors
def hooks_log(
    limit: Annotated[int, typer.Option(help="At most this many (newest first).", min=1)] = 20,
    json_out: JsonOption = False,
) -> None:
    """Hooks that failed, timed out or were refused, newest first (the app then no longer shows them)."""
    from crmtui.locations import hooks_log_path
    from crmtui.store.hooks import log_entries, mark_seen

    entries = log_entries(limit)
    mark_seen(entries)
    if json_out:
        print_json(entries)
        return
    if not entries:
        say("No hook has failed." + (f" (log: {hooks_log_path()})" if hooks_log_path().exists() else ""))
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("When", "Event", "About", "What went wrong"):
        table.add_column(name, no_wrap=name != "What went wrong")
    for entry in entries:
        table.add_row(_local(entry.get("at", "")), str(entry.get("event")), entry.get("about") or "",
                      str(entry.get("message")))
    out.print(table)


def _local(at: str) -> str:
    """A logged UTC time as the user's local time, to the second."""
    import datetime as dt

    try:
        when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")
