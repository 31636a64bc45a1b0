"""The `crmtui` command: opens the TUI, and scripting commands over the same store functions."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from crmtui import __version__
from crmtui.locations import DB_ENV, resolve_db_path
from crmtui.store.errors import CrmError

app = typer.Typer(
    name="crmtui",
    help="A sales CRM in the terminal. Without a command, opens the app.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
add_app = typer.Typer(help="Add a deal, company or contact.", no_args_is_help=True)
deals_app = typer.Typer(help="List deals.", no_args_is_help=True)
companies_app = typer.Typer(help="List companies.", no_args_is_help=True)
contacts_app = typer.Typer(help="List contacts.", no_args_is_help=True)
deal_app = typer.Typer(help="Show one deal.", no_args_is_help=True)
app.add_typer(add_app, name="add")
app.add_typer(deals_app, name="deals")
app.add_typer(companies_app, name="companies")
app.add_typer(contacts_app, name="contacts")
app.add_typer(deal_app, name="deal")



class Output(Console):
    """A Rich console that fits its output to a terminal, and only to one. Written to a pipe or a
    file, a message stays on one line and a table takes its natural width, so what a script, a log
    or a test reads never depends on $COLUMNS or on the length of a path in a message. A width set
    on purpose (`Output(width=...)`, `out.width = 60`) lays out for that width, as in a terminal."""

    UNBOUNDED = 100_000

    def fits_a_width(self) -> bool:
        return self.is_terminal or self._width is not None

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        return size if self.fits_a_width() else ConsoleDimensions(self.UNBOUNDED, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    def print(self, *objects: Any, soft_wrap: bool | None = None, **kwargs: Any) -> None:
        super().print(*objects, soft_wrap=not self.fits_a_width() if soft_wrap is None else soft_wrap, **kwargs)


out = Output(highlight=False)
err = Output(stderr=True, highlight=False)

class PlainTable(Table):
    """A Rich table whose string cells are data, shown as written: a company called "[b]Co" is not
    markup. Put styled text in as rich.text.Text."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(Text(r) if isinstance(r, str) else r for r in renderables), **kwargs)


def record_table(columns: list[tuple[str, str]], rows: list[list[str | Text]], *, main: str) -> PlainTable:
    """A list of records, one line each, fitted to the terminal. `columns` are (header, kind):
    "figure" (right-aligned, never cut), "fixed" (a date or time: never cut), or "text" (cut
    with an ellipsis when there is no room; see `fit_widths`)."""
    from rich.cells import cell_len

    natural = [max([cell_len(name)] + [cell_len(str(row[i])) for row in rows]) for i, (name, _kind) in enumerate(columns)]
    room = out.width - 3 * len(columns) + 1  # one cell of padding each side, a rule between columns
    widths = fit_widths(natural, [kind == "text" for _name, kind in columns],
                        [2 if name == main else 1 for name, _kind in columns], room)
    table = PlainTable(show_edge=False, header_style="bold")
    for (name, kind), width in zip(columns, widths):
        table.add_column(name, justify="right" if kind == "figure" else "left", no_wrap=True,
                         overflow="ellipsis", width=width)
    for row in rows:
        table.add_row(*row)
    return table


