"""Custom fields made of a file's columns (`crmtui import --create-fields`): each column that
matches no field becomes a field of the file's record type, named as the column, of the kind its
values show. They are made in the import's transaction, before its rows are planned, so the
values go in as any custom value does (`custom`); a dry run or a failed import leaves none, and
undoing the import removes them (`history`).

The kind a column's values show, tried in this order:

    yes/no   every value is yes, no, true, false, y or n (in any case)
    money    every value is an amount, and one carries a currency (`$`, `EUR`), or the header
             says money ("revenue", "price", "budget") and they are plain numbers with cents
    number   every value is a number (`1996`, `4,120`, `12.5`)
    date     every value is a date
    choice   few values that repeat: at most CHOICE_MAX distinct ones, each on two rows or more
             on average (its options, alphabetical)
    text     the rest

A column with no values makes no field: there is nothing to keep.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crmtui.store.db import Database, translate_errors
from crmtui.store.dates import AmbiguousDate
from crmtui.store.errors import ValidationError
from crmtui.store.importer import values as V
from crmtui.store.importer.cells import unguard
from crmtui.store.importer.mapping import ENTITY_OF_TYPE, FIELD_PREFIX, Mapping, header_words
from crmtui.store.importer.reading import CsvText, UnclosedQuote, data_rows

CHOICE_MAX = 12  # distinct values a choice field offers at most: more is a list to search, not to pick from
_YES_NO = frozenset("yes no y n true false".split())
_MONEY_WORDS = frozenset("revenue revenues price cost costs budget value amount fee fees turnover salary income "
                         "spend arr mrr".split())
_CURRENCIES = frozenset("USD EUR GBP JPY CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF INR CNY BRL MXN ZAR SGD HKD "
                        "RUB TRY".split())
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_CENTS = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


@dataclass
class NewField:
    """A custom field --create-fields makes of column `column`."""

    column: int
    name: str
    kind: str
    options: list[str] = field(default_factory=list)
    id: int | None = None  # once made

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "options": self.options}


def propose(db: Database, csv_text: CsvText, mapping: Mapping) -> list[NewField]:
    """The fields --create-fields would make of `mapping`'s unknown columns (reads the file and
    `db`'s fields; writes nothing). ValidationError naming a column that cannot be a field."""
    if not mapping.unknown:
        return []
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            return _propose(conn, csv_text, mapping)
        finally:
            conn.close()


def make(conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping) -> tuple[Mapping, list[NewField]]:
    """Make the fields --create-fields proposes (`mapping.new_fields`, else proposed now) in the
    caller's transaction. Returns a copy of `mapping` whose columns feed them, and the fields
    with their ids. The caller's mapping is left as it is: a dry run's mapping imports again."""
    proposed = mapping.new_fields if mapping.new_fields is not None else _propose(conn, csv_text, mapping)
    if not proposed:
        return mapping, []
    from crmtui.store.custom_fields import custom_fields

    entity = ENTITY_OF_TYPE[mapping.record_type]
    position = conn.execute("SELECT coalesce(max(position), -1) + 1 FROM custom_field WHERE entity = ?"
                            " AND deleted_at IS NULL", (entity,)).fetchone()[0]
    made = []
    for n, f in enumerate(proposed):
        _checked_name(conn, entity, csv_text, mapping.header[f.column], f.name)  # (again: under the write lock)
        cur = conn.execute("INSERT INTO custom_field (entity, name, kind, options, position) VALUES (?, ?, ?, ?, ?)",
                           (entity, f.name, f.kind, json.dumps(f.options, ensure_ascii=False) if f.options else None,
                            position + n))
        made.append(dataclasses.replace(f, id=cur.lastrowid))
    by_id = {d["id"]: d for d in custom_fields(conn, entity)}
    columns, custom = list(mapping.columns), dict(mapping.custom)
    for f in made:
        columns[f.column] = key = FIELD_PREFIX + f.name
        custom[key] = by_id[f.id]
    headers = {mapping.header[f.column] for f in made}
    return dataclasses.replace(
        mapping, columns=columns, custom=custom, ignored=[(h, why) for h, why in mapping.ignored if h not in headers],
        unknown=[i for i in mapping.unknown if columns[i] is None], new_fields=made), made


