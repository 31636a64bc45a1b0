"""Deal fields on the board: filter terms (`size:large`, `budget>10000`), sorting by a field, and
the fields a card shows (the `card-fields`, `customer-focus` and hidden-fields settings).

A field is a built-in deal field (`amount`, `expected_close`, `source`, ...) or a custom deal
field, lookups included; names ignore case, and `_`, `-` and spaces are alike (`customer_size`
or `"customer size"`). Everything here becomes SQL over `deal d` with its company `c` and
contact `p`, so a filter or sort at 100,000 deals costs one query per column, never Python per
deal. A filter on a custom field reads the matching deals from `ix_custom_value_value` (field,
value) once, then keeps the column's deals that are among them.

The custom-field definitions are read only when a filter, sort or card names a custom field.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmtui.store.errors import ValidationError

# Built-in deal fields by form name: (label, kind of value, SQL over `deal d`, `company c`, `contact p`).
BUILTIN: dict[str, tuple[str, str, str]] = {
    "title": ("Title", "text", "d.title"),
    "company": ("Company", "text", "c.name"),
    "contact": ("Contact", "text", "p.name"),
    "pipeline": ("Pipeline", "text", "(SELECT name FROM pipeline WHERE id = d.pipeline_id)"),
    "stage": ("Stage", "text", "(SELECT name FROM stage WHERE id = d.stage_id)"),
    "amount": ("Amount", "money", "d.amount_cents"),
    "cost": ("Cost", "money", "d.cost_cents"),
    "currency": ("Currency", "text", "d.currency"),
    "confidence": ("Confidence", "rating", "d.confidence"),
    "expected_close": ("Close", "date", "d.expected_close"),
    "closed_on": ("Closed", "date", "d.closed_on"),
    "source": ("Source", "text", "d.source"),
    "lost_reason": ("Lost reason", "text", "d.lost_reason"),
    "proposal_url": ("Proposal", "text", "d.proposal_url"),
    "tags": ("Tags", "tags", "(SELECT group_concat(t.name, ', ') FROM deal_tag x JOIN tag t ON t.id = x.tag_id"
                             " WHERE x.deal_id = d.id)"),
    "notes": ("Notes", "text", "d.notes"),
}
_ALIASES = {"close": "expected_close", "closed": "closed_on", "tag": "tags", "lost": "lost_reason",
            "proposal": "proposal_url", "customer": "company", "person": "contact"}
RANGE_KINDS = ("number", "money", "rating", "date")
_OPERATORS = {":": "=", "=": "=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}
# A token: quoted parts ("trade show", an unfinished one too) and runs of anything but space.
_TOKEN = re.compile(r'(?:"[^"]*"?|[^\s"]+)+')
_TERM = re.compile(r'^(?P<name>"[^"]*"?|[^"<>:=]+)(?P<op>>=|<=|:|=|>|<)(?P<value>.*)$')


def _key(name: str) -> str:
    """How names are matched: case, `_`, `-` and runs of spaces do not count."""
    return " ".join(str(name).replace("_", " ").replace("-", " ").casefold().split())


@dataclass
class BoardField:
    """A deal field as the board uses it."""

    key: str  # built-in form name ("expected_close") or "cf_<id>"
    name: str  # as the user reads it: "amount", "Budget"
    kind: str  # kind of its values: money, number, rating, date, choice, multichoice, yesno, text, tags
    sql: str  # its value over `deal d` (built-in money in cents; a custom field's stored text)
    custom: dict[str, Any] | None = None  # the custom definition (custom_fields); None: built-in

    @property
    def label(self) -> str:
        return BUILTIN[self.key][0] if self.custom is None else self.name


def builtin_field(key: str) -> BoardField:
    """A built-in deal field by form name (a key of BUILTIN)."""
    _label, kind, sql = BUILTIN[key]
    return BoardField(key, key.replace("_", " "), kind, sql)


def custom_deal_fields(conn: sqlite3.Connection) -> list[BoardField]:
    """The live custom deal fields (lookups included), as board fields."""
    from crmtui.store.custom_fields import custom_fields, value_sql

    fields = custom_fields(conn, "deal")
    return [BoardField(f"cf_{f['id']}", f["name"], f["value_kind"], sql, f)
            for f, sql in zip(fields, value_sql(fields, "d"), strict=True)]


def find_field(conn: sqlite3.Connection, name: str) -> BoardField:
    """A deal field by name (custom first, then built-in); ValidationError naming the fields."""
    wanted = _key(name)
    custom = custom_deal_fields(conn)
    for board_field in custom:
        if _key(board_field.name) == wanted:
            return board_field
    for key in BUILTIN:
        if _key(key) == wanted or _key(BUILTIN[key][0]) == wanted:
            return builtin_field(key)
    if wanted in _ALIASES:
        return builtin_field(_ALIASES[wanted])
    names = ", ".join([f.name for f in custom] + ["amount", "cost", "confidence", "close", "source", "company",
                                                   "stage", "tag", "…"])
    raise ValidationError(f"no deal field called {name!r} (fields: {names})", "filter")


# --- filter terms --------------------------------------------------------------------------------


def split_filter(text: str) -> list[str]:
    """The words of a filter; a quoted part ("trade show") stays in its word."""
    return _TOKEN.findall(text)


def field_term(word: str) -> tuple[str, str, str] | None:
    """(field name, operator, value) when a word of a filter names a field (`size:large`,
    `"customer size":large`, `budget>=10000`); None for a plain word or a #tag."""
    if word.startswith("#"):
        return None
    match = _TERM.match(word)
    if match is None:
        return None
    name = match["name"].strip('"').strip()
    return (name, match["op"], match["value"].strip('"').strip()) if name else None


