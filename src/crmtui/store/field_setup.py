"""Setting up custom fields: defining, renaming, ordering and deleting them, the options of
choice fields, and hiding the built-in fields a user does not use.

Every change is one undo entry in scope "settings" (the settings screen undoes it with `u`).
Deleting a field moves it to the trash (`F3`) with its values; `trash restore F3` brings both
back (the unique name index covers live fields only, so the name is free meanwhile). Undoing the
addition of a field moves it to the trash too: values typed since are kept.

Renaming an option rewrites the records that have it, in the same transaction. Removing one only
stops offering it: records keep their value, shown as stored (see custom_fields).

Hidden built-in fields are the `hidden-fields` setting, JSON by record type (`{"deal": ["cost"]}`,
form names), read with `hidden_fields`: forms, pages and cards leave them out, never the data,
`crmtui set` or the export. A deal's title, pipeline and stage, and a company's or contact's
name, cannot be hidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from crmtui.store import clock, undo
from crmtui.store.custom_fields import (
    CHOICE_KINDS,
    CUSTOM_PREFIX,
    ENTITIES,
    FIELD_KINDS,
    LOOKUP_COLUMNS,
    LOOKUP_FROM,
    Db,
    clean_custom,
    custom_fields,
    custom_text,
    find_field,
    name_key,
    plural,
    query_rows,
    record_type,
    write_custom_values,
)
from crmtui.store.editing import FIELDS, builtin_key
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.exporter import COLUMNS
from crmtui.store.sql import Session
from crmtui.store.validate import clean_text, require_text

HIDDEN_KEY = "hidden-fields"
# Every record has these: they cannot be hidden.
ALWAYS_SHOWN = {"deal": ("title", "pipeline", "stage"), "company": ("name",), "contact": ("name",)}


def _builtin_names(entity: str) -> dict[str, str]:
    """A record type's built-in fields by every name they go by (form key, label, export column)."""
    names = {name_key(column): column for column in COLUMNS[{"deal": "deals", "company": "companies",
                                                          "contact": "contacts"}[entity]]}
    for key, (label, _clean) in FIELDS[entity].items():
        names[name_key(key)] = key
        names[name_key(label.split(" (")[0])] = key
    return names


def _clean_name(db: Db, entity: str, name: str, *, keep_id: int | None = None) -> str:
    """A new field name, checked: not empty, usable in `crmtui set NAME=...`, not a built-in's
    name, not another field's."""
    name = require_text(name, "name", max_len=60)
    if "=" in name:
        raise ValidationError(f"name: {name!r} has an '=' (crmtui set FIELD=VALUE could not name it)", "name")
    if name_key(name) in _builtin_names(entity):
        raise ValidationError(f"name: {plural(entity)} have a built-in field called {name!r}; choose another name",
                              "name")
    for field in custom_fields(db, entity):
        if name_key(field["name"]) == name_key(name) and field["id"] != keep_id:
            raise ValidationError(f"name: there is a {entity} field called {field['name']!r} already", "name")
    return name


def check_new_field_name(db: Db, entity: str, name: str) -> str:
    """`name` as a new custom field of `entity` would have it, checked as `add_field` checks it
    (an import making fields of its columns asks); ValidationError saying why it cannot be."""
    return _clean_name(db, record_type(entity), name)


def _clean_kind(kind: str) -> str:
    value = str(kind).strip().lower().replace("/", "").replace("-", "").replace("_", "")
    value = {"multiplechoice": "multichoice", "multi": "multichoice"}.get(value, value)
    if value not in FIELD_KINDS:
        raise ValidationError(f"kind: {kind!r} is not one of {', '.join(FIELD_KINDS)}", "kind")
    return value


def _clean_option(value: str) -> str:
    option = require_text(value, "option", max_len=60)
    if "," in option or ";" in option:
        raise ValidationError(f"option: {option!r} has a ',' or ';' (they separate options)", "option")
    return option


