"""Where crmtui keeps its files. Functions, so nothing is resolved at import time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "crmtui"
DB_ENV = "CRMTUI_DB"
CONFIG_ENV = "CRMTUI_CONFIG_DIR"


def data_dir() -> Path:
    """The user data directory (for example ~/.local/share/crmtui on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """The user config directory (for example ~/.config/crmtui on Linux); $CRMTUI_CONFIG_DIR
    points it elsewhere. It holds the hooks/ folder and the hooks' log."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def hooks_dir() -> Path:
    """Where the user's hook executables are, one per event (see crmtui.store.hooks)."""
    return config_dir() / "hooks"


def hooks_log_path() -> Path:
    """The hooks' failures, one JSON object a line, beside the hooks/ folder."""
    return config_dir() / "hooks.log"


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