def term_condition(conn: sqlite3.Connection, name: str, op: str, value: str, param: str) -> tuple[str, dict[str, Any]]:
    """SQL (over `deal d`, `company c`, `contact p`) and its bound parameter for one filter term:
    `:` or `=` is equal (a multichoice field: has that option), `>` `<` `>=` `<=` compare numbers,
    amounts (in units: 10000 is 10,000.00), ratings and dates. ValidationError naming the field
    and what it takes when the field or the value is wrong."""
    board_field = find_field(conn, name)
    typed_op, op = op, _OPERATORS[op]
    shown = board_field.name
    if not value:
        raise ValidationError(f"{shown}: type a value after {name}{typed_op}", "filter")
    if op != "=" and board_field.kind not in RANGE_KINDS:
        raise ValidationError(f"{shown}: > < >= <= compare numbers, amounts, ratings and dates; {shown} is"
                              f" {_kind_words(board_field.kind)} (use {name}:VALUE)", "filter")
    typed = _typed_value(board_field, value)
    if board_field.kind == "tags":
        sql = ("EXISTS (SELECT 1 FROM deal_tag x JOIN tag t ON t.id = x.tag_id WHERE x.deal_id = d.id"
               f" AND t.name = :{param} COLLATE NOCASE)")
        return sql, {param: typed}
    compare = _comparison(board_field.kind, op, param, numeric_text=board_field.custom is not None)
    if board_field.custom is None:
        return compare(board_field.sql), {param: typed}
    return _custom_condition(board_field.custom, compare), {param: typed}


def _kind_words(kind: str) -> str:
    return {"yesno": "a yes/no field", "tags": "the tags"}.get(kind, f"a {kind} field")


def _typed_value(board_field: BoardField, value: str) -> Any:  # noqa: ANN401 - a bound parameter
    """The typed value as the field stores it (an option in its own spelling, cents, ISO date)."""
    from crmtui.store.dates import parse_date
    from crmtui.store.validate import clean_amount, clean_confidence

    kind = board_field.kind
    if board_field.custom is not None and kind not in ("text", "url", "email", "phone"):
        from crmtui.store.custom_fields import clean_custom

        definition = board_field.custom.get("source_field") or board_field.custom
        if kind == "multichoice":  # has this option: one option, matched as a choice
            return json.dumps(clean_custom({**definition, "kind": "choice"}, value), ensure_ascii=False)
        stored = clean_custom({**definition, "name": board_field.name}, value)
        return float(stored) if kind in ("number", "money", "rating") else stored
    if kind == "money":
        return clean_amount(value, board_field.name)
    if kind == "rating":
        try:
            return clean_confidence(value)
        except ValidationError:
            raise ValidationError(f"{board_field.name}: {value!r} is not 1 to 5 stars", "filter") from None
    if kind == "date":
        return parse_date(value, field=board_field.name).isoformat()
    return value.lstrip("#") if kind == "tags" else value


