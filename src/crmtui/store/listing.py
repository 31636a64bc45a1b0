"""Lists of companies and contacts with what the CLI and screens show beside them."""

from __future__ import annotations

from typing import Any

from crmtui.store.companies import resolve_company
from crmtui.store.custom_fields import with_fields
from crmtui.store.sql import Session


# A company's open deal count and won total (lifetime value), for `FROM company c` queries: the
# CLI's list and the app's companies page show the same numbers.
COMPANY_DEAL_TOTALS = """(SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id
            WHERE d.company_id = c.id AND d.deleted_at IS NULL AND s.kind = 'open') AS open_deals,
          (SELECT coalesce(sum(d.amount_cents), 0) FROM deal d JOIN stage s ON s.id = d.stage_id
            WHERE d.company_id = c.id AND d.deleted_at IS NULL AND s.kind = 'won') AS won_cents"""


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def company_rows(
    session: Session,
    *,
    company_id: int | None = None,
    tag: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Companies by name, with open deal count, won total (lifetime value) and tags; with a
    `fields` object (custom fields by name) when companies have custom fields."""
    where = ["c.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    if company_id is not None:
        where.append("c.id = :id")
        params["id"] = company_id
    if tag:
        where.append(
            "EXISTS (SELECT 1 FROM company_tag ct JOIN tag t ON t.id = ct.tag_id"
            " WHERE ct.company_id = c.id AND t.name = :tag COLLATE NOCASE)"
        )
        params["tag"] = tag.lstrip("#").strip()
    if search:
        where.append("(c.name LIKE :q ESCAPE '\\' OR c.domain LIKE :q ESCAPE '\\')")
        params["q"] = _like(search.strip())
    sql = f"""
        SELECT c.id, c.name, c.domain, c.website, c.email, c.phone, c.source, c.size, c.created_at,
          {COMPANY_DEAL_TOTALS},
          (SELECT group_concat(name, ';') FROM (SELECT t.name FROM company_tag ct JOIN tag t ON t.id = ct.tag_id
            WHERE ct.company_id = c.id ORDER BY t.name)) AS tags
        FROM company c WHERE {" AND ".join(where)}
        ORDER BY c.name COLLATE NOCASE, c.id LIMIT :limit OFFSET :offset"""
    params["limit"] = -1 if limit is None else limit
    params["offset"] = offset
    rows = session.execute(sql, params).fetchall()
    return with_fields(session, "company", [_with_tags(r) for r in rows])


def contact_rows(
    session: Session,
    *,
    contact_id: int | None = None,
    tag: str | None = None,
    company: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Contacts by name, with their company's name and their tags; with a `fields` object
    (custom fields by name, lookups included) when contacts have custom fields."""
    where = ["p.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    if contact_id is not None:
        where.append("p.id = :id")
        params["id"] = contact_id
    if tag:
        where.append(
            "EXISTS (SELECT 1 FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id"
            " WHERE ct.contact_id = p.id AND t.name = :tag COLLATE NOCASE)"
        )
        params["tag"] = tag.lstrip("#").strip()
    if company:
        from crmtui.store.companies import find_company, get_company
        from crmtui.store.errors import NotFound

        text_ref = company.strip()
        found = get_company(session, int(text_ref[1:])) if text_ref.startswith("#") and text_ref[1:].isdigit() else find_company(session, text_ref)
        if found is None:
            raise NotFound(f"no company called {text_ref!r}")
        where.append("p.company_id = :company_id")
        params["company_id"] = found.id
    if search:
        where.append("(p.name LIKE :q ESCAPE '\\' OR p.email LIKE :q ESCAPE '\\')")
        params["q"] = _like(search.strip())
    sql = f"""
        SELECT p.id, p.name, p.email, p.phone, p.title, p.company_id, c.name AS company, p.created_at,
          (SELECT group_concat(name, ';') FROM (SELECT t.name FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id
            WHERE ct.contact_id = p.id ORDER BY t.name)) AS tags
        FROM contact p LEFT JOIN company c ON c.id = p.company_id
        WHERE {" AND ".join(where)}
        ORDER BY p.name COLLATE NOCASE, p.id LIMIT :limit OFFSET :offset"""
    params["limit"] = -1 if limit is None else limit
    params["offset"] = offset
    rows = session.execute(sql, params).fetchall()
    return with_fields(session, "contact", [_with_tags(r) for r in rows])


def _with_tags(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["tags"] = out["tags"].split(";") if out["tags"] else []
    if "won_cents" in out:
        out["won"] = out["won_cents"] / 100
    if out.get("created_at"):
        out["created_at"] = str(out["created_at"]).replace(" ", "T")[:19] + "Z"
    return out


__all__ = ["company_rows", "contact_rows", "resolve_company"]
