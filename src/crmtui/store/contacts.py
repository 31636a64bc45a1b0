"""Contacts (people)."""

from __future__ import annotations

from crmtui.store import clock
from crmtui.store.companies import resolve_company
from crmtui.store.errors import NotFound
from crmtui.store.models import Contact
from crmtui.store.sql import Session
from crmtui.store.tags import set_tags
from crmtui.store.validate import clean_email, clean_text, require_text


def create_contact(
    session: Session,
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    title: str | None = None,
    company: str | int | None = None,
    company_id: int | None = None,
    notes: str | None = None,
    tags: list[str] | None = None,
    external_id: str | None = None,
) -> Contact:
    """Add a contact; `company` is a name (created when new) or `#id`."""
    name = require_text(name, "name")
    email = clean_email(email)
    if company_id is None and company:
        company_id = resolve_company(session, company).id
    now = clock.utcnow()
    contact = Contact(
        name=name,
        email=email,
        phone=clean_text(phone),
        title=clean_text(title),
        company_id=company_id,
        notes=clean_text(notes),
        external_id=clean_text(external_id),
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    if tags:
        set_tags(session, "contact", contact.id, tags)
    return contact


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.deleted_at is not None:
        raise NotFound(f"no contact with id {contact_id}")
    return contact


def find_contact(session: Session, name_or_email: str) -> Contact | None:
    """A live contact by email (case-insensitive) or exact name."""
    text = " ".join(name_or_email.split())
    column = "email" if "@" in text else "name"
    found = session.find(Contact, f"lower({column}) = ? AND deleted_at IS NULL", [text.lower()])
    return found[0] if found else None


def resolve_contact(session: Session, ref: str | int | None, *, company_id: int | None = None) -> Contact | None:
    """A contact from a CLI reference: `#id`, an email or a name (created when new)."""
    if ref is None or str(ref).strip() == "":
        return None
    text = str(ref).strip()
    if text.startswith("#") and text[1:].isdigit():
        return get_contact(session, int(text[1:]))
    found = find_contact(session, text)
    if found is not None:
        return found
    if "@" in text:
        return create_contact(session, text.split("@")[0], email=text, company_id=company_id)
    return create_contact(session, text, company_id=company_id)