def _clean_options(options: str | Iterable[str] | None) -> list[str]:
    parts = options.split(",") if isinstance(options, str) else list(options or [])
    cleaned: list[str] = []
    for part in parts:
        if not str(part).strip():
            continue
        option = _clean_option(part)
        if any(o.casefold() == option.casefold() for o in cleaned):
            raise ValidationError(f"options: {option!r} is given twice", "options")
        cleaned.append(option)
    return cleaned


def _clean_lookup(db: Db, entity: str, source: str | None) -> str:
    """`company.size` or `contact.<custom field name>` as stored (`company.size`, `company.cf_7`)."""
    allowed = LOOKUP_FROM[entity]
    if not allowed:
        raise ValidationError(f"--from: a {entity} has nothing to look up (deals look up their company or"
                              " contact, contacts their company)", "from")
    if not clean_text(source):
        raise ValidationError(f"--from: a lookup field needs its source, e.g. --from {allowed[0]}.name", "from")
    owner, _, column = str(source).strip().partition(".")
    owner = record_type(owner) if owner.lower() in ("company", "companies", "contact", "contacts") else owner
    if owner not in allowed:
        raise ValidationError(f"--from: {source!r} is not a field of the {' or '.join(allowed)}"
                              f" (e.g. {allowed[0]}.name)", "from")
    for builtin in LOOKUP_COLUMNS[owner]:
        if name_key(builtin) == name_key(column):
            return f"{owner}.{builtin}"
    for field in custom_fields(db, owner):
        if name_key(field["name"]) == name_key(column) and field["kind"] != "lookup":
            return f"{owner}.{CUSTOM_PREFIX}{field['id']}"
    names = list(LOOKUP_COLUMNS[owner]) + [f["name"] for f in custom_fields(db, owner) if f["kind"] != "lookup"]
    raise ValidationError(f"--from: a {owner} has no field {column!r} (fields: {', '.join(names)})", "from")


def _field_by_id(db: Db, field_id: int) -> dict[str, Any]:
    (row,) = query_rows(db, "SELECT entity FROM custom_field WHERE id = :id", {"id": field_id})
    return next(f for f in custom_fields(db, row["entity"]) if f["id"] == field_id)


def add_field(
    session: Session,
    entity: str,
    name: str,
    kind: str,
    *,
    options: str | Iterable[str] | None = None,
    required: bool = False,
    lookup: str | None = None,
) -> dict[str, Any]:
    """Define a custom field on deals, companies or contacts, last in their order.

    `options` ("a,b,c" or a list) are the choices of a choice or multichoice field (required for
    them, refused for the others); `lookup` ("company.size", "contact.Birthday") is the source of a
    lookup field; `required` fields are asked for in quick add. Returns the field (as
    `custom_fields` gives it). One undo entry ("settings"): undoing it moves the field to the trash.
    """
    entity = record_type(entity)
    kind = _clean_kind(kind)
    name = _clean_name(session, entity, name)
    choices = _clean_options(options)
    if kind in CHOICE_KINDS and not choices:
        raise ValidationError(f"--options: a {kind} field needs its options, e.g. --options 'Small,Medium,Large'",
                              "options")
    if kind not in CHOICE_KINDS and choices:
        raise ValidationError(f"--options: only choice and multichoice fields have options, not {kind}", "options")
    if kind != "lookup" and clean_text(lookup):
        raise ValidationError(f"--from: only lookup fields look up a value (use --kind lookup), not {kind}", "from")
    source = _clean_lookup(session, entity, lookup) if kind == "lookup" else None
    if kind == "lookup" and required:
        raise ValidationError("--required: a lookup field is read from the customer, never typed in", "required")
    position = session.execute(
        "SELECT coalesce(max(position), -1) + 1 FROM custom_field WHERE entity = :e AND deleted_at IS NULL",
        {"e": entity}).scalar()
    field_id = session.execute(
        "INSERT INTO custom_field (entity, name, kind, options, position, required, lookup)"
             " VALUES (:e, :n, :k, :o, :p, :r, :l) RETURNING id",
        {"e": entity, "n": name, "k": kind, "o": json.dumps(choices, ensure_ascii=False) if choices else None,
         "p": position, "r": bool(required), "l": source},
    ).scalar()
    undo.record(session, f"add {entity} field {name}", [{"op": "trash", "table": "custom_field", "id": field_id}],
                scope="settings")
    return _field_by_id(session, field_id)


