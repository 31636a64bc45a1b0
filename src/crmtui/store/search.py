"""The finder: deals, companies and contacts by name, email or domain, as you type.

Backed by the FTS5 table `search_index` (migrations 4 and 10), kept in step with the records by
triggers.
Its rowid encodes the record: id * 4 + 1 for a deal, + 2 for a company, + 3 for a contact.
Each word typed is a prefix ("acm web" finds "Acme – Website relaunch"); punctuation splits words
as the index does, so `jo@acme.com` and `acme.com` work too.

Also the paged lists of companies and contacts (search and sort, never every row at once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crmtui.store.listing import COMPANY_DEAL_TOTALS
from crmtui.store.sql import Session

KINDS = {1: "deal", 2: "company", 3: "contact"}
KIND_CODES = {v: k for k, v in KINDS.items()}
_WORD = re.compile(r"\w+", re.UNICODE)
# Above this many matches, ranking every match costs more than a keystroke may; take the first ones.
_RANK_LIMIT = 2000


@dataclass(frozen=True)
class Found:
    """One finder result."""

    kind: str  # deal / company / contact
    id: int
    label: str  # title or name
    detail: str  # what else helps recognise it: customer, domain, email


def fts_query(query: str) -> str | None:
    """The FTS5 MATCH expression for what a person typed: every word as a quoted prefix."""
    words = _WORD.findall(query.lower())
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words[:8])


def find_records(session: Session, query: str, *, limit: int = 20, kinds: tuple[str, ...] | None = None) -> list[Found]:
    """Records matching every word of `query` (by prefix), best first: names before emails,
    companies and contacts before deals at equal rank."""
    match = fts_query(query)
    if match is None:
        return []
    kind_filter = ""
    params: dict[str, Any] = {"q": match, "limit": limit * 3}
    if kinds:
        codes = [KIND_CODES[k] for k in kinds]
        kind_filter = " AND rowid % 4 IN (" + ", ".join(str(c) for c in codes) + ")"
    # Count cheaply (capped): rank only a bounded set so a one-letter query stays fast.
    many = session.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM search_index WHERE search_index MATCH :q{kind_filter} LIMIT :cap)",
        {**params, "cap": _RANK_LIMIT + 1},
    ).scalar()
    if many > _RANK_LIMIT:
        # Names starting with the first word first: a prefix on the name column alone.
        first = _WORD.findall(query.lower())[0]
        name_match = f'{{name}} : ^"{first}"*'
        rest = " ".join(f'"{w}"*' for w in _WORD.findall(query.lower())[1:8])
        sql = (
            "SELECT rowid FROM search_index WHERE search_index MATCH :q2" + kind_filter + " LIMIT :limit"
        )
        rowids = [r[0] for r in session.execute(sql, {**params, "q2": f"{name_match} {rest}".strip()})]
        if len(rowids) < limit:
            more = session.execute(
                "SELECT rowid FROM search_index WHERE search_index MATCH :q" + kind_filter + " LIMIT :limit2",
                {**params, "limit2": limit * 3},
            )
            rowids += [r[0] for r in more if r[0] not in rowids]
    else:
        sql = (
            "SELECT rowid FROM search_index WHERE search_index MATCH :q" + kind_filter
            + " ORDER BY bm25(search_index, 10.0, 1.0), rowid % 4 DESC, rowid LIMIT :limit"
        )
        rowids = [r[0] for r in session.execute(sql, params)]
    return _rerank(_describe(session, rowids), query)[:limit]


# At equal relevance, a customer (company, then person) before a deal: what people look for most.
_KIND_ORDER = {"company": 0, "contact": 1, "deal": 2}


def _rerank(found: list[Found], query: str) -> list[Found]:
    """Names that start with what was typed first, then by kind; otherwise the index's order."""
    typed = " ".join(query.lower().split())
    return [
        f for _, f in sorted(
            enumerate(found),
            key=lambda item: (not item[1].label.lower().startswith(typed), _KIND_ORDER[item[1].kind], item[0]),
        )
    ]


