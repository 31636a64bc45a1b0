"""Custom fields: facts the user chooses to keep about deals, companies or contacts.

A field is defined per record type (`custom_field`: name, kind, options, position, required,
lookup); one in the trash (`deleted_at`) keeps its values. A record's values are rows of
`custom_value`, stored as text:

    text, url, email, phone, choice   as cleaned ("https://...", the option's own spelling)
    number                            "1234.5"
    money                             cents: "250000"
    date                              ISO: "2026-12-01"
    rating                            "1" to "5"
    yesno                             "yes" / "no"
    multichoice                       a JSON list, in the options' order: '["Ads", "SEO"]'

A lookup field stores nothing: its value is read live from the record's company or contact
(`lookup` is "company.size" for a built-in column, "company.cf_7" for company field 7, so
renaming the source keeps it working). A deal may look up its company or its contact, a contact
its company.

An option removed from a choice field is no longer offered, but records that have it keep it:
it shows as stored (pages, JSON, export), and saving a record with it unchanged is fine.

This module reads definitions and reads, checks and writes values: screens use `custom_fields`,
`custom_rows`, `custom_text` and `custom_reason`; scripts and exports `field_values`,
`with_fields`, `value_sql` and `json_value`. Changing definitions, and hiding built-in fields, is
`field_setup`.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from crmtui.store.dates import parse_date
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.money import format_money, format_money_input, plain_decimal
from crmtui.store.sql import Session
from crmtui.store.validate import clean_amount, clean_email, clean_text, clean_url

CUSTOM_PREFIX = "cf_"  # form field name of custom field 7: "cf_7"
ENTITIES = ("deal", "company", "contact")
FIELD_KINDS = ("text", "number", "money", "date", "choice", "multichoice", "url", "email", "phone", "rating",
               "yesno", "lookup")
CHOICE_KINDS = ("choice", "multichoice")
# What a lookup field may show: the record types it may look up, and their built-in columns.
LOOKUP_FROM = {"deal": ("company", "contact"), "contact": ("company",), "company": ()}
LOOKUP_COLUMNS = {
    "company": ("name", "website", "domain", "email", "phone", "address", "source", "category", "size"),
    "contact": ("name", "email", "phone", "title"),
}

_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}
_PHONE = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?)\s*\d+)?", re.IGNORECASE)
_INTEGER = re.compile(r"-?\d+")

Db = Session | sqlite3.Connection  # the store's session, or the exporter's raw connection


def query_rows(db: Db, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts, from a session or a plain sqlite3 connection (the SQL uses :named params)."""
    cursor = db.execute(sql, dict(params or {}))
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor]


def plural(entity: str) -> str:
    """"deals", "companies", "contacts"."""
    return "companies" if entity == "company" else f"{entity}s"


def name_key(name: str) -> str:
    """How field names are matched: case, `_`, `-` and runs of spaces do not count."""
    return " ".join(str(name).replace("_", " ").replace("-", " ").casefold().split())


def record_type(value: str) -> str:
    """`deal`, `company` or `contact` from how a person names it (plural too); ValidationError else."""
    word = str(value).strip().lower()
    entity = {"deals": "deal", "companies": "company", "contacts": "contact"}.get(word, word)
    if entity not in ENTITIES:
        raise ValidationError(f"record type: {value!r} is not deal, company or contact", "entity")
    return entity


# --- reading definitions ---------------------------------------------------------------------


def _choices(options: str | None) -> list[str]:
    try:
        return [str(c) for c in json.loads(options or "[]")]
    except (ValueError, TypeError):
        return []


def _live_fields(db: Db) -> list[dict[str, Any]]:
    rows = query_rows(db, "SELECT id, entity, name, kind, options, position, required, lookup FROM custom_field"
                     " WHERE deleted_at IS NULL ORDER BY entity, position, id")
    for row in rows:
        row["choices"] = _choices(row["options"])
        row["required"] = bool(row["required"])
    return rows


def _resolve_lookup(field: dict[str, Any], by_id: Mapping[int, dict[str, Any]]) -> None:
    """Give a lookup field what it shows: `source` as a person reads it ("company.VAT id"), the
    kind of its values (`value_kind`), and its source field when that is a custom one."""
    field["source"] = field["source_field"] = None
    field["value_kind"] = field["kind"]
    if field["kind"] != "lookup" or not field["lookup"]:
        return
    entity, _, column = field["lookup"].partition(".")
    field["value_kind"] = "text"
    if entity not in LOOKUP_FROM.get(field["entity"], ()):
        return
    if column.startswith(CUSTOM_PREFIX) and column[len(CUSTOM_PREFIX):].isdigit():
        source = by_id.get(int(column[len(CUSTOM_PREFIX):]))
        if source is not None and source["entity"] == entity and source["kind"] != "lookup":
            field["source_field"] = source
            field["source"] = f"{entity}.{source['name']}"
            field["value_kind"] = source["kind"]
    elif column in LOOKUP_COLUMNS[entity]:
        field["source"] = field["lookup"]


