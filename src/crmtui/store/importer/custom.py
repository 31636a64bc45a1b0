"""Custom fields in an import: the fields a database has, each row's values for the columns mapped
to them (cleaned by kind), and the values the records that exist hold already.

A row's custom values are read with its other cells, before anything of the row is planned: a bad
one rejects the row as any bad cell does. An empty cell leaves a value as it is, as it leaves a
built-in column. Money is read as the importer reads amounts, a date as it reads dates (in the
file's day/month order); the other kinds as `custom_fields.clean_custom` cleans what a person types. A choice that
is not one of the field's options is an error that says how to add it: the options are the
user's list, and an import does not grow it.

The plan keeps the values by record (`Table.custom`); the writer inserts those of new records
with them, and for a record that exists writes the ones that change, recording each old value
under `cf_ID` in the update's old and new values (`Plan.updates`): how undo puts them back.
"""

from __future__ import annotations

import re
import shlex
import sqlite3
from collections.abc import Callable
from typing import Any

from crmtui.store.errors import ValidationError
from crmtui.store.importer import values as V
from crmtui.store.importer.cells import Cells, RowError, row_error
from crmtui.store.importer.mapping import Mapping
from crmtui.store.importer.plan import Table

_CACHED = 65536  # cleaned values kept per column: big files repeat a few values


def import_fields(conn: sqlite3.Connection, entity: str) -> list[dict[str, Any]]:
    """The live custom fields of `entity` (`custom_fields.custom_fields`); [] without asking that
    module when there are none."""
    if conn.execute("SELECT 1 FROM custom_field WHERE entity = ? AND deleted_at IS NULL LIMIT 1",
                    (entity,)).fetchone() is None:
        return []
    from crmtui.store.custom_fields import custom_fields

    return custom_fields(conn, entity)


def stored_values(conn: sqlite3.Connection, field_ids: list[int]) -> dict[int, dict[int, str]]:
    """field id -> record id -> value, of the fields `field_ids`."""
    out: dict[int, dict[int, str]] = {fid: {} for fid in field_ids}
    marks = ", ".join("?" * len(field_ids))
    for fid, rid, value in conn.execute(
            f"SELECT field_id, entity_id, value FROM custom_value WHERE field_id IN ({marks})", field_ids):
        out[fid][rid] = value
    return out


def custom_changed(table: Table) -> set[int]:
    """The records that exist whose custom values the plan changes."""
    stored = table.custom_stored
    return {rid for rid, values in table.custom.items() if rid < table.first_new
            and any(stored.get(fid, {}).get(rid) != value for fid, value in values.items())}


class CustomCells:
    """The cells of a file's custom columns, cleaned by the kind of their field (`values`)."""

    def __init__(self, conn: sqlite3.Connection, mapping: Mapping, cells: Cells, entity: str, table: Table) -> None:
        """`table`: the file's record type's, loaded (it gets what its records hold in the fields)."""
        # The fields as they are now, under the import's write lock (the mapping read them before)
        now = {f["id"]: f for f in import_fields(conn, entity)}
        self.entity = entity
        self.cells = cells  # (its `order`: the file's day/month order, shared with the other cells)
        self.fields: dict[str, dict[str, Any]] = {}
        # (index, field id, cleaned values by cell): a big file repeats a few values on 100,000
        # rows, so a cell seen before costs one dict lookup
        self.columns: list[tuple[int, int, dict[str, str]]] = []
        self._clean: dict[int, tuple[str, Callable[[str], str | None]]] = {}  # index -> (key, cleaner)
        for key, field in mapping.custom.items():
            current = now.get(field["id"])
            if current is None or current["kind"] != field["kind"]:
                raise ValidationError(f"the {entity} field {field['name']!r} was changed while the file was read;"
                                      " import again", "map")
            self.fields[key] = current
            i = cells.ix[key]
            self.columns.append((i, current["id"], {}))
            self._clean[i] = (key, self._cleaner(current))
        self.date_ix = [i for i, (key, _clean) in self._clean.items() if self.fields[key]["kind"] == "date"]
        if table.first_new > 1:  # what the records that exist hold: to tell what the file changes
            table.custom_stored = stored_values(conn, [fid for _i, fid, _seen in self.columns])

    def _cleaner(self, field: dict[str, Any]) -> Callable[[str], str | None]:
        kind = field["kind"]
        if kind == "money":
            return lambda raw: str(V.amount(raw)[0])
        if kind == "date":
            return self._date
        from crmtui.store.custom_fields import clean_custom

        return lambda raw: clean_custom(field, raw)

    def _date(self, raw: str) -> str | None:
        cells = self.cells
        return V.date(raw, cells.order or cells.hint(raw))

    def values(self, fields: list[str]) -> dict[int, str] | None:
        """A row's custom values by field id (None: it has none); a RowError for a bad one."""
        out = {}
        for i, fid, seen in self.columns:
            raw = fields[i]
            if raw:
                value = seen.get(raw)
                if value is None:
                    value = self._first_time(i, raw, seen)
                    if value is None:
                        continue
                out[fid] = value
        return out or None

    def _first_time(self, i: int, raw: str, seen: dict[str, str]) -> str | None:
        """Cell `raw` of column `i` cleaned (None: no value), kept in `seen` for the rows after."""
        if raw.isspace():
            return None
        key, clean = self._clean[i]
        try:
            value = clean(raw)
        except (ValidationError, ValueError) as exc:  # ValueError: a library parser's own complaint
            raise self._error(key, raw, exc) from exc
        if value is not None and len(seen) < _CACHED:
            seen[raw] = value
        return value

    def _error(self, key: str, raw: str, exc: Exception) -> RowError:
        field = self.fields[key]
        name = field["name"]
        if isinstance(exc, ValidationError) and exc.message.startswith(f"{name}: "):
            exc = ValidationError(exc.message[len(name) + 2:], name)
        error = row_error(key, raw, exc)
        if field["kind"] in ("choice", "multichoice") and isinstance(exc, ValidationError):
            missing = self._not_offered(field, raw)
            if missing is not None:
                error.reason += (f"; to offer it: crmtui fields options {self.entity} {shlex.quote(name)}"
                                 f" --add {shlex.quote(missing)}")
        return error

    @staticmethod
    def _not_offered(field: dict[str, Any], raw: str) -> str | None:
        """The first value of a choice cell that is not one of the field's options."""
        parts = re.split(r"[,;]", raw) if field["kind"] == "multichoice" else [raw]
        offered = {c.casefold() for c in field["choices"]}
        return next((p.strip() for p in parts if p.strip() and p.strip().casefold() not in offered), None)
