"""How a shell command starts: `crmtui` builds only the command it is asked for, and a command
loads neither the app nor anything it does not use. Same output as the whole command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from crmtui.cli.main import command_named
from tests.commands import ok


@pytest.mark.parametrize(("args", "command"), [
    (["deals", "list"], "deals"),
    (["--db", "deals", "stages"], "stages"),  # a database file called "deals"
    (["--db=x.db", "--no-pager", "add", "deal", "X"], "add"),
    (["--no-pager", "today"], "today"),
    (["dealz"], None),  # unknown: the whole command line says so, with suggestions
    ([], None),
    (["--help"], None),
    (["-V"], None),
])
def test_the_command_is_found_after_the_root_options(args: list[str], command: str | None) -> None:
    assert command_named(args) == command


def _run(db: Path, *args: str, call: str = "main()") -> subprocess.CompletedProcess[str]:
    script = f"import sys; from crmtui.cli import app, main; sys.argv = ['crmtui'] + sys.argv[1:]; {call}"
    return subprocess.run([sys.executable, "-c", script, "--db", str(db), "--no-pager", *args],
                          capture_output=True, text=True, timeout=60, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("args", [
    ["stages"], ["deals", "list", "--limit", "3"], ["deal", "show", "1"], ["deals", "--help"],
    ["companies", "list", "--search", "acme"], ["move", "1", "nowhere"], ["dealz"],
])
def test_a_command_prints_what_the_whole_command_line_prints(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "deal", "Logo refresh", "--company", "Acme", "--amount", "1200")
    whole = _run(db, *args, call="app()")
    alone = _run(db, *args)
    assert (alone.returncode, alone.stdout, alone.stderr) == (whole.returncode, whole.stdout, whole.stderr)
    assert alone.stdout or alone.stderr


def test_shell_commands_load_neither_the_app_nor_an_orm(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "deal", "Logo refresh", "--company", "Acme", "--amount", "1200")
    script = ("import sys; from crmtui.cli import main\n"
              f"sys.argv = ['crmtui', '--db', {str(db)!r}, '--no-pager'] + sys.argv[1:]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('textual', 'sqlalchemy', 'sqlmodel', 'pydantic') if m in sys.modules))")
    for args in (["deals", "list"], ["add", "deal", "Second"], ["move", "1", "Negotiation"], ["report", "--json"],
                 ["today"], ["log", "1", "--call", "Talked"]):
        out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
        assert out.stdout.splitlines()[-1] == "[]", (args, out.stdout, out.stderr)
