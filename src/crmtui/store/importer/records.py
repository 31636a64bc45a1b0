"""Planning records: a row's values merged into the record it matched, or a new record.

A matched record keeps what identifies it (a company's name and domain, a contact's name): a
row fills those only when empty, and replaces the other columns it has a value for. A record
that exists is dirty (updated, its old values kept for undo) while its columns differ from
those loaded; its `updated_at` is then the import's time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmtui.store.importer import values as V
from crmtui.store.importer.matching import Matcher
from crmtui.store.importer.plan import COLS, POS, Table

if TYPE_CHECKING:
    from crmtui.store.importer.cells import Cells
    from crmtui.store.importer.handover import DealHandover
    from crmtui.store.importer.plan import Plan
    from crmtui.store.importer.tags import TagLinks

# Columns that identify a record: a matched record gets them filled in when empty, never replaced.
_IDENTITY = {"company": {"name", "domain"}, "contact": {"name"}, "deal": set()}
_CT = POS["contact"]


class RecordRows:
    """What planning the rows of a companies or contacts file needs: the plan, the row's cells,
    the records they merge into, the tag links, and `custom`, which reads a row's custom values
    (`custom.CustomCells.values`; None: the file has no custom columns)."""

    def __init__(self, plan: Plan, cells: Cells, records: Records, tags: TagLinks,
                 custom: Callable[[list[str]], dict[int, str] | None] | None = None) -> None:
        self.plan = plan
        self.cells = cells
        self.records = records
        self.tag_links = tags
        self._custom = custom


def merged_into_earlier(table: Table, rid: int | None, next_before: int) -> bool:
    """Whether a row landed on a record planned from an earlier row of the file (`next_before`:
    the table's next id before the row)."""
    return rid is not None and table.first_new <= rid < next_before


class Records:
    """Plans the records rows name: companies and contacts found (`Matcher`) or new, and any
    record's columns as a row's values change them."""

    def __init__(self, tables: dict[str, Table], matcher: Matcher, now: str, handing: DealHandover) -> None:
        self.tables = tables
        self.matcher = matcher
        self.now = now
        self.handing = handing  # told of records changed after they went to the writer

    def merge(self, entity: str, rid: int, fill: dict[str, Any], only_empty: bool = False) -> None:
        """The values of `fill` (None: no value) into record `rid`; with `only_empty` (a row that
        only names the record, as a deal's row names its company) into empty columns only."""
        t = self.tables[entity]
        row = t.rows[rid]
        pos = POS[entity]
        existing = rid in t.original
        identity = _IDENTITY[entity]
        changes = []
        for column, value in fill.items():
            if value is None:
                continue
            i = pos[column]
            current = row[i]
            if current == value:
                continue
            if current is not None and (only_empty or column in identity):
                continue  # the name a record was first known by stays
            changes.append((i, value))
        if type(row) is tuple:
            if not changes and row is t.original.get(rid):
                return
            row = t.rows[rid] = list(row)
        for i, value in changes:
            row[i] = value
        if changes:
            self.handing.note_change(entity, rid)
        if existing:
            original = t.original[rid]
            # updated_at is the last column of every table: compare the others
            if tuple(row[:-1]) != original[:-1]:
                t.dirty.add(rid)
                row[-1] = self.now
            else:
                t.dirty.discard(rid)
                row[-1] = original[-1]

    def set_custom(self, entity: str, rid: int, values: dict[int, str]) -> None:
        """A row's custom values (field id -> value) for record `rid`: a later row's win."""
        planned = self.tables[entity].custom
        have = planned.get(rid)
        if have is None:
            planned[rid] = values
        else:
            have.update(values)

    def _new(self, entity: str) -> int:
        """A new, empty record of `entity` (its id and times set); returns its id."""
        t = self.tables[entity]
        rid = t.next_id
        t.next_id += 1
        pos = POS[entity]
        row = [None] * len(COLS[entity])
        row[0] = rid
        row[pos["created_at"]] = self.now
        row[pos["updated_at"]] = self.now
        t.rows[rid] = row
        return rid

    def company(self, name: str | None, domain: str | None, values: dict[str, Any] | None = None,
                ext: str | None = None, only_empty: bool = False) -> int | None:
        """The id of the matching company (updated with `values`), created when new (None: no
        match and no name). With `only_empty` (a deal's or contact's row naming its company)
        known columns are kept."""
        cid = self.matcher.company(name, domain, ext)
        fill = {"name": name, "domain": domain, **(values or {})}
        if ext:
            fill["external_id"] = ext
        if cid is None:
            if not name:
                return None
            cid = self._new("company")
            self.merge("company", cid, fill)
        else:
            self.merge("company", cid, fill, only_empty)
        t = self.tables["company"]
        self.matcher.index_company(cid, t.rows[cid])
        if cid < t.first_new:
            t.touched.add(cid)
        return cid

    def contact(self, name: str | None, email: str | None, company_id: int | None,
                values: dict[str, Any] | None = None, ext: str | None = None) -> int | None:
        """The id of the matching contact (updated with `values`), created when new (None: no
        match, and neither a name nor an address to name it by). A known contact keeps its
        company, and its address as stored when the row writes it in another case."""
        cid = self.matcher.contact(name, email, company_id, ext)
        t = self.tables["contact"]
        fill = {"name": name or (email.split("@")[0] if email else None), "email": email, "company_id": company_id,
                **(values or {})}
        if ext:
            fill["external_id"] = ext
        if cid is None:
            if not fill["name"]:
                return None
            cid = self._new("contact")
        else:
            row = t.rows[cid]
            if row[_CT["company_id"]] is not None:
                fill["company_id"] = None  # keep the company a known contact has
            if row[_CT["email"]] is not None and V.email_key(email) == V.email_key(row[_CT["email"]]):
                fill["email"] = None  # same address, maybe another case: keep it as stored
        self.merge("contact", cid, fill)
        self.matcher.index_contact(cid, t.rows[cid])
        if cid < t.first_new:
            t.touched.add(cid)
        return cid