def _comparison(kind: str, op: str, param: str, *, numeric_text: bool) -> Callable[[str], str]:
    """What compares a value (SQL) with the parameter. Custom values are text: numbers compare
    as numbers; text compares without case; an option of a multichoice is found in its JSON list."""
    if kind == "multichoice":
        return lambda v: f"instr({v}, :{param}) > 0"
    if kind in ("number", "money", "rating"):
        return (lambda v: f"CAST({v} AS REAL) {op} :{param}") if numeric_text else (lambda v: f"{v} {op} :{param}")
    if kind in ("date", "choice", "yesno"):
        return lambda v: f"{v} {op} :{param}"
    return lambda v: f"{v} = :{param} COLLATE NOCASE"


def _custom_condition(definition: dict[str, Any], compare: Callable[[str], str]) -> str:
    """The deals whose custom value matches: the matching values are read once from the value
    index (a lookup's from its company's or contact's values), then each deal is looked up in them.
    Ids and column names come from the definitions, never from what was typed."""
    if definition["kind"] != "lookup":
        return (f"d.id IN (SELECT entity_id FROM custom_value WHERE field_id = {int(definition['id'])}"
                f" AND {compare('value')})")
    source = definition.get("source_field")
    if source is not None:
        return (f"d.{source['entity']}_id IN (SELECT entity_id FROM custom_value"
                f" WHERE field_id = {int(source['id'])} AND {compare('value')})")
    if definition.get("source"):
        entity, column = definition["source"].split(".", 1)
        return f"d.{entity}_id IN (SELECT id FROM {entity} WHERE {compare(column)})"
    return "0"


# --- sorting by a field ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SortSpec:
    """How a board sorts its columns: a key expression that is never NULL and of one type (the
    board keeps keys in Python and SQL alike), the tiebreak direction on the id, and the key in
    the won/lost/closed columns."""

    key: str
    label: str
    sql: str
    tiebreak: int
    closed_sql: str
    params: tuple[tuple[str, Any], ...] = ()
    joins: bool = False  # reads the company `c` or contact `p`


_HIGHEST_FIRST = ("number", "money", "rating")
_LAST_TEXT = "char(1114111)"  # after every other text, in SQLite and Python alike


def field_sort(board_field: BoardField) -> SortSpec:
    """Sort by a field: numbers, amounts and ratings highest first, dates soonest first, choices
    in their options' order, yes before no, text A to Z; deals without a value last."""
    v, kind, params = board_field.sql, board_field.kind, ()
    if kind in _HIGHEST_FIRST:
        sql, tiebreak, label = f"coalesce(-CAST({v} AS REAL), 1e308)", -1, f"{board_field.label}, highest first"
    elif kind == "date":
        sql, tiebreak, label = f"coalesce({v}, '9999-12-31')", 1, f"{board_field.label}, soonest first"
    elif kind == "choice" and board_field.custom and board_field.custom.get("choices"):
        choices = board_field.custom["choices"]
        params = tuple((f"sort{i}", c) for i, c in enumerate(choices))
        whens = " ".join(f"WHEN :sort{i} THEN {i}" for i in range(len(choices)))
        sql, tiebreak, label = f"CASE {v} {whens} ELSE {len(choices)} END", 1, board_field.label
    elif kind == "yesno":
        sql, tiebreak, label = f"CASE {v} WHEN 'yes' THEN 0 WHEN 'no' THEN 1 ELSE 2 END", 1, board_field.label
    else:
        sql, tiebreak, label = f"coalesce(lower({v}), {_LAST_TEXT})", 1, board_field.label
    joins = board_field.custom is None and board_field.key in ("company", "contact")
    return SortSpec(board_field.key, label, sql, tiebreak, sql, params, joins)