def custom_fields(db: Db, kind: str) -> list[dict[str, Any]]:
    """The live custom fields of deals, companies or contacts, in order.

    Each is a dict: id, entity, name, kind, options (JSON text), choices (list), position,
    required, lookup (stored source or None), source ("company.size": what a lookup shows, None
    when it cannot be read), value_kind (the kind of its values: a lookup's is its source's).
    """
    every = _live_fields(db)
    by_id = {f["id"]: f for f in every}
    fields = [f for f in every if f["entity"] == kind]
    for field in fields:
        _resolve_lookup(field, by_id)
    return fields


def find_field(db: Db, entity: str, name: str) -> dict[str, Any]:
    """A live custom field by name (case-insensitive); NotFound naming the fields there are."""
    entity = record_type(entity)
    fields = custom_fields(db, entity)
    for field in fields:
        if name_key(field["name"]) == name_key(name):
            return field
    if not fields:
        raise NotFound(f"no {entity} field called {name!r}: {plural(entity)} have no custom fields yet"
                       f" (add one with crmtui fields add {entity} NAME --kind KIND)")
    raise NotFound(f"no {entity} field called {name!r} (fields: {', '.join(f['name'] for f in fields)})")


def field_summary(field: Mapping[str, Any]) -> dict[str, Any]:
    """A field as `crmtui fields list --json` shows it."""
    return {"id": field["id"], "entity": field["entity"], "name": field["name"], "kind": field["kind"],
            "options": list(field["choices"]), "required": field["required"],
            "lookup": field["source"] or field["lookup"], "position": field["position"] + 1}


def list_fields(db: Db, entity: str | None = None) -> list[dict[str, Any]]:
    """Every live custom field (of one record type, or of all), as `field_summary` dicts, with
    `position` counted from 1 within its record type."""
    entities = ENTITIES if entity is None else (record_type(entity),)
    out = []
    for kind in entities:
        for i, field in enumerate(custom_fields(db, kind)):
            out.append(field_summary({**field, "position": i}))
    return out


# --- values ------------------------------------------------------------------------------------


def _number(field_name: str, value: str) -> str:
    number = value.replace(",", "").replace(" ", "")
    try:
        finite = math.isfinite(float(number))
    except ValueError:
        finite = False
    if not finite:
        raise ValidationError(f"{field_name}: {value!r} is not a number", field_name)
    return number


def _rating(field_name: str, value: str) -> str:
    try:
        stars = int(value.count("*") or value) if "*" in value else int(value)
    except ValueError:
        stars = 0
    if not 1 <= stars <= 5:
        raise ValidationError(f"{field_name}: {value!r} is not 1 to 5 stars", field_name)
    return str(stars)


def _yesno(field_name: str, value: str) -> str:
    if value.lower() in _YES:
        return "yes"
    if value.lower() in _NO:
        return "no"
    raise ValidationError(f"{field_name}: {value!r} is not yes or no", field_name)


def _phone(field_name: str, value: str) -> str:
    if not _PHONE.fullmatch(value) or sum(c.isdigit() for c in value) < 3:
        raise ValidationError(f"{field_name}: {value!r} is not a phone number (digits, spaces and + ( ) - . /)",
                              field_name)
    return " ".join(value.split())


def _one_choice(field: Mapping[str, Any], value: str) -> str:
    for choice in field["choices"]:
        if choice.casefold() == value.casefold():
            return choice
    raise ValidationError(f"{field['name']}: {value!r} is not one of {', '.join(field['choices'])}", field["name"])


def _many_choices(field: Mapping[str, Any], value: str) -> str | None:
    """A multichoice value ("SEO, Ads" or "SEO; Ads") as a JSON list in the options' order."""
    picked = {_one_choice(field, part.strip()) for part in re.split(r"[,;]", value) if part.strip()}
    ordered = [c for c in field["choices"] if c in picked]
    return json.dumps(ordered, ensure_ascii=False) if ordered else None


def clean_custom(field: Mapping[str, Any], value: str | None) -> str | None:
    """A custom field's typed text as stored (see the module's table), or ValidationError naming
    the field and what it accepts. A lookup's text comes back as typed: it is never stored, and
    `split_custom_values` refuses to change one."""
    name, kind = field["name"], field["kind"]
    text_value = clean_text(value)
    if text_value is None or kind == "lookup":
        return text_value
    if kind == "number":
        return _number(name, text_value)
    if kind == "money":
        return str(clean_amount(text_value, name))
    if kind == "date":
        return parse_date(text_value, field=name).isoformat()
    if kind == "url":
        return clean_url(text_value, name)
    if kind == "email":
        return clean_email(text_value, name)
    if kind == "phone":
        return _phone(name, text_value)
    if kind == "rating":
        return _rating(name, text_value)
    if kind == "yesno":
        return _yesno(name, text_value)
    if kind == "choice" and field["choices"]:
        return _one_choice(field, text_value)
    if kind == "multichoice" and field["choices"]:
        return _many_choices(field, text_value)
    return text_value


