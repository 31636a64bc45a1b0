"""Tags on deals, companies and contacts (the service sold, a segment, ...)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from crmtui.store.errors import ValidationError
from crmtui.store.models import CompanyTag, ContactTag, DealTag, Tag
from crmtui.store.sql import Session

_LINKS = {"deal": (DealTag, "deal_id"), "company": (CompanyTag, "company_id"), "contact": (ContactTag, "contact_id")}


def clean_tags(values: Iterable[str] | None) -> list[str]:
    """Trim, drop a leading '#', split on `;`/`,`, and de-duplicate case-insensitively."""
    seen: dict[str, str] = {}
    for value in values or []:
        for part in re.split(r"[;,]", value or ""):
            name = " ".join(part.strip().lstrip("#").split())
            if not name:
                continue
            if len(name) > 60:
                raise ValidationError(f"tag {name[:20]!r}…: longer than 60 characters", "tag")
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


def get_or_create_tag(session: Session, name: str) -> Tag:
    found = session.find(Tag, "lower(name) = ?", [name.lower()])
    if found:
        return found[0]
    tag = Tag(name=name)
    session.add(tag)
    return tag


def set_tags(session: Session, entity: str, entity_id: int, names: Iterable[str]) -> list[str]:
    """Replace the tags of a record with `names`."""
    link, column = _LINKS[entity]
    session.execute(f"DELETE FROM {link.__table__} WHERE {column} = ?", [entity_id])
    cleaned = clean_tags(names)
    for name in cleaned:
        tag = get_or_create_tag(session, name)
        session.add(link(**{column: entity_id, "tag_id": tag.id}))
    return cleaned


def newest_tag_id(session: Session) -> int:
    """The id of the newest tag (0: none yet): see `tags_after`."""
    return session.execute("SELECT coalesce(max(id), 0) FROM tag").scalar()


def tags_after(session: Session, tag_id: int) -> list[int]:
    """The ids of the tags made after tag `tag_id` (the newest one before a change)."""
    return [row[0] for row in session.execute("SELECT id FROM tag WHERE id > ? ORDER BY id", [tag_id])]


def drop_unused_tags(session: Session, tag_ids: Iterable[int]) -> None:
    """Delete those of the tags that no record carries (the tags a change made, once it is undone:
    a tag typed by mistake and undone is not offered afterwards)."""
    for tag_id in tag_ids:
        in_use = any(session.execute(f"SELECT 1 FROM {link.__table__} WHERE tag_id = ? LIMIT 1", [tag_id]).fetchone()
                     for link, _column in _LINKS.values())
        if not in_use:
            session.execute("DELETE FROM tag WHERE id = ?", [tag_id])


def add_tags(session: Session, entity: str, entity_id: int, names: Iterable[str]) -> list[str]:
    """Add tags to a record, keeping the ones it has."""
    return set_tags(session, entity, entity_id, tags_of(session, entity, entity_id) + list(names))


def tags_of(session: Session, entity: str, entity_id: int) -> list[str]:
    link, column = _LINKS[entity]
    rows = session.execute(
        f"SELECT t.name FROM tag t JOIN {link.__table__} l ON l.tag_id = t.id WHERE l.{column} = ? ORDER BY t.name",
        [entity_id])
    return [row[0] for row in rows]
