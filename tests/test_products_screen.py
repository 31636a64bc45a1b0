"""The products screen (R): search as you type, add and edit through a form (the store's checks
keep a bad value out), archive after asking, show the archived ones, undo; privacy hides prices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable

from crmtui.app import make_app
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.edit_forms import FormScreen
from crmtui.screens.products import ProductsScreen
from crmtui.store.db import open_database
from crmtui.store.products import add_product
from crmtui.widgets.fit_table import FitTable
from tests.conftest import fetch

SIZE = (120, 40)


@pytest.fixture
def catalogue(db_path: Path) -> Path:
    db = open_database(db_path)
    with db.session() as s:
        add_product(s, "Consulting day", price="1200", unit="day", tax="25", cost="700", code="CD")
        add_product(s, "Workshop", price="2500.50", code="WS", description="Half a day on site")
        add_product(s, "Licence", price="300", unit="month")
    return db_path


def names_shown(app) -> list[str]:  # noqa: ANN001
    table = app.screen.query_one(FitTable)
    return [str(table.get_row_at(n)[0]) for n in range(table.row_count)]


def products(db_path: Path) -> list[tuple]:
    return fetch(db_path, "SELECT name, code, unit, price_cents, tax_bp, cost_cents, archived_at IS NULL FROM product"
                          " WHERE deleted_at IS NULL ORDER BY id")


async def open_products(app, pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await pilot.press("R")
    await pilot.pause()
    assert isinstance(app.screen, ProductsScreen)


async def test_r_opens_the_catalogue_and_the_search_filters_as_you_type(catalogue: Path) -> None:
    app = make_app(open_database(catalogue))
    async with app.run_test(size=SIZE) as pilot:
        await open_products(app, pilot)
        assert names_shown(app) == ["Consulting day", "Licence", "Workshop"]
        await pilot.press("slash", *"on")
        await pilot.pause()
        assert names_shown(app) == ["Consulting day", "Workshop"]  # "on site" in its description
        await pilot.press("backspace", "backspace", *"ws")
        await pilot.pause()
        assert names_shown(app) == ["Workshop"]
        await pilot.press("enter", "f1")  # the help lists the screen's keys, and R among the app's
        await pilot.pause()
        help_rows = app.screen.query_one(DataTable)
        does = [str(help_rows.get_row_at(n)[1]) for n in range(help_rows.row_count)]
        assert {"Add", "Edit", "Archive (or bring back) the product", "Undo", "Products"} <= set(does)


async def test_add_a_product_through_the_form_and_undo_it(catalogue: Path) -> None:
    app = make_app(open_database(catalogue))
    async with app.run_test(size=SIZE) as pilot:
        await open_products(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"Retainer", "tab", *"ret", "tab", *"month", "tab", *"12,5x", "tab", *"25")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)  # the bad price keeps it open, nothing written
        assert len(products(catalogue)) == 3
        app.screen.query_one("#field-price").value = "4000"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProductsScreen)
        assert products(catalogue)[-1] == ("Retainer", "ret", "month", 400000, 2500, None, 1)
        assert names_shown(app) == ["Consulting day", "Licence", "Retainer", "Workshop"]
        await pilot.press("u")
        await pilot.pause()
        assert len(products(catalogue)) == 3 and "Retainer" not in names_shown(app)


async def test_edit_with_enter_refuses_a_taken_code_then_saves(catalogue: Path) -> None:
    app = make_app(open_database(catalogue))
    async with app.run_test(size=SIZE) as pilot:
        await open_products(app, pilot)
        await pilot.press("down")  # Licence
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-code").value = "cd"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen) and products(catalogue)[2][1] is None
        app.screen.query_one("#field-code").value = "LIC"
        app.screen.query_one("#field-tax").value = "12.5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert products(catalogue)[2] == ("Licence", "LIC", "month", 30000, 1250, None, 1)
        await pilot.press("u")
        await pilot.pause()
        assert products(catalogue)[2] == ("Licence", None, "month", 30000, 0, None, 1)


async def test_archive_asks_first_and_the_archived_ones_can_be_shown_and_brought_back(catalogue: Path) -> None:
    app = make_app(open_database(catalogue))
    async with app.run_test(size=SIZE) as pilot:
        await open_products(app, pilot)
        await pilot.press("x")  # Consulting day
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert products(catalogue)[0][-1] == 1
        await pilot.press("x", "y")
        await pilot.pause()
        assert products(catalogue)[0][-1] == 0
        assert names_shown(app) == ["Licence", "Workshop"]
        await pilot.press("v")
        await pilot.pause()
        assert names_shown(app) == ["Consulting day", "Licence", "Workshop"]
        await pilot.press("x")  # an archived one comes back at once
        await pilot.pause()
        assert products(catalogue)[0][-1] == 1
        await pilot.press("u")
        await pilot.pause()
        assert products(catalogue)[0][-1] == 0
        await pilot.press("u")
        await pilot.pause()
        assert products(catalogue)[0][-1] == 1


async def test_privacy_masks_prices_and_costs(catalogue: Path) -> None:
    app = make_app(open_database(catalogue))
    async with app.run_test(size=SIZE) as pilot:
        await open_products(app, pilot)
        first = [str(cell) for cell in app.screen.query_one(FitTable).get_row_at(0)]
        assert "1,200" in first and "700" in first
        await pilot.press("dollar_sign")
        await pilot.pause()
        first = [str(cell) for cell in app.screen.query_one(FitTable).get_row_at(0)]
        assert "1,200" not in first and "700" not in first and first.count("•••••") == 2


def test_products_screen_snapshot(catalogue: Path, snap_compare, fixed_clock: dt.datetime) -> None:  # noqa: ANN001
    app = make_app(open_database(catalogue))
    app.sub_title = "crm.db"

    async def open_it(pilot) -> None:  # noqa: ANN001
        await pilot.press("R")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 24), run_before=open_it)
