"""The finder (index, triggers, migration), its screen and palette provider, the record lists and
the trash screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList, Static

from crmtui.app import make_app
from crmtui.screens.company_detail import CompanyDetailScreen
from crmtui.screens.contact_detail import ContactDetailScreen
from crmtui.screens.deal_detail import DealDetailScreen
from crmtui.screens.finder import FinderScreen
from crmtui.screens.record_lists import PAGE_SIZE, CompaniesScreen, ContactsScreen
from crmtui.screens.trash import TrashScreen
from crmtui.store import migrations
from crmtui.store.companies import create_company
from crmtui.store.contacts import create_contact
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.store.editing import trash_record, update_record
from crmtui.store.search import company_page, contact_page, find_records, fts_query
from crmtui.store.trash import restore
from tests.conftest import assert_finder_in_step, fetch


@pytest.fixture
def small(db_path: Path, fixed_clock: dt.datetime) -> Path:
    db = open_database(db_path)
    with db.session() as s:
        create_company(s, "Acme Consulting", domain="acme.com", email="hello@acme.com")
        create_company(s, "Bolt Bakery", website="https://www.boltbakery.example")
        create_contact(s, "Jo Smith", email="jo.smith@acme.com", company="#1")
        create_contact(s, "Ann Müller", email="ann@mail.example")
        create_deal(s, "Website relaunch", company="#1", contact="#1", amount="12500")
        create_deal(s, "Sourdough branding", company="#2", amount="4000")
    db.close()
    return db_path


def found(db_path: Path, query: str) -> list[tuple[str, str]]:
    db = open_database(db_path)
    with db.session() as s:
        return [(f.kind, f.label) for f in find_records(s, query)]


# --- the index -----------------------------------------------------------------------------


def test_every_word_is_a_prefix_over_names_emails_and_domains(small: Path) -> None:
    assert found(small, "acm") == [("company", "Acme Consulting"), ("contact", "Jo Smith")]
    assert found(small, "web rel") == [("deal", "Website relaunch")]
    assert found(small, "jo.smith@ac") == [("contact", "Jo Smith")]
    assert found(small, "boltbakery.example") == [("company", "Bolt Bakery")]
    assert found(small, "muller") == [("contact", "Ann Müller")]  # diacritics folded
    assert found(small, "   ") == [] and found(small, "zzz") == []
    assert found(small, 'acme" OR *') == found(small, "acme or")  # typed quotes/operators are just words


def test_fts_query_quotes_each_word() -> None:
    assert fts_query("Acme Corp") == '"acme"* "corp"*'
    assert fts_query("jo@acme.com") == '"jo"* "acme"* "com"*'
    assert fts_query("-- ()") is None


def test_the_index_follows_inserts_edits_trash_and_restore(small: Path) -> None:
    db = open_database(small)
    with db.session() as s:
        update_record(s, "company", 2, {"name": "Crust & Co"})
        update_record(s, "deal", 1, {"title": "Shop relaunch"})
        create_contact(s, "Zed Quinn", email="zed@quinn.example")
    assert found(small, "bakery") == [] and found(small, "crust") == [("company", "Crust & Co")]
    assert found(small, "boltbakery") == [("company", "Crust & Co")]  # its domain is unchanged
    assert found(small, "website") == [] and found(small, "shop") == [("deal", "Shop relaunch")]
    assert found(small, "quinn") == [("contact", "Zed Quinn")]
    assert_finder_in_step(small)
    with db.session() as s:
        trash_record(s, "contact", 3)
    assert found(small, "quinn") == []
    assert_finder_in_step(small)
    with db.session() as s:
        restore(s, "P3")
    assert found(small, "quinn") == [("contact", "Zed Quinn")]
    assert_finder_in_step(small)
    # A raw delete (purge) leaves nothing behind; nor does deleting a record that is in the trash
    # (not in the index: the index is told to forget only what it holds).
    conn = db.raw()
    conn.execute("DELETE FROM contact WHERE id = 3")
    conn.execute("UPDATE deal SET deleted_at = '2026-11-20 10:00:00' WHERE id = 1")
    conn.execute("UPDATE deal SET title = 'Renamed in the trash' WHERE id = 1")
    conn.execute("UPDATE company SET email = 'new@crust.example', name = 'Crust Two' WHERE id = 2")
    conn.execute("UPDATE company SET name = 'Crust Two' WHERE id = 2")  # (no change: the index is left alone)
    conn.execute("UPDATE company SET email = 'hi@acme.example', domain = NULL WHERE id = 1")
    conn.execute("UPDATE contact SET email = 'js@other.example' WHERE id = 1")
    conn.close()
    assert fetch(small, "SELECT count(*) FROM search_index WHERE rowid = 3 * 4 + 3") == [(0,)]
    assert found(small, "renamed") == [] and found(small, "crust two") == [("company", "Crust Two")]
    assert found(small, "hello") == [] and found(small, "hi@acme") == [("company", "Acme Consulting")]
    assert found(small, "acme") == [("company", "Acme Consulting")] and found(small, "js@other") == [
        ("contact", "Jo Smith")]
    assert_finder_in_step(small)
    conn = db.raw()
    conn.execute("DELETE FROM deal WHERE id = 1")
    conn.close()
    assert_finder_in_step(small)


def test_migration_4_indexes_an_existing_database(db_path: Path) -> None:
    conn = migrations.connect_raw(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, upto=3)
    conn.execute("INSERT INTO company (name, domain, created_at, updated_at) VALUES ('Old Co', 'oldco.example', '2025-01-01', '2025-01-01')")
    conn.execute("INSERT INTO company (name, created_at, updated_at, deleted_at) VALUES ('Gone Co', '2025-01-01', '2025-01-01', '2025-02-01')")
    conn.execute(
        "INSERT INTO deal (title, company_id, pipeline_id, stage_id, stage_entered_at, created_at, updated_at)"
        " VALUES ('Legacy deal', 1, 1, 1, '2025-01-01', '2025-01-01', '2025-01-01')"
    )
    conn.close()
    db = open_database(db_path)
    assert db.backup_path is not None
    with db.session() as s:
        assert [(f.kind, f.label, f.detail) for f in find_records(s, "old")] == [("company", "Old Co", "oldco.example")]
        assert [f.label for f in find_records(s, "legacy")] == ["Legacy deal"]
        assert find_records(s, "gone") == []


def test_broad_queries_are_capped_and_still_answer(db_path: Path) -> None:
    db = open_database(db_path)
    conn = db.raw()
    conn.executemany(
        "INSERT INTO company (name, created_at, updated_at) VALUES (?, '2025-01-01', '2025-01-01')",
        [(f"Alpha {i}",) for i in range(2500)] + [("Beta Alpha",)],
    )
    conn.close()
    with db.session() as s:
        hits = find_records(s, "alp", limit=20)
        assert len(hits) == 20 and all(h.label.startswith("Alpha") for h in hits)


def test_list_pages_search_sort_and_count(small: Path) -> None:
    db = open_database(small)
    with db.session() as s:
        total, rows = company_page(s)
        assert total == 2 and [r["name"] for r in rows] == ["Acme Consulting", "Bolt Bakery"]
        assert rows[0]["open_deals"] == 1
        total, rows = company_page(s, search="bolt")
        assert total == 1 and rows[0]["name"] == "Bolt Bakery"
        total, rows = contact_page(s, sort="email")
        assert [r["email"] for r in rows] == ["ann@mail.example", "jo.smith@acme.com"]
        assert contact_page(s, search="acme")[1][0]["company"] == "Acme Consulting"
        assert company_page(s, sort="nonsense")[1][0]["name"] == "Acme Consulting"


# --- screens -------------------------------------------------------------------------------


async def test_ctrl_f_finds_as_you_type_and_enter_opens(small: Path) -> None:
    app = make_app(open_database(small))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, FinderScreen)
        await pilot.press(*"acme")
        results = app.screen.query_one(OptionList)
        assert [results.get_option_at_index(i).id for i in range(results.option_count)] == ["company:1", "contact:1"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompanyDetailScreen) and app.screen.record_id == 1
        await pilot.press("ctrl+f")
        await pilot.press(*"jo.smith")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ContactDetailScreen)
        await pilot.press("ctrl+f", *"nothing here", "enter")
        assert isinstance(app.screen, FinderScreen)
        results = app.screen.query_one(OptionList)
        assert results.option_count == 1 and results.get_option_at_index(0).disabled
        await pilot.press("escape")
        assert isinstance(app.screen, ContactDetailScreen)


async def test_palette_provider_goes_to_records_and_screens(small: Path) -> None:
    from crmtui.commands import RecordCommands

    app = make_app(open_database(small))
    async with app.run_test(size=(120, 40)) as pilot:
        provider = RecordCommands(app.screen)
        hits = [h async for h in provider.search("website")]
        deal_hit = next(h for h in hits if h.text == "Go to deal: Website relaunch")
        deal_hit.command()
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
        hits = [h async for h in provider.search("trash")]
        next(h for h in hits if "Trash" in str(h.text)).command()
        await pilot.pause()
        assert isinstance(app.screen, TrashScreen)
        names = [str(h.display) async for h in provider.discover()]
        assert {"New deal", "Companies", "Contacts", "Trash", "Find"} <= set(names)


async def test_palette_new_deal(small: Path) -> None:
    app = make_app(open_database(small))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.run_action("new_deal")
        await pilot.pause()
        form = app.screen
        form.query_one("#field-title", Input).value = "Retainer"
        form.query_one("#field-company", Input).value = "Bolt Bakery"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
    assert fetch(small, "SELECT company_id FROM deal WHERE title = 'Retainer'") == [(2,)]


async def test_companies_list_search_sort_page_and_open(db_path: Path, fixed_clock: dt.datetime) -> None:
    db = open_database(db_path)
    conn = db.raw()
    conn.executemany(
        "INSERT INTO company (name, domain, created_at, updated_at) VALUES (?, ?, ?, ?)",
        [(f"Company {i:03d}", f"c{i:03d}.example", f"2025-01-{1 + i % 28:02d}", "2025-01-01") for i in range(250)],
    )
    conn.close()
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("C")
        screen = app.screen
        assert isinstance(screen, CompaniesScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert table.row_count == PAGE_SIZE
        assert "1–100 of 250" in str(screen.query_one("#list-title", Static).render())
        await pilot.press("right_square_bracket", "right_square_bracket")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 50 and "201–250 of 250" in str(screen.query_one("#list-title", Static).render())
        await pilot.press("right_square_bracket")  # no more pages
        await pilot.press("left_square_bracket")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "101–200 of 250" in str(screen.query_one("#list-title", Static).render())
        await pilot.press("o")  # sort by newest
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "sorted by newest" in str(screen.query_one("#list-title", Static).render())
        await pilot.press("slash", *"company 04")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 10  # 040 to 049: each word is a prefix
        await pilot.press("2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("enter")  # to the table
        await pilot.press("enter")  # open
        await pilot.pause()
        assert isinstance(app.screen, CompanyDetailScreen)
        assert app.screen.record_id == 43
        await pilot.press("escape")
        assert app.screen is screen


async def test_contacts_list_opens_a_contact(small: Path) -> None:
    app = make_app(open_database(small))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("P")
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == ["Ann Müller", "Jo Smith"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ContactDetailScreen) and app.screen.record_id == 1


async def test_trash_screen_restores(small: Path) -> None:
    db = open_database(small)
    with db.session() as s:
        trash_record(s, "deal", 2)
        trash_record(s, "company", 2)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("T")
        screen = app.screen
        assert isinstance(screen, TrashScreen)
        table = screen.query_one(DataTable)
        assert {table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)} == {"D2", "C2"}
        table.move_cursor(row=table.get_row_index("C2"))
        await pilot.press("r")
        await pilot.pause()
        assert fetch(small, "SELECT deleted_at FROM company WHERE id = 2") == [(None,)]
        assert table.row_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert fetch(small, "SELECT deleted_at FROM deal WHERE id = 2") == [(None,)]
        assert screen.query_one("#trash-empty").display


async def test_deleted_deal_comes_back_from_the_trash_screen(small: Path) -> None:
    app = make_app(open_database(small))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.press("delete", "y")
        await pilot.pause()
        await pilot.press("T")
        await pilot.press("r")
        await pilot.pause()
    assert fetch(small, "SELECT deleted_at FROM deal WHERE id = 1") == [(None,)]


def test_demo_data_is_in_the_finder(db_path: Path) -> None:
    from crmtui.store.demo import generate_demo

    db = open_database(db_path)
    generate_demo(db, deals=60)
    counts = fetch(db_path, "SELECT (SELECT count(*) FROM deal) + (SELECT count(*) FROM company) + (SELECT count(*) FROM contact)")
    assert fetch(db_path, "SELECT count(*) FROM search_index") == counts
    assert_finder_in_step(db_path)
    title = fetch(db_path, "SELECT title FROM deal WHERE id = 7")[0][0]
    with db.session() as s:
        assert ("deal", 7) in [(f.kind, f.id) for f in find_records(s, title, limit=50)]
    # Adding more demo data to a database that has some keeps the triggers (and the index) in step.
    generate_demo(db, deals=10, force=True)
    counts = fetch(db_path, "SELECT (SELECT count(*) FROM deal) + (SELECT count(*) FROM company) + (SELECT count(*) FROM contact)")
    assert fetch(db_path, "SELECT count(*) FROM search_index") == counts
    assert_finder_in_step(db_path)