def custom_reason(field: Mapping[str, Any], typed: str, stored: str | None) -> str | None:
    """Why a form's text for a field is wrong, or None. The record's current value is always
    fine (a lookup, or an option no longer offered, that the user left as it was)."""
    if (clean_text(typed) or "") == custom_text(field, stored, for_form=True).strip():
        return None
    try:
        check_settable(field)
        clean_custom(field, typed)
    except ValidationError as exc:
        return exc.message
    return None


def check_settable(field: Mapping[str, Any]) -> None:
    """ValidationError when a field cannot be given a value: a lookup is read from the customer."""
    if field["kind"] == "lookup":
        source = field.get("source") or field["lookup"] or "its customer"
        entity = source.partition(".")[0]
        raise ValidationError(f"{field['name']}: read-only, looked up from {source}; change it on the {entity}",
                              field["name"])


def _json_money(stored: str) -> str:
    return plain_decimal(int(stored))


def _json_number(stored: str) -> int | float:
    return int(stored) if _INTEGER.fullmatch(stored) else float(stored)


def _json_yesno(stored: str) -> bool | str:
    return {"yes": True, "no": False}.get(stored, stored)


def _json_list(stored: str) -> list[str]:
    return [str(v) for v in json.loads(stored)]


_JSON = {"money": _json_money, "number": _json_number, "rating": int, "yesno": _json_yesno,
         "multichoice": _json_list}


def json_converter(field: Mapping[str, Any]) -> Callable[[str], Any] | None:
    """What turns a field's stored text into its JSON value (see `json_value`); None when the
    text is the value. For many values of one field: look it up once."""
    convert = _JSON.get(field.get("value_kind", field["kind"]))
    if convert is None:
        return None

    def value(stored: str) -> Any:  # noqa: ANN401 - a JSON value
        try:
            return convert(stored)
        except (ValueError, TypeError):
            return stored  # edited by hand: as stored

    return value


def json_value(field: Mapping[str, Any], stored: str | None) -> Any:  # noqa: ANN401 - a JSON value
    """A stored value as JSON shows it: money a decimal string ("2500.00", exact, as the export
    writes amounts), number and rating numbers, yes/no true/false, multichoice a list, the rest
    text. A value that does not read as its kind (edited by hand) stays as stored."""
    convert = json_converter(field)
    return stored if stored is None or convert is None else convert(stored)


def custom_text(field: Mapping[str, Any], stored: str | None, *, masked: bool = False, for_form: bool = False) -> str:
    """A stored custom value as shown on a page (or as the form's starting text)."""
    if stored is None:
        return "" if for_form else "—"
    kind = field.get("value_kind", field["kind"])
    try:
        if kind == "money":
            cents = int(stored)
            return format_money_input(cents) if for_form else format_money(cents, masked=masked)
        if kind == "rating" and not for_form:
            return "★" * int(stored) + "☆" * (5 - int(stored))
        if kind == "multichoice":
            return ", ".join(str(v) for v in json.loads(stored))
    except (ValueError, TypeError):
        return str(stored)
    return str(stored)


def value_sql(fields: Iterable[Mapping[str, Any]], alias: str) -> list[str]:
    """SQL for each field's stored value, in a query over the fields' record table as `alias`:
    a field's own value by its (field, record) key, a lookup's from the record's company or
    contact. One scalar per field; ids and column names come from the definitions, never from
    what a user typed (a lookup that cannot be read is NULL)."""
    columns = []
    for field in fields:
        if field["kind"] != "lookup":
            columns.append(f"(SELECT value FROM custom_value WHERE field_id = {int(field['id'])}"
                           f" AND entity_id = {alias}.id)")
        elif field.get("source_field") is not None:
            source = field["source_field"]
            columns.append(f"(SELECT value FROM custom_value WHERE field_id = {int(source['id'])}"
                           f" AND entity_id = {alias}.{source['entity']}_id)")
        elif field.get("source"):
            entity, column = field["source"].split(".", 1)
            columns.append(f"(SELECT {column} FROM {entity} WHERE id = {alias}.{entity}_id)")
        else:
            columns.append("NULL")
    return columns