def rename_field(session: Session, entity: str, name: str, new_name: str) -> dict[str, Any]:
    """Rename a custom field (its values, and lookups of it, stay). One undo entry."""
    field = find_field(session, entity, name)
    new_name = _clean_name(session, field["entity"], new_name, keep_id=field["id"])
    if new_name == field["name"]:
        return field
    op = undo.update_op(session, "custom_field", field["id"], ["name"])
    session.execute("UPDATE custom_field SET name = :n WHERE id = :id",
                    {"n": new_name, "id": field["id"]})
    undo.record(session, f"rename {field['entity']} field {field['name']} to {new_name}", [op], scope="settings")
    return {**field, "name": new_name}


def change_field(session: Session, entity: str, name: str, *, kind: str | None = None,
                 options: str | Iterable[str] | None = None, required: bool | None = None) -> dict[str, Any]:
    """Change a custom field's kind (its values are read again as the new kind: `2500.00` money
    becomes the number 2500.00; a value the new kind cannot hold refuses the change, naming the
    record and the value) and whether quick add asks for it. A lookup field stays a lookup (its
    source is its meaning: delete it and add another). One undo entry ("settings")."""
    field = find_field(session, entity, name)
    new_kind = field["kind"] if kind is None else _clean_kind(kind)
    if "lookup" in (field["kind"], new_kind) and new_kind != field["kind"]:
        raise ValidationError(f"--kind: {field['name']} is {'a lookup' if field['kind'] == 'lookup' else field['kind']};"
                              " a lookup field cannot become another kind or another field a lookup (delete it and"
                              " add a new one)", "kind")
    if new_kind == "lookup" and required:
        raise ValidationError("--required: a lookup field is read from the customer, never typed in", "required")
    choices = _clean_options(options) if options is not None else (field["choices"] if new_kind in CHOICE_KINDS else [])
    if new_kind in CHOICE_KINDS and not choices:
        raise ValidationError(f"--options: a {new_kind} field needs its options, e.g. --options 'Small,Medium,Large'",
                              "options")
    if new_kind not in CHOICE_KINDS and options is not None and choices:
        raise ValidationError(f"--options: only choice and multichoice fields have options, not {new_kind}", "options")
    changed = {**field, "kind": new_kind, "value_kind": new_kind, "choices": choices}
    values = _values_as(session, field, changed) if new_kind != field["kind"] or options is not None else {}
    ops: list[dict[str, Any]] = [undo.update_op(session, "custom_field", field["id"], ["kind", "options", "required"])]
    session.execute(
        "UPDATE custom_field SET kind = :k, options = :o, required = :r WHERE id = :id",
        {"k": new_kind, "o": json.dumps(choices, ensure_ascii=False) if choices else None,
         "r": field["required"] if required is None else bool(required), "id": field["id"]})
    for record_id, (old, new) in values.items():
        if old != new:
            ops.append({"op": "set_custom", "entity": field["entity"], "id": record_id, "values": {str(field["id"]): old}})
            write_custom_values(session, record_id, {field["id"]: new})
    undo.record(session, f"change {field['entity']} field {field['name']}", ops, scope="settings")
    return _field_by_id(session, field["id"])


def _values_as(db: Db, field: Mapping[str, Any], changed: Mapping[str, Any]) -> dict[int, tuple[str, str | None]]:
    """Each record's stored value of `field` (old) and as `changed` stores it (new); refuses the
    first value the changed field cannot hold."""
    out = {}
    for row in query_rows(db, "SELECT entity_id, value FROM custom_value WHERE field_id = :f AND value IS NOT NULL"
                              " ORDER BY entity_id", {"f": field["id"]}):
        typed = custom_text(field, row["value"], for_form=True)
        try:
            out[row["entity_id"]] = (row["value"], clean_custom(changed, typed))
        except ValidationError as exc:
            raise ValidationError(f"{field['entity']} {row['entity_id']} has {field['name']} = {typed!r}, which a"
                                  f" {changed['kind']} field cannot hold ({exc.message})", "kind") from None
    return out


