"""The `crmtui` command: without a command it opens the app; the command groups add the scripting
commands over the same store functions."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from crmtui import __version__
from crmtui.cli import (data, fields, followups, hooks, lines, playbooks, products, quotes, records, reports, safety,
                        settings, setup, trash)
from crmtui.cli.common import DbOption, err, handles_errors
from crmtui.locations import resolve_db_path

GROUPS = (followups, records, products, lines, quotes, trash, data, setup, fields, settings, playbooks, hooks, reports,
          safety)
ROOT_OPTIONS_WITH_VALUE = ("--db",)


def make_app(command: str | None = None) -> typer.Typer:
    """The command line: every command, or with `command` only that one (a command or a group of
    them, by name), which is all one run needs: building the options of every command is a
    quarter of a short command's time."""
    cli = typer.Typer(
        name="crmtui",
        help="A sales CRM in the terminal. Without a command, opens the app.",
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    cli.callback(invoke_without_command=True)(root)
    for group in GROUPS:
        part = group.app
        if command is not None:
            part = typer.Typer()
            part.registered_commands = [c for c in group.app.registered_commands if _name(c) == command]
            part.registered_groups = [g for g in group.app.registered_groups if g.name == command]
        cli.add_typer(part)
    return cli


def _name(command: typer.models.CommandInfo) -> str:
    return command.name or typer.main.get_command_name(command.callback.__name__)


def command_named(args: list[str]) -> str | None:
    """The command a command line asks for, when it names one that exists (after the root options)."""
    args = iter(args)
    for arg in args:
        if arg in ROOT_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            known = any(_name(c) == arg for group in GROUPS for c in group.app.registered_commands) or any(
                g.name == arg for group in GROUPS for g in group.app.registered_groups)
            return arg if known else None
    return None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmtui {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    db: DbOption = None,
    version: Annotated[
        bool, typer.Option("--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Print long listings without a pager.")] = False,
) -> None:
    ctx.obj = {"db": db, "no_pager": no_pager}
    if ctx.invoked_subcommand is None:
        run_tui(db)


@handles_errors
def run_tui(db: Path | None) -> None:
    from crmtui.app import make_app
    from crmtui.store.db import open_database

    path = resolve_db_path(db)
    # Errors here are reported before the screen switches; the app takes the day's backup itself,
    # once the board shows.
    database = open_database(path, daily_backup=False)
    make_app(database, own_process=True).run()


def main() -> None:
    """Console entry point: no traceback reaches the user, whatever happens."""
    # A shell asking for completions runs `crmtui` with no command (the words typed are in
    # environment variables), so it gets the whole command line to complete from.
    command = command_named(sys.argv[1:])
    try:
        (app if command is None else make_app(command))()
    except KeyboardInterrupt:
        err.print("Interrupted; nothing more was written.")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for CRMTUI_DEBUG
        if os.environ.get("CRMTUI_DEBUG"):
            raise
        err.print(f"[bold red]crmtui: internal error:[/] {escape(f'{type(exc).__name__}: {exc}')} (set CRMTUI_DEBUG=1 for details)")
        sys.exit(70)
    finally:
        # The process ends here: Python's last pass of the cyclic GC over every object (10 ms
        # of a quick command, 25 ms after a big import) would only find what the exit frees
        # anyway. (Everything is written and closed by now; standard output is flushed after.)
        gc.freeze()


app = make_app()

if __name__ == "__main__":
    main()
