"""Editing deals, companies and contacts, with the same checks everywhere (forms check each field
as it is typed with `check_field`; saving runs them all again in the store).

Each save is one undo entry in the record's scope (`deal:12`), holding every column as it was
before, so `u` restores the record exactly (stage change and tags included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from crmtui.store import clock, undo
from crmtui.store.activities import get_record, undo_scope
from crmtui.store.custom_fields import (
    CUSTOM_PREFIX,
    check_settable,
    custom_fields,
    custom_values,
    name_key,
    plural,
    split_custom_values,
    write_custom_values,
)
from crmtui.store.dates import parse_date
from crmtui.store.errors import ValidationError
from crmtui.store.models import Company, Contact, DealLink
from crmtui.store.money import format_money_input
from crmtui.store.sql import Session
from crmtui.store.tags import clean_tags, newest_tag_id, set_tags, tags_after, tags_of
from crmtui.store.validate import (
    clean_amount,
    clean_confidence,
    clean_currency,
    clean_email,
    clean_text,
    clean_url,
    normalise_domain,
    require_text,
)


def _domain(value: str) -> str | None:
    if not clean_text(value):
        return None
    dom = normalise_domain(value)
    if dom is None:
        raise ValidationError(f"domain: {value!r} is not a domain name", "domain")
    return dom


def _customer_size(session: Session, value: str | None) -> str | None:
    """A size from the customer-size list (any case), as the list spells it; the user keeps the
    list (`crmtui choices`), so it is checked where the database is at hand, on save."""
    if value is None:
        return None
    from crmtui.store.choices import values as choice_values

    sizes = choice_values(session, "customer_size")
    found = next((size for size in sizes if size.casefold() == value.casefold()), None)
    if found is None:
        raise ValidationError(f"size: {value!r} is not one of {', '.join(sizes)}", "size")
    return found


def _date(field: str) -> Callable[[str], dt.date | None]:
    return lambda value: parse_date(value or None, field=field)


# field -> (label, cleaner). A cleaner turns the typed text into the stored value or raises
# ValidationError naming the field. Order is the form's order.
DEAL_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "title": ("Title", lambda v: require_text(v, "title")),
    "company": ("Company", lambda v: clean_text(v)),
    "contact": ("Contact", lambda v: clean_text(v)),
    "pipeline": ("Pipeline", lambda v: require_text(v, "pipeline")),
    "stage": ("Stage", lambda v: require_text(v, "stage")),
    "amount": ("Amount", lambda v: clean_amount(v, "amount") or 0),
    "cost": ("Cost", lambda v: clean_amount(v, "cost")),
    "currency": ("Currency", clean_currency),
    "confidence": ("Confidence (1-5)", clean_confidence),
    "expected_close": ("Expected close", _date("expected close")),
    "closed_on": ("Closed on", _date("closed on")),
    "source": ("Source", clean_text),
    "lost_reason": ("Lost reason", clean_text),
    "proposal_url": ("Proposal URL", lambda v: clean_url(v, "proposal URL")),
    "tags": ("Tags", lambda v: clean_tags([v or ""])),
    "notes": ("Notes", clean_text),
}
COMPANY_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "name": ("Name", lambda v: require_text(v, "name")),
    "website": ("Website", lambda v: clean_url(v, "website")),
    "domain": ("Domain", _domain),
    "email": ("Email", clean_email),
    "phone": ("Phone", clean_text),
    "address": ("Address", clean_text),
    "source": ("Source", clean_text),
    "category": ("Category", clean_text),
    "size": ("Size", clean_text),
    "tags": ("Tags", lambda v: clean_tags([v or ""])),
    "notes": ("Notes", clean_text),
}
CONTACT_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "name": ("Name", lambda v: require_text(v, "name")),
    "email": ("Email", clean_email),
    "phone": ("Phone", clean_text),
    "title": ("Title", clean_text),
    "company": ("Company", clean_text),
    "tags": ("Tags", lambda v: clean_tags([v or ""])),
    "notes": ("Notes", clean_text),
}
FIELDS = {"deal": DEAL_FIELDS, "company": COMPANY_FIELDS, "contact": CONTACT_FIELDS}

_COLUMNS = {
    "deal": ["title", "company_id", "contact_id", "pipeline_id", "stage_id", "stage_entered_at", "amount_cents",
             "cost_cents", "currency", "confidence", "expected_close", "closed_on", "source", "lost_reason",
             "proposal_url", "notes", "updated_at", "deleted_at"],
    "company": ["name", "website", "domain", "email", "phone", "address", "source", "category", "size", "notes",
                "updated_at", "deleted_at"],
    "contact": ["name", "email", "phone", "title", "company_id", "notes", "updated_at", "deleted_at"],
}


def check_field(kind: str, field: str, value: str) -> str | None:
    """The reason a typed value is wrong, or None when it is fine (forms call this per keystroke)."""
    try:
        FIELDS[kind][field][1](value)
    except ValidationError as exc:
        return exc.message
    return None


def form_values(session: Session, kind: str, record_id: int) -> dict[str, str]:
    """A record's editable fields as the text a form shows."""
    record = get_record(session, kind, record_id)
    values: dict[str, str] = {}
    for field in FIELDS[kind]:
        if field == "tags":
            values[field] = ", ".join(tags_of(session, kind, record_id))
        elif field == "company":
            values[field] = _name_of(session, Company, record.company_id)
        elif field == "contact":
            values[field] = _name_of(session, Contact, record.contact_id)
        elif field == "stage":
            values[field] = session.execute(
                "SELECT name FROM stage WHERE id = :id", {"id": record.stage_id}
            ).scalar()
        elif field == "pipeline":
            values[field] = session.execute(
                "SELECT name FROM pipeline WHERE id = :id", {"id": record.pipeline_id}
            ).scalar()
        elif field in ("amount", "cost"):
            cents = getattr(record, f"{field}_cents")
            values[field] = format_money_input(cents)
        else:
            value = getattr(record, field)
            values[field] = "" if value is None else str(value)
    return values