def _stored(db: Db, entity: str, fields: list[dict[str, Any]], record_ids: Iterable[int] | None) -> dict[int, tuple]:
    """Each record's stored values (lookups read live), in the fields' order: one query."""
    if not fields:
        return {}
    where = ("x.id IN (SELECT value FROM json_each(:ids))" if record_ids is not None
             else "x.deleted_at IS NULL")
    sql = f"SELECT x.id, {', '.join(value_sql(fields, 'x'))} FROM {entity} x WHERE {where}"
    params = {"ids": json.dumps([int(i) for i in record_ids])} if record_ids is not None else {}
    rows = db.execute(sql, params).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def field_values(db: Db, entity: str, record_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """The custom fields of many records, lookups included, as JSON shows them: record id ->
    {field name: value or None}, every field present. All live records when `record_ids` is
    None. Empty when the record type has no custom fields. One query, whatever the number."""
    fields = custom_fields(db, entity)
    make = fields_object(fields)
    return {rid: make(values) for rid, values in _stored(db, entity, fields, record_ids).items()}


def fields_object(fields: list[dict[str, Any]]) -> Callable[[Sequence[str | None]], dict[str, Any]]:
    """What makes a record's `fields` object from its stored values (in the fields' order), each
    as `json_value` gives it: the converters are looked up once, for many records."""
    converters = [(f["name"], json_converter(f)) for f in fields]

    def make(values: Sequence[str | None]) -> dict[str, Any]:
        return {name: v if convert is None or v is None else convert(v)
                for (name, convert), v in zip(converters, values, strict=True)}

    return make


def with_fields(db: Db, entity: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each row (a dict with `id`) of a record list its `fields` object, when the record type
    has custom fields; the rows are left as they are otherwise."""
    if rows and custom_fields(db, entity):
        values = field_values(db, entity, [r["id"] for r in rows])
        for row in rows:
            row["fields"] = values.get(row["id"], {})
    return rows


def custom_values(session: Session, kind: str, record_id: int) -> dict[int, str | None]:
    """Stored values of a record's custom fields, by field id (lookups are not stored)."""
    rows = session.execute(
        "SELECT v.field_id, v.value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
             " WHERE f.entity = :e AND v.entity_id = :id",
        {"e": kind, "id": record_id},
    )
    return {r[0]: r[1] for r in rows}


def custom_rows(db: Db, kind: str, record_id: int) -> list[tuple[dict[str, Any], str | None]]:
    """Each custom field of a record's kind with the record's value as stored (None when unset);
    a lookup's value is read now from the record's company or contact."""
    fields = custom_fields(db, kind)
    values = _stored(db, kind, fields, [record_id]).get(record_id, (None,) * len(fields))
    return list(zip(fields, values, strict=True))


def restore_custom_values(session: Session, kind: str, record_id: int, values: Mapping[str, str | None]) -> None:
    """Put custom values back (the undo log's `set_custom` operation), by field id as text."""
    write_custom_values(session, record_id, {int(k): v for k, v in values.items()})


def write_custom_values(session: Session, record_id: int, values: Mapping[int, str | None]) -> None:
    """Store a record's custom values by field id; None clears one."""
    for field_id, value in values.items():
        if value is None:
            session.execute("DELETE FROM custom_value WHERE field_id = :f AND entity_id = :id",
                         {"f": field_id, "id": record_id})
        else:
            session.execute("INSERT OR REPLACE INTO custom_value (field_id, entity_id, value) VALUES (:f, :id, :v)",
                         {"f": field_id, "id": record_id, "v": value})


def split_custom_values(
    session: Session, kind: str, values: Mapping[str, str], record_id: int | None = None
) -> tuple[dict[str, str], dict[int, str | None]]:
    """Separate custom fields (`cf_7`) from the record's own, cleaning the custom ones.

    With `record_id`, a value typed as the record has it now is left alone unchecked (a form
    sends every field: a lookup, or an option no longer offered, that the user did not touch);
    changing a lookup is refused."""
    own = {k: v for k, v in values.items() if not k.startswith(CUSTOM_PREFIX)}
    wanted = {k: v for k, v in values.items() if k.startswith(CUSTOM_PREFIX)}
    if not wanted:
        return own, {}
    defs = {f"{CUSTOM_PREFIX}{f['id']}": f for f in custom_fields(session, kind)}
    current = {f["id"]: v for f, v in custom_rows(session, kind, record_id)} if record_id is not None else {}
    custom: dict[int, str | None] = {}
    for key, value in wanted.items():
        if key not in defs:
            raise ValidationError(f"no custom field {key!r} on a {kind}", key)
        field = defs[key]
        if record_id is not None and (clean_text(value) or "") == custom_text(field, current.get(field["id"]),
                                                                                  for_form=True).strip():
            continue
        check_settable(field)
        custom[field["id"]] = clean_custom(field, value)
    return own, custom
