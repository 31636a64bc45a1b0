"""What every command shares: the output consoles and tables, the --db and --json options, one
way to report errors, and opening the database. Imports no command module."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from typer.core import TyperGroup
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from crmtui.locations import DB_ENV, resolve_db_path
from crmtui.store.errors import CrmError

# The panels of `crmtui --help`, by what a user does.
DAILY = "Daily work"
RECORDS = "Records"
DATA = "Data in and out"
SETUP = "Setup"
REPORTS = "Reports"
SAFETY = "Backups and repair"
AUTOMATION = "Automation"
SALES = "Products, line items and quotes"


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


def record_table(columns: list[tuple[str, str]], rows: list[list[str | Text]], *, main: str) -> RecordLines:
    """A list of records, one line each, fitted to the terminal. `columns` are (header, kind):
    "figure" (right-aligned, never cut), "fixed" (a date or time: never cut), or "text" (cut
    with an ellipsis when there is no room; see `fit_widths`)."""
    from rich.cells import cell_len

    natural = [max([cell_len(name)] + [cell_len(str(row[i])) for row in rows]) for i, (name, _kind) in enumerate(columns)]
    room = out.width - 3 * len(columns) + 1  # one cell of padding each side, a rule between columns
    widths = fit_widths(natural, [kind == "text" for _name, kind in columns],
                        [2 if name == main else 1 for name, _kind in columns], room)
    return RecordLines(columns, rows, widths)


_ONE_LINE = str.maketrans("\t\n\r\v\f", "     ")  # a record is one line, whatever its text holds


class RecordLines:
    """`record_table`'s lines, as a Rich table without edges would draw them (a bold header, a
    heavy rule, cells padded by one space and parted by a bar), written line by line: a Rich
    Table lays out every cell (~20 µs each: 3 s for 10,000 deals of 7 columns)."""

    def __init__(self, columns: list[tuple[str, str]], rows: list[list[str | Text]], widths: list[int]) -> None:
        self.columns, self.rows, self.widths = columns, rows, widths
        self.right = [kind == "figure" for _name, kind in columns]

    def _cells(self, values: list[str | Text]) -> list[str | Text]:
        from rich.cells import cell_len, set_cell_size

        cells: list[str | Text] = []
        for value, width, right in zip(values, self.widths, self.right):
            if isinstance(value, Text):  # styled: cut and padded as Text, drawn by Rich
                styled = Text(value.plain.translate(_ONE_LINE), style=value.style)
                styled.truncate(width, overflow="ellipsis")
                if right:
                    styled.pad_left(width - styled.cell_len)
                else:
                    styled.pad_right(width - styled.cell_len)
                cells.append(styled)
                continue
            value = value.translate(_ONE_LINE)
            size = cell_len(value)
            if size > width:
                value, size = set_cell_size(value, width - 1) + "…", width
            cells.append(" " * (width - size) + value if right else value + " " * (width - size))
        return cells

    def __rich_console__(self, console: Console, options: Any) -> Iterator[Any]:  # noqa: ANN401
        from rich.segment import Segment
        from rich.style import Style

        bold = Style(bold=True)
        for i, cell in enumerate(self._cells([name for name, _kind in self.columns])):
            yield Segment("┃" if i else "")
            yield Segment(f" {cell} ", bold)
        yield Segment("\n")
        yield Segment("╇".join("━" * (width + 2) for width in self.widths) + "\n")
        for row in self.rows:
            cells = self._cells(row)
            if all(isinstance(cell, str) for cell in cells):
                yield Segment(" " + " │ ".join(cells) + " \n")  # type: ignore[arg-type]
            else:
                line = Text(" ")
                for i, cell in enumerate(cells):
                    line.append(" │ " if i else "")
                    line.append(cell)
                line.append(" ")
                yield from line.render(console)
                yield Segment("\n")


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
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV for scripts and spreadsheets (a header row first).")]

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


def interactive() -> bool:
    """A person at a terminal, who can be asked (not a script, a pipe or a test runner)."""
    import sys

    return sys.stdin.isatty() and err.is_terminal


def print_error(message: str) -> None:
    """One error line on stderr, as every command shows its errors."""
    err.print(f"[bold red]Error:[/] {escape(message)}", markup=True, soft_wrap=True)


def db_path(ctx: typer.Context, db: Path | None) -> Path:
    """The subcommand's --db, else the global one, else $CRMTUI_DB, else the default."""
    root = ctx.find_root()
    return resolve_db_path(db or (root.obj or {}).get("db"))