def _name_of(session: Session, model: type, record_id: int | None) -> str:
    if record_id is None:
        return ""
    row = session.get(model, record_id)
    return row.name if row is not None else ""


def _clean_all(kind: str, values: Mapping[str, str]) -> dict[str, Any]:
    spec = FIELDS[kind]
    unknown = set(values) - set(spec)
    if unknown:
        raise ValidationError(f"cannot edit {', '.join(sorted(unknown))} of a {kind}", sorted(unknown)[0])
    return {field: spec[field][1](value) for field, value in values.items()}


def _linked_company(session: Session, name: str | None) -> int | None:
    from crmtui.store.companies import find_company, get_company

    if name is None:
        return None
    if name.startswith("#") and name[1:].isdigit():
        return get_company(session, int(name[1:])).id
    found = find_company(session, name)
    if found is None:
        raise ValidationError(f"company: no company called {name!r} (add it first, or pick #id)", "company")
    return found.id


def _linked_contact(session: Session, name: str | None) -> int | None:
    from crmtui.store.contacts import find_contact, get_contact

    if name is None:
        return None
    if name.startswith("#") and name[1:].isdigit():
        return get_contact(session, int(name[1:])).id
    found = find_contact(session, name)
    if found is None:
        raise ValidationError(f"contact: no contact called {name!r} (add it first, or pick #id)", "contact")
    return found.id