def custom_sort(conn: sqlite3.Connection, key: str) -> SortSpec | None:
    """The sort by custom field `cf_<id>`, or None when that field is gone."""
    return next((field_sort(f) for f in custom_deal_fields(conn) if f.key == key), None)


def cycle_sorts(conn: sqlite3.Connection) -> list[str]:
    """The custom deal fields `s` cycles through after the built-in sorts: numbers, amounts,
    ratings and dates (lookups of them too). No query of the definitions when there are none."""
    if not conn.execute("SELECT EXISTS (SELECT 1 FROM custom_field WHERE entity = 'deal' AND deleted_at IS NULL)"
                        ).fetchone()[0]:
        return []
    return [f.key for f in custom_deal_fields(conn) if f.kind in RANGE_KINDS]


# --- what a card shows ---------------------------------------------------------------------------------

CUSTOMER_SQL = "coalesce(c.name, p.name, '')"
_PERSON_FIRST = "CASE WHEN p.name IS NOT NULL AND c.name IS NOT NULL THEN p.name || ' · ' || c.name" \
                " ELSE coalesce(p.name, c.name, '') END"


@dataclass(frozen=True)
class CardField:
    """A field a card shows on its extra lines: its label, kind and SQL."""

    label: str
    kind: str
    sql: str


@dataclass(frozen=True)
class CardLayout:
    """What the cards of a board show. The default is the usual card: title, customer, amount
    with stars and days in stage, status."""

    customer_sql: str = CUSTOMER_SQL
    customer: bool = True
    amount: bool = True
    confidence: bool = True
    lost_reason: bool = True
    closed_on: bool = True
    fields: tuple[CardField, ...] = field(default_factory=tuple)

    @property
    def field_lines(self) -> int:
        return (len(self.fields) + 1) // 2  # two fields a line

    @property
    def lines(self) -> int:
        return 3 + self.customer + self.field_lines


DEFAULT_LAYOUT = CardLayout()


def _hidden_deal_fields(conn: sqlite3.Connection) -> set[str]:
    """The built-in deal fields hidden by the user (read cheaply: usually nothing is)."""
    row = conn.execute("SELECT value FROM setting WHERE key = 'hidden-fields'").fetchone()
    try:
        if not row or not json.loads(row[0]).get("deal"):
            return set()
    except (ValueError, TypeError, AttributeError):
        return set()
    from crmtui.store.field_setup import hidden_fields

    return hidden_fields(conn, "deal")


def card_layout(conn: sqlite3.Connection) -> CardLayout:
    """The cards' layout from the settings: `customer-focus person` puts the contact before the
    company; hidden built-in fields leave the card; `card-fields` adds up to two lines of fields."""
    from crmtui.store.settings import settings_from_rows

    settings = settings_from_rows(conn.execute("SELECT key, value FROM setting"))
    hidden = _hidden_deal_fields(conn)
    names = [n for n in settings["card-fields"] if n not in hidden]
    if settings["customer-focus"] == "company" and not hidden and not names:
        return DEFAULT_LAYOUT
    customers = [col for col, key in (("p.name", "contact"), ("c.name", "company")) if key not in hidden]
    if settings["customer-focus"] == "company":
        customers.reverse()
    if len(customers) == 2:
        customer_sql = _PERSON_FIRST if settings["customer-focus"] == "person" else CUSTOMER_SQL
    else:
        customer_sql = f"coalesce({customers[0]}, '')" if customers else "''"
    return CardLayout(customer_sql, bool(customers), "amount" not in hidden, "confidence" not in hidden,
                      "lost_reason" not in hidden, "closed_on" not in hidden, _card_fields(conn, names))


def _card_fields(conn: sqlite3.Connection, names: list[str]) -> tuple[CardField, ...]:
    """The card fields named in the setting (built-in form names or custom field names); a name
    no longer known (a deleted field) is left out."""
    out = []
    custom = None
    for name in names:
        if name in BUILTIN:
            board_field = builtin_field(name)
        else:
            if custom is None:
                custom = {_key(f.name): f for f in custom_deal_fields(conn)}
            board_field = custom.get(_key(name))
            if board_field is None:
                continue
        out.append(CardField(board_field.label, board_field.kind, board_field.sql))
    return tuple(out)