def _propose(conn: sqlite3.Connection, csv_text: CsvText, mapping: Mapping) -> list[NewField]:
    from crmtui.store.custom_fields import name_key

    entity = ENTITY_OF_TYPE[mapping.record_type]
    found = _values(csv_text, mapping.unknown)
    out: list[NewField] = []
    named: dict[str, str] = {}  # name key -> the column that named a field so
    for i in mapping.unknown:
        if not found[i]:
            continue
        header = mapping.header[i]
        text = header.strip()
        name = text[len(FIELD_PREFIX):] if text[:len(FIELD_PREFIX)].casefold() == FIELD_PREFIX else text
        name = _checked_name(conn, entity, csv_text, header, name)
        if name_key(name) in named:
            raise ValidationError(
                f"{csv_text.name}: columns {named[name_key(name)]!r} and {header!r} would make the same field;"
                f" leave one out with --map {_quoted(header + '=')}", "create_fields")
        named[name_key(name)] = header
        kind, options = infer_kind(header, found[i])
        out.append(NewField(i, name, kind, options))
    return out


def _checked_name(conn: sqlite3.Connection, entity: str, csv_text: CsvText, header: str, name: str) -> str:
    """`name`, checked as a new field's name; ValidationError naming the column and the way out."""
    from crmtui.store.field_setup import check_new_field_name

    if not header.strip():
        raise ValidationError(f"{csv_text.name}: a column with no header has values; --create-fields cannot name a"
                              " field after it: give it a header in the file", "create_fields")
    try:
        return check_new_field_name(conn, entity, name)
    except ValidationError as exc:
        why = exc.message.removeprefix("name: ")
        raise ValidationError(
            f"{csv_text.name}: column {header!r} cannot be a custom field ({why}); map it with"
            f" --map {_quoted(header + '=FIELD')}, or leave it out with --map {_quoted(header + '=')}",
            "create_fields") from None


def _quoted(text: str) -> str:
    return shlex.quote(text)


def _values(csv_text: CsvText, columns: list[int]) -> dict[int, Counter[str]]:
    """Each column's values (trimmed, empty ones left out) and how many rows have each."""
    found: dict[int, Counter[str]] = {i: Counter() for i in columns}
    try:
        for _line, fields in data_rows(csv_text):
            for i, counter in found.items():
                if i < len(fields) and (value := unguard(fields[i]).strip()):
                    counter[value] += 1
    except UnclosedQuote:  # (the rows before it count; planning the file rejects it)
        pass
    return found


def infer_kind(header: str, values: Counter[str]) -> tuple[str, list[str]]:
    """The kind of field `values` (value -> rows) show, and a choice's options (see the module)."""
    distinct = list(values)
    if {v.casefold() for v in distinct} <= _YES_NO:
        return "yesno", []
    if _money(header, distinct):
        return "money", []
    if all(_NUMBER.fullmatch(v) for v in distinct):
        return "number", []
    if all(_is_date(v) for v in distinct):
        return "date", []
    options: dict[str, str] = {}
    for v in distinct:
        options.setdefault(v.casefold(), v)
    if (len(options) <= CHOICE_MAX and sum(values.values()) >= 2 * len(options)
            and all(len(o) <= 60 and "," not in o and ";" not in o for o in options.values())):
        return "choice", sorted(options.values(), key=str.casefold)
    return "text", []


def _money(header: str, distinct: list[str]) -> bool:
    try:
        currencies = [V.amount(v)[1] for v in distinct]
    except (ValidationError, ValueError):
        return False
    if any(c in _CURRENCIES for c in currencies):
        return True
    return bool(header_words(header) & _MONEY_WORDS) and all(_CENTS.fullmatch(v) for v in distinct)


def _is_date(value: str) -> bool:
    try:
        return V.date(value, None) is not None
    except AmbiguousDate:  # 03/04/2026: a date either way (the file's other dates tell which)
        return True
    except (ValidationError, ValueError):
        return False
