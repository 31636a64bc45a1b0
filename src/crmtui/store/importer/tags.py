"""The tags rows name, and their links to records.

A tag is found by name in any case, or planned new. A new record's links go into `new` as they
come (a pair may repeat: they are inserted with INSERT OR IGNORE); a record that exists gets
only the links it lacks, listed apart (`plan.linked_existing`) so that an undo can take them
back.
"""

from __future__ import annotations

import sqlite3

from crmtui.store.importer.plan import Plan, Table

LINK_TABLES = {"deal": ("deal_tag", "deal_id"), "company": ("company_tag", "company_id"),
                "contact": ("contact_tag", "contact_id")}


class TagLinks:
    """The database's tags (read once), those the plan adds, and the links rows make."""

    def __init__(self, conn: sqlite3.Connection, plan: Plan, entity: str, load_links: bool) -> None:
        self.plan = plan
        self.tables = plan.tables
        self.tag_ids = {name.casefold(): tid for tid, name in conn.execute("SELECT id, name FROM tag")}
        self.next_tag_id = (conn.execute("SELECT coalesce(max(id), 0) FROM tag").fetchone()[0]) + 1
        # entity -> record id * 2**32 + tag id: a set of ints is half the size of a set of pairs
        self.existing_links: dict[str, set[int]] = {}
        if load_links:
            link, column = LINK_TABLES[entity]
            self.existing_links[entity] = {r for (r,) in conn.execute(f"SELECT ({column} << 32) + tag_id FROM {link}")}
        self.cache: dict[tuple[str, ...], list[int]] = {}  # tags as a row writes them -> their ids
        self.new: dict[str, list[tuple[int, int]]] = {}  # entity -> (new record, tag), may repeat a pair

    def link(self, entity: str, rid: int | None, tags: tuple[str, ...]) -> None:
        """Link record `rid` of `entity` (None: no record) to `tags`."""
        if rid is None or not tags:
            return
        t: Table = self.tables[entity]
        existing = rid < t.first_new
        ids = self.cache.get(tags)
        if ids is not None:
            if not existing:
                self.new.setdefault(entity, []).extend([(rid, tid) for tid in ids])
                return
            links = self.existing_links.get(entity, ())
            base = rid << 32
            for tid in ids:
                if base + tid not in links:
                    break
            else:
                return  # a known record that has these tags already (re-importing a file)
        ids = []
        for name in tags:
            key = name.casefold()
            tid = self.tag_ids.get(key)
            ids.append(tid)
            if tid is None:
                tid = self.next_tag_id
                self.next_tag_id += 1
                self.tag_ids[key] = tid
                self.plan.new_tags[key] = (tid, name)
                ids[-1] = tid
            pair = (rid, tid)
            if existing:
                links = self.existing_links.setdefault(entity, set())
                packed = (rid << 32) + tid
                if packed not in links:
                    links.add(packed)
                    self.plan.linked_existing.setdefault(entity, []).append(pair)
                    t.tagged.add(rid)
            else:
                self.new.setdefault(entity, []).append(pair)
        self.cache[tags] = ids
