"""Running crmtui's commands in tests as a user runs them (Typer's CliRunner, errors not caught)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from crmtui.cli import app
from tests.conftest import snapshot_of

runner = CliRunner()


def run(db: Path, *args: str, input: bytes | str | None = None) -> Result:
    return runner.invoke(app, ["--db", str(db), *args], input=input, catch_exceptions=False)


def ok(db: Path, *args: str, input: bytes | str | None = None) -> Result:
    result = run(db, *args, input=input)
    assert result.exit_code == 0, result.output
    return result


def refused(db: Path, *args: str, input: bytes | str | None = None) -> str:
    """A command that must fail: exit 1, no traceback, the database as it was; returns stderr."""
    before = snapshot_of(db)
    result = run(db, *args, input=input)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert snapshot_of(db) == before
    return result.stderr
