"""The `crmtui` command (Typer): `main` is the console entry point.

- main.py: the app, its root options (--db, --version), opening the TUI, the entry point
- common.py: output, shared options, error handling, opening the database (imports no command)
- one module per command group: records, followups, data (import/export), setup (pipelines, stages,
  rules), fields (custom fields, `set`), settings (choice lists, settings), reports
"""

from crmtui.cli.main import app, main

__all__ = ["app", "main"]