def move_field(
    session: Session, entity: str, name: str, *, after: str | None = None, first: bool = False, last: bool = False
) -> list[str]:
    """Put a custom field first, last, or after another one. Returns the fields' names in their
    new order. One undo entry (none when the order stays)."""
    if sum((after is not None, first, last)) != 1:
        raise ValidationError("give one of --after FIELD, --first or --last", "position")
    field = find_field(session, entity, name)
    fields = [f for f in custom_fields(session, field["entity"]) if f["id"] != field["id"]]
    if after is not None:
        anchor = find_field(session, field["entity"], after)
        if anchor["id"] == field["id"]:
            raise ValidationError(f"--after: {field['name']!r} cannot go after itself", "after")
        index = next(i for i, f in enumerate(fields) if f["id"] == anchor["id"]) + 1
    else:
        index = 0 if first else len(fields)
    fields.insert(index, field)
    ops = undo.renumber(session, "custom_field", fields)
    if ops:
        undo.record(session, f"move {field['entity']} field {field['name']}", ops, scope="settings")
    return [f["name"] for f in fields]


def delete_field(session: Session, entity: str, name: str) -> dict[str, Any]:
    """Move a custom field to the trash (`F<id>`), its values kept for `trash restore`. Refused
    while a lookup field shows it. One undo entry."""
    return _trash_field(session, find_field(session, entity, name))


def delete_field_by_id(session: Session, field_id: int) -> dict[str, Any]:
    """`delete_field` by id (the trash's `F3`)."""
    rows = query_rows(session, "SELECT deleted_at FROM custom_field WHERE id = :id", {"id": field_id})
    if not rows:
        raise NotFound(f"no field with id {field_id}")
    if rows[0]["deleted_at"] is not None:
        raise ValidationError(f"F{field_id} is already in the trash", "id")
    return _trash_field(session, _field_by_id(session, field_id))


def _trash_field(session: Session, field: dict[str, Any]) -> dict[str, Any]:
    users = [f"{f['entity']} field {f['name']!r}" for kind in ENTITIES for f in custom_fields(session, kind)
             if (f["source_field"] or {}).get("id") == field["id"]]
    if users:
        raise ValidationError(f"{field['name']}: {', '.join(users)} looks it up; delete or change that first", "name")
    op = undo.update_op(session, "custom_field", field["id"], ["deleted_at"])
    session.execute("UPDATE custom_field SET deleted_at = :now WHERE id = :id",
                    {"now": clock.to_db(clock.utcnow()), "id": field["id"]})
    undo.record(session, f"delete {field['entity']} field {field['name']}", [op], scope="settings")
    return field


def restore_field(session: Session, field_id: int) -> dict[str, Any]:
    """Bring a custom field back from the trash, with its values. Refused when a live field of the
    record type has its name now. One undo entry ("settings")."""
    rows = query_rows(session, "SELECT entity, name, deleted_at FROM custom_field WHERE id = :id", {"id": field_id})
    if not rows:
        raise NotFound(f"no field with id {field_id}")
    entity, name, deleted_at = rows[0]["entity"], rows[0]["name"], rows[0]["deleted_at"]
    if deleted_at is None:
        raise ValidationError(f"F{field_id} ({entity} field {name!r}) is not in the trash", "id")
    for field in custom_fields(session, entity):
        if name_key(field["name"]) == name_key(name):
            raise ValidationError(f"F{field_id}: there is a {entity} field called {field['name']!r} now; rename it"
                                  f" (crmtui fields rename {entity} ...) and restore again", "id")
    op = undo.update_op(session, "custom_field", field_id, ["deleted_at"])
    session.execute("UPDATE custom_field SET deleted_at = NULL WHERE id = :id", {"id": field_id})
    undo.record(session, f"restore {entity} field {name}", [op], scope="settings")
    return _field_by_id(session, field_id)


