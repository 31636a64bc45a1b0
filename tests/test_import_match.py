"""The import's identity matcher on its own (`importer.matching`): which record a row's keys find,
among the records the database holds and those planned from earlier rows of the same file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store.db import open_database
from crmtui.store.importer.matching import Matcher, deal_key
from crmtui.store.importer.plan import COLS, Table

NOW = "2026-11-23 09:30:00.000000"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    database = open_database(tmp_path / "crm.db")
    connection = database.raw()
    yield connection
    connection.close()
    database.close()


def add(conn: sqlite3.Connection, table: str, **values: object) -> int:
    values = {"created_at": NOW, "updated_at": NOW, **values}
    if table == "deal":
        values = {"pipeline_id": 1, "stage_id": 1, "stage_entered_at": NOW, **values}
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    return conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values())).lastrowid


def matcher(conn: sqlite3.Connection, entity: str = "deal") -> Matcher:
    return Matcher(conn, {e: Table(e) for e in COLS}, entity)


def test_companies_are_found_by_external_id_then_domain_then_name(conn: sqlite3.Connection) -> None:
    acme = add(conn, "company", name="ACME, Inc.", domain="acme.example")
    globex = add(conn, "company", name="Globex", external_id="HS-7")
    m = matcher(conn)
    assert m.company("Acme Inc", None, None) == acme  # case and punctuation aside
    assert m.company("Someone else", "acme.example", None) == acme
    assert m.company("Acme Inc", None, "HS-7") == globex  # the external id comes first
    assert m.company("Initech", None, None) is None
    assert m.company(None, None, None) is None


def test_a_name_without_its_legal_form_finds_the_one_company_that_has_it(conn: sqlite3.Connection) -> None:
    acme = add(conn, "company", name="Acme Inc")
    add(conn, "company", name="Umbrella Ltd")
    add(conn, "company", name="Umbrella GmbH")
    m = matcher(conn)
    assert m.company("Acme", None, None) == acme
    assert m.company("Umbrella", None, None) is None  # two of them: neither
    assert m.company("Acme GmbH", None, None) is None  # both names carry a legal form, another one


def test_the_same_name_with_another_domain_is_another_company(conn: sqlite3.Connection) -> None:
    add(conn, "company", name="Nova", domain="nova.example")
    other = add(conn, "company", name="Nova", domain="nova-labs.example")
    m = matcher(conn)
    assert m.company("Nova", "nova.example", None) == 1
    assert m.company("Nova", "nova-labs.example", None) == other
    assert m.company("Nova", "nova.test", None) is None


def test_contacts_are_found_by_email_in_any_case_then_by_name_at_their_company(conn: sqlite3.Connection) -> None:
    acme = add(conn, "company", name="Acme")
    ana = add(conn, "contact", name="Ana Berg", email="Ana@Acme.example", company_id=acme)
    ben = add(conn, "contact", name="Ben Costa")  # known without a company
    m = matcher(conn)
    assert m.contact(None, " ana@acme.EXAMPLE", None, None) == ana
    assert m.contact("ana  berg", None, acme, None) == ana
    assert m.contact("Ana Berg", None, None, None) is None  # not at that company
    assert m.contact("Ben Costa", None, acme, None) == ben  # seen with a company now: the same person
    # ... unless both carry addresses, which would be two people
    chloe = add(conn, "contact", name="Chloe Dubois", email="chloe@old.example")
    m = matcher(conn)
    assert m.contact("Chloe Dubois", "chloe@new.example", acme, None) is None
    assert m.contact("Chloe Dubois", None, acme, None) == chloe


def test_records_in_the_trash_are_not_loaded(conn: sqlite3.Connection) -> None:
    add(conn, "company", name="Gone", domain="gone.example", deleted_at=NOW)
    add(conn, "company", name="Here")
    m = matcher(conn)
    assert m.company("Gone", "gone.example", None) is None
    assert list(m.tables["company"].rows) == [2]
    assert m.tables["company"].first_new == 3  # new companies are numbered after every id, trashed or not


def test_a_deal_without_an_external_id_is_the_first_with_its_title_and_customer_no_row_took(
        conn: sqlite3.Connection) -> None:
    acme = add(conn, "company", name="Acme")
    first = add(conn, "deal", title="Website relaunch", company_id=acme)
    second = add(conn, "deal", title="Website Relaunch", company_id=acme)
    m = matcher(conn)
    key = deal_key(m.tables["deal"].rows[first])
    assert m.same_deal(key, None) == first
    m.claimed[first] = None
    assert m.same_deal(key, None) == second  # the customer bought it twice: the next row, the next deal
    m.claimed[second] = "7"
    # every one taken: a row with another id is a new deal, one without repeats the first
    assert m.same_deal(key, "8") is None
    assert m.same_deal(key, None) == first
    assert m.same_deal(("website relaunch", None, None), None) is None  # no company: another key


def test_deals_planned_from_earlier_rows_are_found_like_loaded_ones(conn: sqlite3.Connection) -> None:
    add(conn, "deal", title="Audit", external_id="D1")
    m = matcher(conn)
    assert m.dl_by_ext == {"D1": 1}
    assert m.key_log == []  # the keys index is built only when a row needs it
    planned = [3, "Branding", None, 2, 1, 1, NOW, 0, None, None, None, None, None, None, None, None, None, None,
               NOW, NOW]
    m.index_deal(3, planned)
    assert m.key_log == [(("branding", None, 2), 3)]
    assert m.same_deal(("branding", None, 2), None) == 3
    assert m.key_log is None and m.dl_by_key == {("audit", None, None): 1, ("branding", None, 2): 3}


def test_a_companies_file_loads_no_deals_but_numbers_new_ones_after_them(conn: sqlite3.Connection) -> None:
    add(conn, "deal", title="Audit")
    m = matcher(conn, "company")
    assert m.tables["deal"].rows == {} and m.tables["deal"].first_new == 2
