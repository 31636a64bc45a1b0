"""Planning records on their own (`importer.records`, `importer.tags`): what a row's values change
on the record it matched, what a new record starts with, and which tag links a row adds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store.db import open_database
from crmtui.store.importer.handover import DealHandover
from crmtui.store.importer.mapping import build_mapping
from crmtui.store.importer.matching import Matcher
from crmtui.store.importer.plan import COLS, POS, ImportOptions, Plan, Table
from crmtui.store.importer.reading import CsvText
from crmtui.store.importer.records import Records
from crmtui.store.importer.tags import TagLinks

LOADED = "2026-01-05 10:00:00.000000"
NOW = "2026-11-23 09:30:00.000000"
CO = POS["company"]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    database = open_database(tmp_path / "crm.db")
    connection = database.raw()
    connection.execute("INSERT INTO company (name, domain, phone, created_at, updated_at)"
                       " VALUES ('Acme', 'acme.example', '+1 000', ?, ?)", (LOADED, LOADED))
    connection.execute("INSERT INTO contact (name, email, company_id, created_at, updated_at)"
                       " VALUES ('Ana Berg', 'Ana@acme.example', 1, ?, ?)", (LOADED, LOADED))
    connection.execute("INSERT INTO tag (name) VALUES ('SEO')")
    connection.execute("INSERT INTO company_tag (company_id, tag_id) VALUES (1, 1)")
    yield connection
    connection.close()
    database.close()


def plan_for(conn: sqlite3.Connection, record_type: str = "companies") -> tuple[Plan, Records]:
    header = ("Name",)
    csv_text = CsvText(name="f.csv", text="", encoding="utf-8", header=header)
    tables = {e: Table(e) for e in COLS}
    plan = Plan(csv_text, build_mapping(header, record_type), ImportOptions(record_type), tables, now=NOW)
    matcher = Matcher(conn, tables, "company")
    return plan, Records(tables, matcher, NOW, DealHandover(plan, {}, {}))


def test_a_row_fills_what_identifies_a_company_only_when_empty_and_replaces_the_rest(
        conn: sqlite3.Connection) -> None:
    plan, records = plan_for(conn)
    cid = records.company("ACME, Inc.", None, {"phone": "+1 555", "website": "https://acme.example"})
    assert cid == 1
    row = plan.tables["company"].rows[1]
    assert (row[CO["name"]], row[CO["phone"]], row[CO["updated_at"]]) == ("Acme", "+1 555", NOW)
    assert plan.updates("company") == [
        (1, {"website": None, "phone": "+1 000"}, {"website": "https://acme.example", "phone": "+1 555"})]
    assert plan.tables["company"].touched == {1} and plan.tables["company"].dirty == {1}


def test_a_row_that_only_names_its_company_fills_empty_columns_only(conn: sqlite3.Connection) -> None:
    plan, records = plan_for(conn)
    loaded = plan.tables["company"].rows[1]
    assert records.company("Acme", "acme.example", {"website": "https://acme.example"}, only_empty=True) == 1
    assert plan.tables["company"].rows[1][CO["website"]] == "https://acme.example"
    records.company("Acme", None, {"website": "https://other.example"}, only_empty=True)
    assert plan.tables["company"].rows[1][CO["website"]] == "https://acme.example"
    assert loaded[CO["website"]] is None  # the row as loaded stays as it was, for the undo


def test_a_change_a_later_row_takes_back_leaves_the_record_unchanged(conn: sqlite3.Connection) -> None:
    plan, records = plan_for(conn)
    table = plan.tables["company"]
    records.company("Acme", None, {"phone": "+1 555"})
    assert table.dirty == {1} and table.rows[1][CO["updated_at"]] == NOW
    records.company("Acme", None, {"phone": None})  # (no value: nothing changes)
    assert table.dirty == {1}
    records.company("Acme", None, {"phone": "+1 000"})  # as it was
    assert table.dirty == set() and table.rows[1][CO["updated_at"]] == LOADED
    assert table.touched == {1} and plan.updates("company") == []


def test_new_companies_and_contacts_get_ids_after_the_tables_and_the_imports_time(conn: sqlite3.Connection) -> None:
    plan, records = plan_for(conn, "contacts")
    assert records.company(None, "nowhere.example") is None  # nothing to name it by
    globex = records.company("Globex", "globex.example")
    assert globex == 2 and plan.tables["company"].new_ids() == range(2, 3)
    assert plan.tables["company"].rows[2][CO["created_at"]] == NOW
    chloe = records.contact(None, "chloe@globex.example", globex)
    assert plan.tables["contact"].rows[chloe][:3] == [chloe, "chloe", "chloe@globex.example"]
    assert records.contact(None, None, globex) is None


def test_a_known_contact_keeps_its_company_and_its_address_as_stored(conn: sqlite3.Connection) -> None:
    plan, records = plan_for(conn, "contacts")
    globex = records.company("Globex", "globex.example")
    assert records.contact("Ana Berg", "ana@ACME.example", globex, {"title": "CEO"}) == 1
    assert plan.updates("contact") == [(1, {"title": None}, {"title": "CEO"})]


def test_tags_link_new_records_and_add_only_missing_links_to_known_ones(conn: sqlite3.Connection) -> None:
    plan, records = plan_for(conn)
    tags = TagLinks(conn, plan, "company", load_links=True)
    tags.link("company", 1, ("seo",))  # Acme has it already, in another case
    assert plan.linked_existing == {} and plan.new_tags == {}
    tags.link("company", 1, ("seo", "Print"))
    assert plan.new_tags == {"print": (2, "Print")}
    assert plan.linked_existing == {"company": [(1, 2)]} and plan.tables["company"].tagged == {1}
    globex = records.company("Globex", None)
    tags.link("company", globex, ("SEO", "print"))
    tags.link("company", None, ("seo",))  # (no record)
    assert tags.new == {"company": [(globex, 1), (globex, 2)]}
