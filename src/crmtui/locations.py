"""Where crmtui keeps its files. Functions, so nothing is resolved at import time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "crmtui"
DB_ENV = "CRMTUI_DB"


def data_dir() -> Path:
    """The user data directory (for example ~/.local/share/crmtui on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """The database used when neither --db nor CRMTUI_DB is given."""
    return data_dir() / "crmtui.db"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--db wins, then the CRMTUI_DB environment variable, then the platform default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_db_path()
