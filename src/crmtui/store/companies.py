"""Companies (customers)."""

from __future__ import annotations

from crmtui.store import clock
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.models import Company
from crmtui.store.sql import Session
from crmtui.store.tags import set_tags
from crmtui.store.validate import clean_email, clean_text, clean_url, normalise_domain, require_text


def create_company(
    session: Session,
    name: str,
    *,
    domain: str | None = None,
    website: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    source: str | None = None,
    category: str | None = None,
    size: str | None = None,
    notes: str | None = None,
    tags: list[str] | None = None,
    external_id: str | None = None,
) -> Company:
    """Add a company. The domain is normalised (and taken from the website when not given)."""
    name = require_text(name, "name")
    website = clean_url(website, "website")
    email = clean_email(email)
    dom = normalise_domain(domain) if domain else normalise_domain(website)
    if domain and dom is None:
        raise ValidationError(f"domain: {domain!r} is not a domain name", "domain")
    now = clock.utcnow()
    company = Company(
        name=name,
        website=website,
        domain=dom,
        email=email,
        phone=clean_text(phone),
        address=clean_text(address),
        source=clean_text(source),
        category=clean_text(category),
        size=clean_text(size),
        notes=clean_text(notes),
        external_id=clean_text(external_id),
        created_at=now,
        updated_at=now,
    )
    session.add(company)
    if tags:
        set_tags(session, "company", company.id, tags)
    return company


def get_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None or company.deleted_at is not None:
        raise NotFound(f"no company with id {company_id}")
    return company


def find_company(session: Session, name: str) -> Company | None:
    """A live company by exact name (case-insensitive), or by domain."""
    text = " ".join(name.split())
    found = session.find(Company, "lower(name) = ? AND deleted_at IS NULL", [text.lower()])
    if not found and "." in text and (dom := normalise_domain(text)):
        found = session.find(Company, "domain = ? AND deleted_at IS NULL", [dom])
    return found[0] if found else None


def get_or_create_company(session: Session, name: str) -> Company:
    """The company called `name`, created if there is none."""
    return find_company(session, name) or create_company(session, name)


def resolve_company(session: Session, ref: str | int | None) -> Company | None:
    """A company from a CLI reference: `#12`/`12` is an id, anything else a name (created if new)."""
    if ref is None or str(ref).strip() == "":
        return None
    text = str(ref).strip()
    if text.lstrip("#").isdigit() and (text.startswith("#") or find_company(session, text) is None):
        return get_company(session, int(text.lstrip("#")))
    return get_or_create_company(session, text)