def fit_widths(natural: list[int], cuttable: list[bool], weights: list[int], room: int) -> list[int]:
    """Column widths within `room` cells. The columns that cannot be cut keep their natural width;
    the others share the rest by weight, each up to its natural width (water-filling: a common
    level rises until the room is spent; a column that reaches its natural width stops, and the
    others share what it leaves), each at least 6 cells where it needs them, fewer (down to 3)
    only in a very narrow terminal."""
    if sum(natural) <= room:
        return list(natural)
    text = [i for i, cut in enumerate(cuttable) if cut]
    budget = room - sum(w for w, cut in zip(natural, cuttable) if not cut)
    level, rising = 0.0, set(text)
    while rising:
        level = (budget - sum(natural[i] for i in text if i not in rising)) / sum(weights[i] for i in rising)
        full = {i for i in rising if natural[i] <= weights[i] * level}
        if not full:
            break
        rising -= full
    widths = list(natural)
    for i in rising:
        widths[i] = max(min(natural[i], 6), int(weights[i] * level))
    excess = sum(widths[i] for i in text) - budget
    while excess > 0 and text and max(widths[i] for i in text) > 3:
        widest = max(text, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help=f"Database file (default: ${DB_ENV}, else the user data dir).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(func: F) -> F:
    """Any CrmError becomes one line on stderr and exit code 1; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CrmError as exc:
            print_error(exc.message)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_error(message: str) -> None:
    """One error line on stderr, as every command shows its errors."""
    err.print(f"[bold red]Error:[/] {escape(message)}", markup=True, soft_wrap=True)


def db_path(ctx: typer.Context, db: Path | None) -> Path:
    """The subcommand's --db, else the global one, else $CRMTUI_DB, else the default."""
    root = ctx.find_root()
    return resolve_db_path(db or (root.obj or {}).get("db"))


@contextmanager
def open_session(ctx: typer.Context, db: Path | None) -> Iterator[Any]:
    from crmtui.store.db import open_database

    database = open_database(db_path(ctx, db))
    if database.backup_path:
        err.print(f"Upgraded the database; a copy of the old one is at {database.backup_path}")
    try:
        with database.session() as session:
            yield session
    finally:
        database.close()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmtui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: DbOption = None,
    version: Annotated[
        bool, typer.Option("--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is None:
        run_tui(db)


@handles_errors
def run_tui(db: Path | None) -> None:
    from crmtui.app import make_app
    from crmtui.store.db import open_database

    path = resolve_db_path(db)
    database = open_database(path)  # errors here are reported before the screen switches
    make_app(database, own_process=True).run()


# --- demo --------------------------------------------------------------------------------------


@app.command()
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


# --- add ---------------------------------------------------------------------------------------


@add_app.command("deal")
@handles_errors
def add_deal(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="What is being sold, e.g. 'Website relaunch'.")],
    company: Annotated[Optional[str], typer.Option(help="Company name (created if new) or #id.")] = None,
    contact: Annotated[Optional[str], typer.Option(help="Contact name or email (created if new) or #id.")] = None,
    amount: Annotated[Optional[str], typer.Option(help="Amount, e.g. 12500 or 12,500.00.")] = None,
    stage: Annotated[Optional[str], typer.Option(help="Stage name (default: the first open stage).")] = None,
    pipeline: Annotated[Optional[str], typer.Option(help="Pipeline name (default: the default pipeline).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag (the service sold); repeat for more.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the lead came from.")] = None,
    close_date: Annotated[Optional[str], typer.Option("--close-date", help="Expected close date.")] = None,
    confidence: Annotated[Optional[int], typer.Option(help="Your confidence, 1-5 stars.")] = None,
    follow_up: Annotated[
        Optional[bool],
        typer.Option("--follow-up/--no-follow-up", help="Add the 'Follow up' task (default: the follow-up rule)."),
    ] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a deal."""
    from crmtui.store.deals import create_deal, deal_detail

    with open_session(ctx, db) as s:
        deal = create_deal(
            s, title, company=company, contact=contact, amount=amount, stage=stage, pipeline=pipeline,
            tags=tag, source=source, expected_close=close_date, confidence=confidence, follow_up=follow_up,
        )
        row = deal_detail(s, deal.id)
    if json_out:
        print_json(row)
    else:
        out.print(escape(f"Added deal #{row['id']} {row['title']!r} in {row['stage']}" + _amount_suffix(row)))


def _amount_suffix(row: dict[str, Any]) -> str:
    from crmtui.store.money import format_money

    return f", {format_money(row['amount_cents'])}" if row["amount_cents"] else ""


@add_app.command("company")
@handles_errors
def add_company(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Company name.")],
    domain: Annotated[Optional[str], typer.Option(help="Web domain, e.g. acme.com.")] = None,
    website: Annotated[Optional[str], typer.Option(help="Website URL.")] = None,
    email: Annotated[Optional[str], typer.Option(help="General email address.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Phone number.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the customer came from.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag; repeat for more.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a company."""
    from crmtui.store.companies import create_company
    from crmtui.store.listing import company_rows

    with open_session(ctx, db) as s:
        company = create_company(
            s, name, domain=domain, website=website, email=email, phone=phone, source=source, tags=tag
        )
        (row,) = company_rows(s, company_id=company.id)
    if json_out:
        print_json(row)
    else:
        out.print(escape(f"Added company #{row['id']} {row['name']!r}" + (f" ({row['domain']})" if row["domain"] else "")))


@add_app.command("contact")
@handles_errors
def add_contact(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's name.")],
    email: Annotated[Optional[str], typer.Option(help="Email address.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Phone number.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Job title.")] = None,
    company: Annotated[Optional[str], typer.Option(help="Company name (created if new) or #id.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag; repeat for more.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a contact."""
    from crmtui.store.contacts import create_contact
    from crmtui.store.listing import contact_rows

    with open_session(ctx, db) as s:
        contact = create_contact(s, name, email=email, phone=phone, title=title, company=company, tags=tag)
        (row,) = contact_rows(s, contact_id=contact.id)
    if json_out:
        print_json(row)
    else:
        out.print(escape(f"Added contact #{row['id']} {row['name']!r}" + (f" at {row['company']}" if row["company"] else "")))


# --- lists -------------------------------------------------------------------------------------


@deals_app.command("list")
@handles_errors
def deals_list(
    ctx: typer.Context,
    stage: Annotated[Optional[str], typer.Option(help="Only deals in this stage.")] = None,
    tag: Annotated[Optional[str], typer.Option(help="Only deals with this tag.")] = None,
    pipeline: Annotated[Optional[str], typer.Option(help="Only deals in this pipeline.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open deals.")] = False,
    won: Annotated[bool, typer.Option("--won", help="Only won deals.")] = False,
    lost: Annotated[bool, typer.Option("--lost", help="Only lost deals.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="At most this many (newest first).", min=1)] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List deals, newest first."""
    from crmtui.store.deals import deal_rows
    from crmtui.store.errors import ValidationError
    from crmtui.store.money import format_money

    chosen = [name for name, on in (("open", open_), ("won", won), ("lost", lost)) if on]
    if len(chosen) > 1:
        raise ValidationError("choose one of --open, --won and --lost")
    with open_session(ctx, db) as s:
        rows = deal_rows(s, stage=stage, tag=tag, pipeline=pipeline, status=chosen[0] if chosen else None, limit=limit)
    if json_out:
        print_json(rows)
        return
    if not rows:
        err.print("No deals match. Add one with [bold]crmtui add deal TITLE[/], or try [bold]crmtui demo[/].")
        return
    out.print(record_table(
        [("ID", "figure"), ("Title", "text"), ("Customer", "text"), ("Stage", "text"), ("Amount", "figure"),
         ("Close", "fixed"), ("Tags", "text")],
        [[str(r["id"]), r["title"], r["company"] or r["contact"] or "", r["stage"], format_money(r["amount_cents"]),
          str(r["closed_on"] or r["expected_close"] or ""), ", ".join(r["tags"])] for r in rows],
        main="Title"))


@companies_app.command("list")
@handles_errors
def companies_list(
    ctx: typer.Context,
    tag: Annotated[Optional[str], typer.Option(help="Only companies with this tag.")] = None,
    search: Annotated[Optional[str], typer.Option(help="Name or domain contains this.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="At most this many.", min=1)] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List companies by name."""
    from crmtui.store.listing import company_rows
    from crmtui.store.money import format_money

    with open_session(ctx, db) as s:
        rows = company_rows(s, tag=tag, search=search, limit=limit)
    if json_out:
        print_json(rows)
        return
    if not rows:
        err.print("No companies match. Add one with [bold]crmtui add company NAME[/].")
        return
    out.print(record_table(
        [("ID", "figure"), ("Name", "text"), ("Domain", "text"), ("Open deals", "figure"), ("Won", "figure"),
         ("Tags", "text")],
        [[str(r["id"]), r["name"], r["domain"] or "", str(r["open_deals"]), format_money(r["won_cents"]),
          ", ".join(r["tags"])] for r in rows],
        main="Name"))


@contacts_app.command("list")
@handles_errors
def contacts_list(
    ctx: typer.Context,
    tag: Annotated[Optional[str], typer.Option(help="Only contacts with this tag.")] = None,
    company: Annotated[Optional[str], typer.Option(help="Only contacts of this company (name or #id).")] = None,
    search: Annotated[Optional[str], typer.Option(help="Name or email contains this.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="At most this many.", min=1)] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List contacts by name."""
    from crmtui.store.listing import contact_rows

    with open_session(ctx, db) as s:
        rows = contact_rows(s, tag=tag, company=company, search=search, limit=limit)
    if json_out:
        print_json(rows)
        return
    if not rows:
        err.print("No contacts match. Add one with [bold]crmtui add contact NAME[/].")
        return
    out.print(record_table(
        [("ID", "figure"), ("Name", "text"), ("Email", "text"), ("Company", "text"), ("Title", "text"),
         ("Tags", "text")],
        [[str(r["id"]), r["name"], r["email"] or "", r["company"] or "", r["title"] or "", ", ".join(r["tags"])]
         for r in rows],
        main="Name"))


# --- one deal ----------------------------------------------------------------------------------


@deal_app.command("show")
@handles_errors
def deal_show(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a deal, its customer and its stage history."""
    from crmtui.store.deals import deal_detail
    from crmtui.store.money import format_money

    with open_session(ctx, db) as s:
        row = deal_detail(s, deal_id)
    if json_out:
        print_json(row)
        return
    table = PlainTable.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    fields = [
        ("Deal", f"#{row['id']} {row['title']}"),
        ("Customer", row["company"] or row["contact"] or "—"),
        ("Contact", " ".join(x for x in (row["contact"], f"<{row['contact_email']}>" if row["contact_email"] else "") if x) or "—"),
        ("Stage", f"{row['stage']} ({row['pipeline']}, {row['probability']}%)"),
        ("Amount", format_money(row["amount_cents"], row["currency"] or "")),
        ("Cost", format_money(row["cost_cents"]) if row["cost_cents"] is not None else "—"),
        ("Profit", format_money(row["amount_cents"] - row["cost_cents"]) if row["cost_cents"] is not None else "—"),
        ("Confidence", "★" * row["confidence"] if row["confidence"] else "—"),
        ("Expected close", str(row["expected_close"] or "—")),
        ("Closed", str(row["closed_on"] or "—")),
        ("Lost reason", row["lost_reason"] or "—"),
        ("Source", row["source"] or "—"),
        ("Tags", ", ".join(row["tags"]) or "—"),
        ("Proposal", row["proposal_url"] or "—"),
    ]
    for k, v in fields:
        table.add_row(k, v)
    out.print(table)
    out.print()
    out.print("[bold]Stage history[/]")
    for h in row["stage_history"]:
        out.print(f"  {h['at'][:10]}  {(h['from'] or 'created') + ' → ' if h['from'] else 'created in '}{h['to']}", markup=False)


@app.command()
@handles_errors
def move(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    stage: Annotated[str, typer.Argument(help="The stage to move to (name, or 1-based position).")],
    db: DbOption = None,
) -> None:
    """Move a deal to another stage of its pipeline."""
    from crmtui.store.deals import move_deal

    with open_session(ctx, db) as s:
        result = move_deal(s, deal_id, stage)
    if result.changed:
        out.print(f"Moved deal #{result.deal.id} from {result.from_stage.name} to {result.to_stage.name}")
    else:
        out.print(f"Deal #{result.deal.id} is already in {result.to_stage.name}")


@app.command()
@handles_errors
def won(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    db: DbOption = None,
) -> None:
    """Mark a deal as won (closed today)."""
    from crmtui.store.deals import mark_won

    with open_session(ctx, db) as s:
        result = mark_won(s, deal_id)
    verb = "Marked" if result.changed else "Already"
    out.print(f"{verb} deal #{result.deal.id} won ({result.to_stage.name})")


@app.command()
@handles_errors
def lost(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it was lost, e.g. 'Price too high'.")],
    db: DbOption = None,
) -> None:
    """Mark a deal as lost, with a reason (closed today)."""
    from crmtui.store.deals import mark_lost

    with open_session(ctx, db) as s:
        result = mark_lost(s, deal_id, reason)
    out.print(f"Marked deal #{result.deal.id} lost ({result.deal.lost_reason})")


@app.command()
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


# --- command modules: each registers its commands on `app` when imported -----------------
# (imported here, after `app` and the helpers above exist)
from crmtui import cli_followups  # noqa: E402,F401
from crmtui import cli_import  # noqa: E402,F401
from crmtui import cli_records  # noqa: E402,F401
from crmtui import cli_report  # noqa: E402,F401


def main() -> None:
    """Console entry point: no traceback reaches the user, whatever happens."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("Interrupted; nothing more was written.")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for CRMTUI_DEBUG
        if os.environ.get("CRMTUI_DEBUG"):
            raise
        err.print(f"[bold red]crmtui: internal error:[/] {escape(f'{type(exc).__name__}: {exc}')} (set CRMTUI_DEBUG=1 for details)")
        sys.exit(70)


if __name__ == "__main__":
    main()
