"""Who is who: the records an import's rows mean.

Loads the companies and contacts (and, for a deals file, the deals) the database holds into the
plan's tables and indexes them by the keys that identify them; records planned from earlier
rows of the file are indexed the same way, so a row that repeats one finds it:

- companies by external id, normalised domain (from a website or domain column, or a company
  email) or normalised name (`ACME, Inc.` = `Acme Inc`; `Acme` = the one `Acme Inc`);
- contacts by external id, email (trimmed, case-folded), else name and company;
- deals by external id ("Record ID", "Id", ...), else title and customer: the first such deal
  no other row of the file has matched yet.

Finding is all this does: `records` and the row planners decide what a match changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from crmtui.store.importer import values as V
from crmtui.store.importer.plan import COLS, POS, Table

# Columns whose values repeat from row to row: shared as one string (or int) each when loaded.
_REPEATING = {"stage_entered_at", "currency", "expected_close", "closed_on", "source", "lost_reason", "created_at",
              "updated_at", "category", "size", "title",
              # numbers above 256 are a new object per cell too (re-importing 100,000 deals: 12 MB)
              "company_id", "contact_id", "pipeline_id", "stage_id", "amount_cents", "cost_cents"}
_CO, _CT, _DL = POS["company"], POS["contact"], POS["deal"]
_EXT = _DL["external_id"]

DealKey = tuple[str, int | None, int | None]  # title key, company, contact (when no company)


def load_table(conn: sqlite3.Connection, table: Table, index: Callable[[int, Any], None] | None) -> None:
    """Read `table`'s live rows (as tuples) into it, each given to `index`, and set its next id."""
    entity = table.entity
    cols = COLS[entity]
    if index is not None:
        # SQLite hands out a new string for every cell; dates, sources and currencies repeat, so
        # share them (100,000 deals: about 40 MB less)
        shared = [i for i, c in enumerate(cols) if c in _REPEATING and (c, entity) != ("title", "deal")]
        memo: dict[Any, Any] = {}
        for row in conn.execute(f"SELECT {', '.join(cols)} FROM {entity} WHERE deleted_at IS NULL ORDER BY id"):
            if shared:
                values = list(row)
                for i in shared:
                    v = values[i]
                    values[i] = memo.setdefault(v, v)
                row = tuple(values)
            # rows[id] is the loaded tuple until something changes it (then a list): re-importing
            # 100,000 unchanged deals copies none of them
            table.original[row[0]] = row
            table.rows[row[0]] = row
            index(row[0], row)
    table.next_id = table.first_new = conn.execute(f"SELECT coalesce(max(id), 0) FROM {entity}").fetchone()[0] + 1


def deal_key(row: list[Any] | tuple[Any, ...]) -> DealKey:
    company = row[_DL["company_id"]]
    return V.title_key(row[_DL["title"]]), company, None if company else row[_DL["contact_id"]]