def update_record(session: Session, kind: str, record_id: int, values: Mapping[str, str]) -> list[str]:
    """Save edited fields (as typed) of a deal, company or contact. Returns the fields changed.

    Unchanged values are left alone; nothing is written (and no undo entry made) when nothing changed.
    """
    record = get_record(session, kind, record_id)
    values, custom = split_custom_values(session, kind, values, record_id)
    cleaned = _clean_all(kind, values)
    before = form_values(session, kind, record_id)
    old_custom = custom_values(session, kind, record_id)
    custom_changed = {fid: v for fid, v in custom.items() if v != old_custom.get(fid)}
    changed = [f for f, v in values.items() if (v or "").strip() != (before.get(f) or "").strip()]
    if not changed and not custom_changed:
        return []
    if kind == "deal":
        _refuse_typed_figures(session, record_id, changed)
    ops: list[dict[str, Any]] = [undo.update_op(session, kind, record_id, _COLUMNS[kind])]
    if custom_changed:
        ops.append({"op": "set_custom", "entity": kind, "id": record_id,
                    "values": {str(fid): old_custom.get(fid) for fid in custom_changed}})
        write_custom_values(session, record_id, custom_changed)
    if "tags" in changed:
        tags_op = {"op": "set_tags", "entity": kind, "id": record_id, "tags": tags_of(session, kind, record_id)}
        ops.append(tags_op)
    for field in changed:
        value = cleaned[field]
        if field == "tags":
            newest = newest_tag_id(session)
            set_tags(session, kind, record_id, value)
            tags_op["made"] = tags_after(session, newest)  # undoing the edit drops them again
        elif field == "company":
            record.company_id = _linked_company(session, value)
        elif field == "contact":
            record.contact_id = _linked_contact(session, value)
        elif field in ("amount", "cost"):
            setattr(record, f"{field}_cents", value)
        elif field in ("stage", "pipeline"):
            continue  # below, after the other fields, through move_deal (records a stage change)
        elif field == "size":
            record.size = _customer_size(session, value)
        else:
            setattr(record, field, value)
    record.updated_at = clock.utcnow()
    session.add(record)
    if kind == "deal" and ("stage" in changed or "pipeline" in changed):
        from crmtui.store.deals import move_deal
        from crmtui.store.pipelines import find_pipeline, find_stage, first_open_stage

        target = cleaned.get("stage") or before["stage"]
        if "pipeline" in changed:
            # Another pipeline: the named stage of it, else its first open stage.
            pipe = find_pipeline(session, cleaned["pipeline"])
            if "stage" in changed:
                target = find_stage(session, pipe, cleaned["stage"])
            else:
                names = {st.name.casefold() for st in _stages(session, pipe.id)}
                target = find_stage(session, pipe, before["stage"]) if before["stage"].casefold() in names else first_open_stage(session, pipe)
            record.pipeline_id = pipe.id
            session.add(record)
        result = move_deal(session, record_id, target, lost_reason=cleaned.get("lost_reason"))
        if result.changed:
            last = session.execute(
                "SELECT max(id) FROM stage_change WHERE deal_id = :id", {"id": record_id}
            ).scalar()
            ops.append({"op": "delete_row", "table": "stage_change", "id": last})
            ops.extend({"op": "trash", "table": "activity", "id": task_id} for task_id in result.added_tasks)
    names = {f["id"]: f["name"] for f in custom_fields(session, kind)} if custom_changed else {}
    labels = ", ".join([FIELDS[kind][f][0].split(" (")[0].lower() for f in changed]
                       + [names.get(fid, str(fid)) for fid in custom_changed])
    undo.record(session, f"edit {labels}", ops, scope=undo_scope(kind, record_id))
    return changed + [f"{CUSTOM_PREFIX}{fid}" for fid in custom_changed]


def _refuse_typed_figures(session: Session, deal_id: int, changed: list[str]) -> None:
    """A deal with line items takes its amount from them, and its cost when a line has one."""
    if "amount" not in changed and "cost" not in changed:
        return
    from crmtui.store.lines import line_rows

    rows = line_rows(session, deal_id)
    if "amount" in changed and rows:
        raise ValidationError("amount follows the line items: change the lines, or remove them to type an amount",
                              "amount")
    if "cost" in changed and any(row["unit_cost_cents"] is not None for row in rows):
        raise ValidationError("cost follows the line items' costs: change the lines, or remove them to type a cost",
                              "cost")


def builtin_key(kind: str, name: str) -> str | None:
    """A built-in field's form name ("expected_close") from its form name or label as a person
    types it ("Expected close", "expected-close"); None when no built-in field is called that."""
    for key, (label, _clean) in FIELDS[kind].items():
        if name_key(name) in (name_key(key), name_key(label.split(" (")[0])):
            return key
    return None


