"""Custom fields from the shell: `crmtui fields ...`, and editing any field of a record with
`crmtui set REF FIELD=VALUE...`."""

from __future__ import annotations

import typer

app = typer.Typer()