def _describe(session: Session, rowids: list[int]) -> list[Found]:
    """Look up what to show for each hit, keeping the order."""
    ids: dict[str, list[int]] = {"deal": [], "company": [], "contact": []}
    for rowid in rowids:
        ids[KINDS[rowid % 4]].append(rowid // 4)
    found: dict[tuple[str, int], Found] = {}
    if ids["deal"]:
        rows = session.execute(
            "SELECT d.id, d.title, coalesce(c.name, p.name, '') AS customer, s.name AS stage FROM deal d"
                " JOIN stage s ON s.id = d.stage_id LEFT JOIN company c ON c.id = d.company_id"
                " LEFT JOIN contact p ON p.id = d.contact_id"
                f" WHERE d.id IN ({','.join(str(i) for i in ids['deal'])})"
        )
        for r in rows:
            found[("deal", r[0])] = Found("deal", r[0], r[1], " · ".join(x for x in (r[2], r[3]) if x))
    if ids["company"]:
        rows = session.execute(
            f"SELECT id, name, coalesce(domain, email, '') FROM company WHERE id IN ({','.join(str(i) for i in ids['company'])})"
        )
        for r in rows:
            found[("company", r[0])] = Found("company", r[0], r[1], r[2])
    if ids["contact"]:
        rows = session.execute(
            "SELECT p.id, p.name, trim(coalesce(p.email, '') || ' ' || coalesce('· ' || c.name, ''))"
                " FROM contact p LEFT JOIN company c ON c.id = p.company_id"
                f" WHERE p.id IN ({','.join(str(i) for i in ids['contact'])})"
        )
        for r in rows:
            found[("contact", r[0])] = Found("contact", r[0], r[1], r[2])
    out = []
    for rowid in rowids:
        key = (KINDS[rowid % 4], rowid // 4)
        if key in found:
            out.append(found[key])
    return out


# --- paged lists -----------------------------------------------------------------------------

COMPANY_SORTS = {
    "name": "c.name COLLATE NOCASE, c.id",
    "newest": "c.created_at DESC, c.id DESC",
    "domain": "c.domain COLLATE NOCASE, c.id",
}
CONTACT_SORTS = {
    "name": "p.name COLLATE NOCASE, p.id",
    "newest": "p.created_at DESC, p.id DESC",
    "email": "p.email COLLATE NOCASE, p.id",
}


def _search_ids(session: Session, query: str, kind: str, cap: int = 100_000) -> str | None:
    """An SQL fragment `IN (SELECT ...)` restricting a list to records matching `query`."""
    match = fts_query(query)
    if match is None:
        return None
    return f"SELECT rowid / 4 FROM search_index WHERE search_index MATCH :q AND rowid % 4 = {KIND_CODES[kind]}"


def company_page(
    session: Session, *, search: str = "", sort: str = "name", limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """One page of companies (and how many match in all), with open deals and lifetime value."""
    if sort not in COMPANY_SORTS:
        sort = "name"
    where = "c.deleted_at IS NULL"
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    sub = _search_ids(session, search, "company")
    if sub:
        where += f" AND c.id IN ({sub})"
        params["q"] = fts_query(search)
    total = session.execute(f"SELECT count(*) FROM company c WHERE {where}", params).scalar()
    rows = session.execute(
        f"""SELECT c.id, c.name, c.domain, c.email, c.phone, c.size, c.created_at, {COMPANY_DEAL_TOTALS}
            FROM company c WHERE {where} ORDER BY {COMPANY_SORTS[sort]} LIMIT :limit OFFSET :offset""",
        params,
    ).fetchall()
    return total, [dict(r) for r in rows]


def contact_page(
    session: Session, *, search: str = "", sort: str = "name", limit: int = 100, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """One page of contacts (and how many match in all), with their company's name."""
    if sort not in CONTACT_SORTS:
        sort = "name"
    where = "p.deleted_at IS NULL"
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    sub = _search_ids(session, search, "contact")
    if sub:
        where += f" AND p.id IN ({sub})"
        params["q"] = fts_query(search)
    total = session.execute(f"SELECT count(*) FROM contact p WHERE {where}", params).scalar()
    rows = session.execute(
        f"""SELECT p.id, p.name, p.email, p.phone, p.title, p.company_id, c.name AS company, p.created_at
            FROM contact p LEFT JOIN company c ON c.id = p.company_id
            WHERE {where} ORDER BY {CONTACT_SORTS[sort]} LIMIT :limit OFFSET :offset""",
        params,
    ).fetchall()
    return total, [dict(r) for r in rows]