def field_key(session: Session, kind: str, name: str) -> str:
    """The form name of a record's field as a person names it: a built-in field by its form name
    or label, any case, `_`, `-` or space alike ("expected close", "Lost_reason"), else a custom
    field by its name ("cf_7"); `field:NAME` names only custom fields. ValidationError naming the
    fields of that record type."""
    custom_only = name.strip().lower().startswith("field:")
    wanted = name.strip()[len("field:"):] if custom_only else name
    builtin = None if custom_only else builtin_key(kind, wanted)
    if builtin is not None:
        return builtin
    for field in custom_fields(session, kind):
        if name_key(field["name"]) == name_key(wanted):
            return f"{CUSTOM_PREFIX}{field['id']}"
    names = list(FIELDS[kind]) + [f["name"] for f in custom_fields(session, kind)]
    raise ValidationError(f"{plural(kind)} have no field {wanted.strip()!r} (fields: {', '.join(names)})", "field")


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`FIELD=VALUE` words as typed in the shell, by field; `FIELD=` clears the field."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"{item!r} is not FIELD=VALUE (FIELD= clears a field)", "field")
        if name.strip().casefold() in (n.casefold() for n in out):
            raise ValidationError(f"{name.strip()}: given twice", name.strip())
        out[name.strip()] = value
    return out


def set_fields(session: Session, kind: str, record_id: int, assignments: Mapping[str, str]) -> list[str]:
    """Change fields of a deal, company or contact by name (`crmtui set D12 amount=5000
    Budget=2500 stage=Won`), with the checks, undo entry and stage-change record of the app's
    edit form. A lookup field is refused: it is read from the customer. Returns the names of the
    fields that changed (built-in form names, custom field names)."""
    get_record(session, kind, record_id)
    form: dict[str, str] = {}
    for name, value in assignments.items():
        key = field_key(session, kind, name)
        if key.startswith(CUSTOM_PREFIX):
            field = next(f for f in custom_fields(session, kind) if f"{CUSTOM_PREFIX}{f['id']}" == key)
            check_settable(field)
        form[key] = value
    changed = update_record(session, kind, record_id, form)
    names = {f"{CUSTOM_PREFIX}{f['id']}": f["name"] for f in custom_fields(session, kind)}
    return [names.get(key, key) for key in changed]


def _stages(session: Session, pipeline_id: int) -> list:
    from crmtui.store.pipelines import list_stages

    return list_stages(session, pipeline_id)


def trash_record(session: Session, kind: str, record_id: int) -> None:
    """Move a deal, company or contact to the trash (undoable on its page and from the trash)."""
    record = get_record(session, kind, record_id)
    record.deleted_at = clock.utcnow()
    session.add(record)
    undo.record(session, f"delete {kind}", [{"op": "restore", "table": kind, "id": record_id}], scope=undo_scope(kind, record_id))


def undo_last_edit(session: Session, kind: str, record_id: int) -> str | None:
    """Reverse the newest change on a record's page; its label, or None when there is none."""
    entry = undo.undo_last(session, scope=undo_scope(kind, record_id))
    return entry.label if entry else None


# --- deal links (files, contract, URLs) -------------------------------------------------------

LINK_KINDS = ("file", "contract", "url")


def add_link(session: Session, deal_id: int, target: str, *, kind: str = "file", label: str | None = None) -> DealLink:
    """Attach a file path or URL to a deal (the file stays where it is)."""
    get_record(session, "deal", deal_id)
    if kind not in LINK_KINDS:
        raise ValidationError(f"link kind: {kind!r} is not one of {', '.join(LINK_KINDS)}", "kind")
    target = require_text(target, "path or URL", max_len=2000)
    if "://" in target:
        target = clean_url(target, "URL") or target
    else:
        from pathlib import Path

        target = str(Path(target).expanduser())
    link = DealLink(deal_id=deal_id, kind=kind, target=target, label=clean_text(label), created_at=clock.utcnow())
    session.add(link)
    undo.record(session, "add link", [{"op": "delete_row", "table": "deal_link", "id": link.id}], scope=undo_scope("deal", deal_id))
    return link


def deal_links(session: Session, deal_id: int) -> list[DealLink]:

    return session.find(DealLink, "deal_id = ?", [deal_id])


__all__ = [
    "DEAL_FIELDS", "COMPANY_FIELDS", "CONTACT_FIELDS", "FIELDS", "check_field", "form_values", "update_record",
    "builtin_key", "field_key", "parse_assignments", "set_fields",
    "trash_record", "undo_last_edit", "add_link", "deal_links",
]