# --- options of choice fields ------------------------------------------------------------------


def _choice_field(session: Session, entity: str, name: str) -> dict[str, Any]:
    field = find_field(session, entity, name)
    if field["kind"] not in CHOICE_KINDS:
        raise ValidationError(f"{field['name']} is a {field['kind']} field: only choice and multichoice fields"
                              " have options", "name")
    return field


def _find_option(field: Mapping[str, Any], value: str) -> str:
    for option in field["choices"]:
        if option.casefold() == str(value).strip().casefold():
            return option
    raise ValidationError(f"{field['name']}: {value!r} is not one of {', '.join(field['choices'])}", "option")


def _set_options(session: Session, field: Mapping[str, Any], choices: list[str]) -> dict[str, Any]:
    op = undo.update_op(session, "custom_field", field["id"], ["options"])
    session.execute("UPDATE custom_field SET options = :o WHERE id = :id",
                    {"o": json.dumps(choices, ensure_ascii=False), "id": field["id"]})
    return op


def add_option(session: Session, entity: str, name: str, option: str) -> list[str]:
    """Offer one more option in a choice or multichoice field (last). Returns the options."""
    field = _choice_field(session, entity, name)
    option = _clean_option(option)
    for existing in field["choices"]:
        if existing.casefold() == option.casefold():
            raise ValidationError(f"{field['name']}: {existing!r} is an option already", "option")
    choices = [*field["choices"], option]
    undo.record(session, f"add option {option} to {field['name']}", [_set_options(session, field, choices)],
                scope="settings")
    return choices


def rename_option(session: Session, entity: str, name: str, old: str, new: str) -> tuple[list[str], int]:
    """Rename an option; the records that have it now have the new name (same transaction, same
    undo entry). Returns the options and how many records were rewritten."""
    field = _choice_field(session, entity, name)
    old = _find_option(field, old)
    new = _clean_option(new)
    for option in field["choices"]:
        if option.casefold() == new.casefold() and option != old:
            raise ValidationError(f"{field['name']}: {option!r} is an option already", "option")
    choices = [new if o == old else o for o in field["choices"]]
    ops = [_set_options(session, field, choices)]
    rewritten = _rewrite_values(session, {**field, "choices": choices}, old, new)
    ops += [{"op": "set_custom", "entity": field["entity"], "id": rid, "values": {str(field["id"]): value}}
            for rid, value in rewritten.items()]
    undo.record(session, f"rename option {old} of {field['name']} to {new}", ops, scope="settings")
    return choices, len(rewritten)


def _rewrite_values(session: Session, field: Mapping[str, Any], old: str, new: str) -> dict[int, str]:
    """Replace option `old` with `new` in every record's value; returns the old values by record."""
    rows = session.execute("SELECT entity_id, value FROM custom_value WHERE field_id = :f", {"f": field["id"]}).fetchall()
    changed = {record_id: value for record_id, value in rows if _renamed(field, value, old, new) != value}
    if changed:
        session.executemany(
            "UPDATE custom_value SET value = :v WHERE field_id = :f AND entity_id = :id",
            [{"f": field["id"], "id": rid, "v": _renamed(field, value, old, new)} for rid, value in changed.items()])
    return changed


def _renamed(field: Mapping[str, Any], value: str, old: str, new: str) -> str:
    """A stored value with option `old` called `new` (`field` has the new options); the value
    itself when it does not hold `old`."""
    if field["kind"] == "choice":
        return new if str(value).casefold() == old.casefold() else value
    try:
        picked = [str(v) for v in json.loads(value)]
    except (ValueError, TypeError):
        return value  # edited by hand: left as it is
    if old.casefold() not in (p.casefold() for p in picked):
        return value
    renamed = {new if p.casefold() == old.casefold() else p for p in picked}
    ordered = [c for c in field["choices"] if c in renamed] + sorted(renamed - set(field["choices"]))
    return json.dumps(ordered, ensure_ascii=False)


