"""The data layer: models, database, services. Never imports Textual.

Names are loaded on first use, so `crmtui --version` or an error message imports none of it.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "CrmError": "crmtui.store.errors",
    "DatabaseError": "crmtui.store.errors",
    "NotFound": "crmtui.store.errors",
    "ValidationError": "crmtui.store.errors",
    "Database": "crmtui.store.db",
    "open_database": "crmtui.store.db",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'crmtui.store' has no attribute {name!r}")
