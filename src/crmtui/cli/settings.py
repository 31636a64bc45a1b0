"""Choice lists and general settings from the shell: `crmtui choices ...`, `crmtui settings ...`."""

from __future__ import annotations

import typer

app = typer.Typer()