def remove_option(session: Session, entity: str, name: str, option: str) -> tuple[list[str], int]:
    """Stop offering an option. Records that have it keep it (shown as stored). Returns the
    options left and how many records keep the removed one. A field keeps at least one option."""
    field = _choice_field(session, entity, name)
    option = _find_option(field, option)
    choices = [o for o in field["choices"] if o != option]
    if not choices:
        raise ValidationError(f"{field['name']}: {option!r} is its last option; add another first", "option")
    values = session.execute("SELECT value FROM custom_value WHERE field_id = :f", {"f": field["id"]})
    keeping = sum(1 for (value,) in values if _has_option(field, value, option))
    undo.record(session, f"remove option {option} from {field['name']}", [_set_options(session, field, choices)],
                scope="settings")
    return choices, keeping


def _has_option(field: Mapping[str, Any], value: str, option: str) -> bool:
    if field["kind"] == "choice":
        return str(value).casefold() == option.casefold()
    try:
        return option.casefold() in (str(v).casefold() for v in json.loads(value))
    except (ValueError, TypeError):
        return False


# --- hidden built-in fields --------------------------------------------------------------------


def _hidden(db: Db) -> dict[str, list[str]]:
    rows = query_rows(db, "SELECT value FROM setting WHERE key = :k", {"k": HIDDEN_KEY})
    try:
        data = json.loads(rows[0]["value"]) if rows else {}
    except (ValueError, TypeError):
        data = {}  # edited by hand: nothing hidden
    return data if isinstance(data, dict) else {}


def hidden_fields(db: Db, entity: str) -> set[str]:
    """The built-in fields of a record type the user hid (their form names: "cost",
    "expected_close"): forms, pages and cards leave them out."""
    entity = record_type(entity)
    names = _hidden(db).get(entity, [])
    return {n for n in names if isinstance(n, str) and n in FIELDS[entity] and n not in ALWAYS_SHOWN[entity]}


def _hideable(entity: str, name: str) -> str:
    found = builtin_key(entity, name)
    if found is None:
        raise ValidationError(f"{plural(entity)} have no built-in field {name!r} (fields: {', '.join(FIELDS[entity])})",
                              "field")
    if found in ALWAYS_SHOWN[entity]:
        raise ValidationError(f"{found}: every {entity} shows it; it cannot be hidden"
                              f" ({', '.join(ALWAYS_SHOWN[entity])} stay)", "field")
    return found


def _store_hidden(session: Session, entity: str, names: set[str], label: str) -> None:
    data = {k: v for k, v in _hidden(session).items() if k in ENTITIES and k != entity}
    if names:
        data[entity] = [k for k in FIELDS[entity] if k in names]
    op = undo.setting_op(session, HIDDEN_KEY)
    if data:
        session.execute(
            "INSERT INTO setting (key, value) VALUES (:k, :v)"
                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"k": HIDDEN_KEY, "v": json.dumps(dict(sorted(data.items())))})
    else:
        session.execute("DELETE FROM setting WHERE key = :k", {"k": HIDDEN_KEY})
    undo.record(session, label, [op], scope="settings")


def hide_field(session: Session, entity: str, name: str) -> tuple[str, bool]:
    """Hide a built-in field (by form name or label) from forms, pages and cards. Returns its
    form name and whether that changed anything. One undo entry when it did."""
    entity = record_type(entity)
    key = _hideable(entity, name)
    hidden = hidden_fields(session, entity)
    if key in hidden:
        return key, False
    _store_hidden(session, entity, hidden | {key}, f"hide {entity} field {key}")
    return key, True


def show_field(session: Session, entity: str, name: str) -> tuple[str, bool]:
    """Show a hidden built-in field again. Returns its form name and whether it was hidden."""
    entity = record_type(entity)
    key = _hideable(entity, name)
    hidden = hidden_fields(session, entity)
    if key not in hidden:
        return key, False
    _store_hidden(session, entity, hidden - {key}, f"show {entity} field {key}")
    return key, True