def open_db(ctx: typer.Context, db: Path | None, *, create: bool = True,
            daily_backup: bool = True) -> Any:  # noqa: ANN401 - a store Database
    """The command's database, opened (and upgraded, saying where the copy of the old one is);
    money and dates are written as its `locale` setting says from here on. `create=False`: a
    missing file is an error; `daily_backup=False`: no day's backup on opening (a restore, a purge)."""
    from crmtui.store.db import open_database
    from crmtui.store.task_hooks import send_due_tasks
    from crmtui.store.money import use_locale
    from crmtui.store.settings import read_settings

    database = open_database(db_path(ctx, db), create=create, daily_backup=daily_backup)
    if database.backup_path:
        err.print(f"Upgraded the database; a copy of the old one is at {database.backup_path}", markup=False)
    if database.backup_problem:
        err.print(f"Warning: no backup today: {database.backup_problem}", markup=False)
    settings = read_settings(database)
    use_locale(settings["locale"], settings["currency"])
    send_due_tasks(database)  # the task-due hook hears of a task the first time crmtui runs on its day
    if isinstance(ctx.obj, dict):
        ctx.obj.setdefault("pager", settings["pager"])
    return database


@contextmanager
def paged(ctx: typer.Context) -> Iterator[None]:
    """What the block prints goes through a pager when it is read in a terminal, as git's long
    output does: $CRMTUI_PAGER, else $PAGER, else `less` (with LESS=FRX unless set: a listing that
    fits on the screen just prints, and stays there). `--no-pager` or the `pager` setting off: no pager."""
    options = ctx.find_root().obj or {}
    if not out.is_terminal or not options.get("pager", True) or options.get("no_pager"):
        yield
        return
    with out.capture() as captured:
        yield
    _page(captured.get())


def print_paged(ctx: typer.Context, renderable: Any) -> None:  # noqa: ANN401
    """Print a long listing, through a pager in a terminal (see `paged`)."""
    with paged(ctx):
        out.print(renderable)


def _page(text: str) -> None:
    import os
    import shlex
    import subprocess
    import sys

    try:
        command = shlex.split(os.environ.get("CRMTUI_PAGER") or os.environ.get("PAGER") or "less")
        if command and command != ["cat"]:
            subprocess.run(command, input=text, text=True, check=False, env={"LESS": "FRX", **os.environ})
            return
    except (OSError, ValueError):  # no such pager, or one written with a stray quote: the text as it is
        pass
    sys.stdout.write(text)


@contextmanager
def open_session(ctx: typer.Context, db: Path | None) -> Iterator[Any]:
    """A session on the command's database, closed after."""
    database = open_db(ctx, db)
    try:
        with database.session() as session:
            yield session
    finally:
        database.close()


def say(text: str) -> None:
    """Print what a command did, as it is (no Rich markup: names may hold brackets)."""
    out.print(text, markup=False)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def one_format(json_out: bool, csv_out: bool) -> None:
    """--json and --csv are two answers to one question: refuse both at once."""
    if json_out and csv_out:
        from crmtui.store.errors import ValidationError

        raise ValidationError("choose one of --json and --csv")


def csv_money(cents: int | None) -> str:
    """Cents as a plain decimal for CSV (`money.plain_decimal`); nothing for None."""
    from crmtui.store.money import plain_decimal

    return "" if cents is None else plain_decimal(cents)


def csv_cell(value: Any) -> str:  # noqa: ANN401
    """One value as a CSV cell: nothing for None, ISO dates, a list's items joined with "; "."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(csv_cell(item) for item in value)
    return str(value)


def print_csv(header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """A listing as CSV on stdout, header first, never through the pager: the values as a script
    wants them (see `csv_cell`; money through `csv_money`). Lines end in \n, as the other
    lines a command prints do; a value's own line breaks are quoted, so they survive."""
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)


def with_default_command(name: str) -> type[TyperGroup]:
    """A command group whose first argument, when it names none of its commands, goes to the
    command `name`: `crmtui lines 12` is `crmtui lines show 12`, beside `crmtui lines add 12 ...`."""

    class DefaultCommandGroup(TyperGroup):
        def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
            if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
                args = [name, *args]
            return super().parse_args(ctx, args)

    return DefaultCommandGroup