class Matcher:
    """The identity indexes of one import, and the record each set of keys finds. (For a file of
    companies or contacts no deal is loaded: only the id the first new deal would get.)"""

    def __init__(self, conn: sqlite3.Connection, tables: dict[str, Table], entity: str) -> None:
        self.tables = tables
        self.co_by_ext: dict[str, int] = {}
        self.co_by_domain: dict[str, int] = {}
        self.co_by_name: dict[str, int] = {}
        self.co_by_base: dict[str, list[int]] = {}
        self.co_by_name_domain: dict[tuple[str, str, str], int] = {}  # same name, other domain or id
        load_table(conn, tables["company"], self.index_company)
        self.ct_by_ext: dict[str, int] = {}
        self.ct_by_email: dict[str, int] = {}
        self.ct_by_name: dict[tuple[str, int | None], int] = {}
        load_table(conn, tables["contact"], self.index_contact)
        self.dl_by_ext: dict[str, int] = {}
        # title + customer -> deals (several: one customer may buy "Website relaunch" twice)
        # (an int, or a list when there are several: most keys have one deal, and 100,000 one-item
        # lists would cost 7 MB)
        self.dl_by_key: dict[DealKey, int | list[int]] = {}
        # dl_by_key is built when a row first needs it (`same_deal`): a file whose rows all find
        # their deals by external id never does (re-importing 100,000 deals, six turns each:
        # 2.68-2.73 s -> 2.44-2.52 s). Until then the keys given to `add_key` wait here, in order.
        self.key_log: list[tuple[DealKey, int]] | None = []
        self.claimed: dict[int, str | None] = {}  # deal -> the row id of the file row that matched it
        load_table(conn, tables["deal"], self.index_loaded_deal if entity == "deal" else None)

    # --- companies ------------------------------------------------------------------------------

    def company(self, name: str | None, domain: str | None, ext: str | None) -> int | None:
        """The company with external id `ext`, else domain `domain`, else name `name` (unless that
        company has another domain or external id, when only one with both the same will do)."""
        cid = self.co_by_ext.get(ext) if ext else None
        if cid is None and domain:
            cid = self.co_by_domain.get(domain)
        key = V.name_key(name)
        if cid is None and key:
            cid = self.co_by_name.get(key)
            if cid is None:
                cid = self._by_base(key, V.base_key(name))
            if cid is not None:
                found = self.tables["company"].rows[cid]
                if (domain and found[_CO["domain"]] and found[_CO["domain"]] != domain) or (
                        ext and found[_CO["external_id"]] and found[_CO["external_id"]] != ext):
                    cid = self.co_by_name_domain.get((key, domain or "", ext or ""))
        return cid

    def _by_base(self, key: str, base: str) -> int | None:
        """`Acme` finds the one `Acme Inc`, `Acme Inc` the one `Acme`; nothing when that is not
        one company, or when both names carry a legal form (`Acme Ltd` is not `Acme GmbH`)."""
        pos = _CO["name"]
        rows = self.tables["company"].rows
        found = [c for c in self.co_by_base.get(base, ()) if key == base or V.name_key(rows[c][pos]) == base]
        return found[0] if len(found) == 1 else None

    def index_company(self, cid: int, row: list[Any] | tuple[Any, ...]) -> None:
        if row[_CO["external_id"]]:
            self.co_by_ext.setdefault(row[_CO["external_id"]], cid)
        if row[_CO["domain"]]:
            self.co_by_domain.setdefault(row[_CO["domain"]].casefold(), cid)
        self.co_by_name.setdefault(V.name_key(row[_CO["name"]]), cid)
        same_base = self.co_by_base.setdefault(V.base_key(row[_CO["name"]]), [])
        if cid not in same_base:
            same_base.append(cid)
        self.co_by_name_domain.setdefault(
            (V.name_key(row[_CO["name"]]), row[_CO["domain"]] or "", row[_CO["external_id"]] or ""), cid)

    # --- contacts -------------------------------------------------------------------------------

    def contact(self, name: str | None, email: str | None, company_id: int | None, ext: str | None) -> int | None:
        """The contact with external id `ext`, else address `email`, else name `name` at
        `company_id` (or known without a company and with no other address)."""
        cid = self.ct_by_ext.get(ext) if ext else None
        ekey = V.email_key(email)
        if cid is None and ekey:
            cid = self.ct_by_email.get(ekey)
        pkey = V.person_key(name)
        if cid is None and pkey:
            cid = self.ct_by_name.get((pkey, company_id))
            if cid is None and company_id is not None:
                found = self.ct_by_name.get((pkey, None))
                # a person known without a company, now seen with one: the same person
                if found is not None and not (self.tables["contact"].rows[found][_CT["email"]] and ekey):
                    cid = found
        return cid

    def index_contact(self, cid: int, row: list[Any] | tuple[Any, ...]) -> None:
        if row[_CT["external_id"]]:
            self.ct_by_ext.setdefault(row[_CT["external_id"]], cid)
        if row[_CT["email"]]:
            self.ct_by_email.setdefault(V.email_key(row[_CT["email"]]), cid)
        self.ct_by_name.setdefault((V.person_key(row[_CT["name"]]), row[_CT["company_id"]]), cid)

    # --- deals ----------------------------------------------------------------------------------

    def same_deal(self, key: DealKey, row_id: str | None) -> int | None:
        """The deal a row without an external id means: the first with its title and customer not
        yet matched by another row of this file. When all are taken, rows that carry different
        ids (crmtui's own export has an `id` column) are different deals; otherwise the row
        repeats one seen earlier and merges into it."""
        if self.key_log is not None:
            self._index_keys()
        candidates = self.dl_by_key.get(key)
        if candidates is None:
            return None
        if type(candidates) is int:
            candidates = [candidates]
        first_new = self.tables["deal"].first_new
        for did in candidates:
            if did < first_new and did not in self.claimed:
                return did
        if row_id is not None and all(self._claimant(d) != row_id for d in candidates):
            return None
        return candidates[0]

    def _claimant(self, did: int) -> str | None:
        """The id of the file row that a deal was matched or created by."""
        if did in self.claimed:
            return self.claimed[did]
        return self.tables["deal"].rows[did][_EXT]

    def index_deal(self, did: int, row: list[Any]) -> None:
        self.index_loaded_deal(did, row)
        self.add_key(deal_key(row), did)

    def index_loaded_deal(self, did: int, row: list[Any] | tuple[Any, ...]) -> None:
        """A deal as loaded: its key goes into dl_by_key when that is built (`_index_keys`)."""
        ext = row[_EXT]
        if ext:
            self.dl_by_ext.setdefault(ext, did)

    def _index_keys(self) -> None:
        """Build dl_by_key: the loaded deals' keys in id order, then those given since, as if
        each had been added when it came."""
        log, self.key_log = self.key_log or [], None
        for did, row in self.tables["deal"].original.items():  # (loaded in id order)
            self.add_key(deal_key(row), did)
        for key, did in log:
            self.add_key(key, did)

    def add_key(self, key: DealKey, did: int) -> None:
        if self.key_log is not None:
            self.key_log.append((key, did))
            return
        same = self.dl_by_key.get(key)
        if same is None:
            self.dl_by_key[key] = did
        elif type(same) is int:
            if same != did:
                self.dl_by_key[key] = [same, did]
        elif did not in same:
            same.append(did)
