"""Opening a proposal URL or a linked file with the system's opener.

Tests replace the opener with `set_opener(fake)` so nothing is launched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path


def system_open(target: str) -> None:
    """A URL in the browser; a file with the desktop's opener (xdg-open, open, start)."""
    if "://" in target:
        webbrowser.open(target)
        return
    path = Path(target).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if sys.platform == "darwin":
        command = ["open", str(path)]
    elif os.name == "nt":  # pragma: no cover - not tested on Windows
        os.startfile(str(path))  # type: ignore[attr-defined]
        return
    else:
        command = ["xdg-open", str(path)]
    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


_opener: Callable[[str], None] = system_open


def set_opener(opener: Callable[[str], None] | None) -> None:
    """Replace how targets are opened (None: the system opener again)."""
    global _opener
    _opener = opener or system_open


def open_target(target: str) -> None:
    """Open a URL or file; raises FileNotFoundError / OSError with a readable message."""
    _opener(target)
