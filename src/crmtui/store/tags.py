"""Tags on deals, companies and contacts (the service sold, a segment, ...)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete, func
from sqlmodel import Session, select

from crmtui.store.errors import ValidationError
from crmtui.store.models import CompanyTag, ContactTag, DealTag, Tag

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
    tag = session.exec(select(Tag).where(func.lower(Tag.name) == name.lower())).first()
    if tag is None:
        tag = Tag(name=name)
        session.add(tag)
        session.flush()
    return tag


def set_tags(session: Session, entity: str, entity_id: int, names: Iterable[str]) -> list[str]:
    """Replace the tags of a record with `names`."""
    link, column = _LINKS[entity]
    session.exec(delete(link).where(getattr(link, column) == entity_id))
    cleaned = clean_tags(names)
    for name in cleaned:
        tag = get_or_create_tag(session, name)
        session.add(link(**{column: entity_id, "tag_id": tag.id}))
    session.flush()
    return cleaned


def newest_tag_id(session: Session) -> int:
    """The id of the newest tag (0: none yet): see `tags_after`."""
    return session.exec(select(func.coalesce(func.max(Tag.id), 0))).one()


def tags_after(session: Session, tag_id: int) -> list[int]:
    """The ids of the tags made after tag `tag_id` (the newest one before a change)."""
    return list(session.exec(select(Tag.id).where(Tag.id > tag_id).order_by(Tag.id)))


def drop_unused_tags(session: Session, tag_ids: Iterable[int]) -> None:
    """Delete those of the tags that no record carries (the tags a change made, once it is undone:
    a tag typed by mistake and undone is not offered afterwards)."""
    for tag_id in tag_ids:
        in_use = any(session.exec(select(link.tag_id).where(link.tag_id == tag_id).limit(1)).first() is not None
                     for link, _column in _LINKS.values())
        if not in_use:
            session.exec(delete(Tag).where(Tag.id == tag_id))


def add_tags(session: Session, entity: str, entity_id: int, names: Iterable[str]) -> list[str]:
    """Add tags to a record, keeping the ones it has."""
    return set_tags(session, entity, entity_id, tags_of(session, entity, entity_id) + list(names))


def tags_of(session: Session, entity: str, entity_id: int) -> list[str]:
    link, column = _LINKS[entity]
    rows = session.exec(
        select(Tag.name).join(link, link.tag_id == Tag.id).where(getattr(link, column) == entity_id).order_by(Tag.name)
    )
    return list(rows)
