"""Custom fields: facts the user chooses to keep about deals, companies or contacts. A field is
defined per record kind (`custom_field`); a record's values are rows of `custom_value`, stored as
text (money in cents, dates ISO, yes/no)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from crmtui.store.dates import parse_date
from crmtui.store.errors import ValidationError
from crmtui.store.money import format_money
from crmtui.store.validate import clean_amount, clean_text, clean_url

CUSTOM_PREFIX = "cf_"  # form field name of custom field 7: "cf_7"
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


def custom_fields(session: Session, kind: str) -> list[dict[str, Any]]:
    """The custom fields defined for deals, companies or contacts, in order."""
    rows = session.connection().execute(
        text("SELECT id, name, kind, options FROM custom_field WHERE entity = :e AND deleted_at IS NULL"
             " ORDER BY position, id"),
        {"e": kind},
    ).mappings()
    out = []
    for r in rows:
        field = dict(r)
        try:
            field["choices"] = [str(c) for c in json.loads(field["options"] or "[]")]
        except ValueError:
            field["choices"] = []
        out.append(field)
    return out


def clean_custom(field: dict[str, Any], value: str | None) -> str | None:
    """A custom field's typed text as stored (money in cents, dates ISO, yes/no), or ValidationError."""
    name, kind = field["name"], field["kind"]
    text_value = clean_text(value)
    if text_value is None:
        return None
    if kind == "number":
        try:
            float(text_value.replace(",", ""))
        except ValueError:
            raise ValidationError(f"{name}: {text_value!r} is not a number", name) from None
        return text_value.replace(",", "")
    if kind == "money":
        return str(clean_amount(text_value, name))
    if kind == "date":
        return parse_date(text_value, field=name).isoformat()
    if kind == "url":
        return clean_url(text_value, name)
    if kind == "rating":
        try:
            stars = int(text_value.count("*") or text_value) if "*" in text_value else int(text_value)
        except ValueError:
            stars = 0
        if not 1 <= stars <= 5:
            raise ValidationError(f"{name}: {text_value!r} is not 1 to 5 stars", name)
        return str(stars)
    if kind == "yesno":
        if text_value.lower() in _YES:
            return "yes"
        if text_value.lower() in _NO:
            return "no"
        raise ValidationError(f"{name}: {text_value!r} is not yes or no", name)
    if kind == "choice" and field["choices"]:
        for choice in field["choices"]:
            if choice.casefold() == text_value.casefold():
                return choice
        raise ValidationError(f"{name}: {text_value!r} is not one of {', '.join(field['choices'])}", name)
    return text_value


def custom_values(session: Session, kind: str, record_id: int) -> dict[int, str | None]:
    """Stored values of a record's custom fields, by field id."""
    rows = session.connection().execute(
        text("SELECT v.field_id, v.value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
             " WHERE f.entity = :e AND v.entity_id = :id"),
        {"e": kind, "id": record_id},
    )
    return {r[0]: r[1] for r in rows}


def custom_text(field: dict[str, Any], stored: str | None, *, masked: bool = False, for_form: bool = False) -> str:
    """A stored custom value as shown on a page (or as the form's starting text)."""
    if stored is None:
        return "" if for_form else "—"
    if field["kind"] == "money":
        cents = int(stored)
        return format_money(cents).replace(",", "") if for_form else format_money(cents, masked=masked)
    if field["kind"] == "rating" and not for_form:
        return "★" * int(stored) + "☆" * (5 - int(stored))
    return stored


def custom_rows(session: Session, kind: str, record_id: int) -> list[tuple[dict[str, Any], str | None]]:
    """Each custom field of a record's kind with the record's stored value (None when unset)."""
    values = custom_values(session, kind, record_id)
    return [(f, values.get(f["id"])) for f in custom_fields(session, kind)]


def restore_custom_values(session: Session, kind: str, record_id: int, values: Mapping[str, str | None]) -> None:
    """Put custom values back (the undo log's `set_custom` operation), by field id as text."""
    write_custom_values(session, record_id, {int(k): v for k, v in values.items()})


def write_custom_values(session: Session, record_id: int, values: Mapping[int, str | None]) -> None:
    """Store a record's custom values by field id; None clears one."""
    conn = session.connection()
    for field_id, value in values.items():
        if value is None:
            conn.execute(text("DELETE FROM custom_value WHERE field_id = :f AND entity_id = :id"),
                         {"f": field_id, "id": record_id})
        else:
            conn.execute(text("INSERT OR REPLACE INTO custom_value (field_id, entity_id, value) VALUES (:f, :id, :v)"),
                         {"f": field_id, "id": record_id, "v": value})


def split_custom_values(session: Session, kind: str, values: Mapping[str, str]) -> tuple[dict[str, str], dict[int, str | None]]:
    """Separate custom fields (`cf_7`) from the record's own, cleaning the custom ones."""
    own = {k: v for k, v in values.items() if not k.startswith(CUSTOM_PREFIX)}
    wanted = {k: v for k, v in values.items() if k.startswith(CUSTOM_PREFIX)}
    if not wanted:
        return own, {}
    defs = {f"{CUSTOM_PREFIX}{f['id']}": f for f in custom_fields(session, kind)}
    custom: dict[int, str | None] = {}
    for key, value in wanted.items():
        if key not in defs:
            raise ValidationError(f"no custom field {key!r} on a {kind}", key)
        custom[defs[key]["id"]] = clean_custom(defs[key], value)
    return own, custom
