"""Follow-ups from the shell: `crmtui today`, `log`, `task add|done|reschedule`, `tasks`,
`snooze`. Record ids: `12` or `D12` a deal,
`C7` a company, `P31` a contact (person), `A88` an activity or task."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.text import Text

from crmtui.cli.common import (DAILY, CsvOption, DbOption, JsonOption, PlainTable, err, handles_errors, one_format,
                               open_session, out, print_csv, print_json, print_paged, record_table)

app = typer.Typer()
task_app = typer.Typer(help="Add a task to a record, or mark one done.", no_args_is_help=True)
app.add_typer(task_app, name="task", rich_help_panel=DAILY)


@app.command(rich_help_panel=DAILY)
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


@app.command(rich_help_panel=DAILY)
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


RecordArg = Annotated[
    str, typer.Argument(metavar="ID", help="Deal id (12 or D12), company C7 or contact P31.")
]


@app.command("log", rich_help_panel=DAILY)
@handles_errors
def log(
    ctx: typer.Context,
    record: RecordArg,
    note: Annotated[Optional[str], typer.Option("--note", help="Log a note with this text.")] = None,
    call: Annotated[Optional[str], typer.Option("--call", help="Log a call with this text.")] = None,
    email: Annotated[Optional[str], typer.Option("--email", help="Log an email with this text.")] = None,
    meeting: Annotated[Optional[str], typer.Option("--meeting", help="Log a meeting with this text.")] = None,
    date: Annotated[Optional[str], typer.Option("--date", help="When it happened (default: now).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Log a note, call, email or meeting on a deal, company or contact."""
    from crmtui.store.activities import log_activity
    from crmtui.store.errors import ValidationError
    from crmtui.store.trash import parse_ref

    given = [(k, v) for k, v in (("note", note), ("call", call), ("email", email), ("meeting", meeting)) if v is not None]
    if len(given) != 1:
        raise ValidationError("give exactly one of --note, --call, --email or --meeting with its text")
    kind, body = given[0]
    ref = parse_ref(record, default="deal", allowed=("deal", "company", "contact"))
    with open_session(ctx, db) as s:
        activity = log_activity(s, kind, ref.kind, ref.id, body, when=date)
        result = {"id": activity.id, "ref": f"A{activity.id}", "kind": kind, "record": str(ref),
                  "occurred_at": activity.occurred_at.isoformat(timespec="seconds") + "Z", "text": activity.body}
    if json_out:
        print_json(result)
    else:
        out.print(f"Logged {kind} A{activity.id} on {ref.kind} {ref.id}")


@task_app.command("add")
@handles_errors
def task_add(
    ctx: typer.Context,
    record: RecordArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to do.")],
    due: Annotated[str, typer.Option("--due", help="Due date: 2026-12-01, tomorrow, fri, +3d ...")] = "",
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a task with a due date to a deal, company or contact."""
    from crmtui.store.activities import add_task
    from crmtui.store.trash import parse_ref

    ref = parse_ref(record, default="deal", allowed=("deal", "company", "contact"))
    with open_session(ctx, db) as s:
        task = add_task(s, ref.kind, ref.id, text, due)
        result = {"id": task.id, "ref": f"A{task.id}", "record": str(ref), "text": task.body,
                  "due_on": task.due_on.isoformat()}
    if json_out:
        print_json(result)
    else:
        out.print(f"Added task {task.id} on {ref.kind} {ref.id}, due {task.due_on.isoformat()}")


@task_app.command("done")
@handles_errors
def task_done(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument(metavar="TASK_ID", help="The task's id (as `crmtui tasks` shows).")],
    db: DbOption = None,
) -> None:
    """Mark a task done."""
    from crmtui.store.activities import complete_task

    with open_session(ctx, db) as s:
        task = complete_task(s, task_id)
        body = task.body
    out.print(f"Done: task {task.id} {body!r}", markup=False)


@task_app.command("reschedule")
@handles_errors
def task_reschedule(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument(metavar="TASK_ID", help="The task's id (as `crmtui tasks` shows).")],
    due: Annotated[str, typer.Argument(metavar="DUE", help="The new due date: 2026-12-01, tomorrow, fri, +1w ...")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Give an open task a new due date."""
    from crmtui.store.activities import reschedule_task

    with open_session(ctx, db) as s:
        task = reschedule_task(s, task_id, due)
        result = {"id": task.id, "ref": f"A{task.id}", "text": task.body, "due_on": task.due_on.isoformat()}
    if json_out:
        print_json(result)
    else:
        out.print(f"Rescheduled task {task.id} {task.body!r}: due {result['due_on']}", markup=False)


@app.command("tasks", rich_help_panel=DAILY)
@handles_errors
def tasks_list(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only tasks due before today.")] = False,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """Open tasks by due date, overdue first."""
    from crmtui.store.activities import tasks

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = tasks(s, overdue=overdue)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "due", "task", "about"], ([r["id"], r["due_on"], r["body"], _about(r)] for r in rows))
        return
    if not rows:
        err.print("No overdue tasks." if overdue else "No open tasks. Add one with [bold]crmtui task add ID TEXT --due DATE[/].")
        return
    lines: list[list[str | Text]] = []
    for r in rows:
        about = _about(r)
        style = "red" if r["overdue"] else ("bold" if r["due_today"] else "")
        lines.append([str(r["id"]), Text(r["due_on"] or "", style=style), r["body"], about])
    print_paged(ctx, record_table([("ID", "figure"), ("Due", "fixed"), ("Task", "text"), ("About", "text")], lines,
                                  main="Task"))


def _about(task: dict[str, Any]) -> str:
    """What a task is about, as the list shows it: `D12 Logo refresh`, else the company or contact."""
    return task["deal"] and f"D{task['deal_id']} {task['deal']}" or task["company"] or task["contact"] or ""
