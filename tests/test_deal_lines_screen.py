"""The deal page's Products section and quotes: keys pressed as a person would, the database asserted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from crmtui.app import make_app
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.deal_detail import DealDetailScreen
from crmtui.screens.line_form import QuickForm
from crmtui.screens.lost_reason import LostReasonScreen
from crmtui.screens.product_picker import ProductPicker
from crmtui.store.db import open_database
from crmtui.store.lines import add_line, set_line_fields
from crmtui.store.models import Product
from crmtui.store.quotes import make_quote
from crmtui.widgets.line_items import EMPTY_LINES
from tests.conftest import FIXED_NOW, fetch
from tests.test_detail import seed

PRODUCTS = [  # name, code, unit, price in cents, tax in basis points
    ("Website design", "WEB", "piece", 800000, 2500),
    ("Consulting hour", "HOUR", "hour", 12000, 2500),
    ("Hosting year", "HOST", "year", 30000, 1200),
]


def add_products(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        for name, code, unit, price, tax in PRODUCTS:
            s.add(Product(name=name, code=code, unit=unit, price_cents=price, tax_bp=tax,
                          created_at=FIXED_NOW, updated_at=FIXED_NOW))
    db.close()


def add_lines(db_path: Path, *refs: str, quote: str | None = None) -> None:
    db = open_database(db_path)
    with db.session() as s:
        for ref in refs:
            add_line(s, 1, ref)
    if quote:
        with db.session() as s:
            make_quote(s, 1, fmt=quote)
    db.close()


@pytest.fixture
def seeded(db_path: Path, fixed_clock: dt.datetime) -> Path:
    seed(db_path)
    add_products(db_path)
    return db_path


def lines_of(db_path: Path) -> list[tuple]:
    return fetch(db_path, "SELECT description, quantity, unit_price_cents, discount_bp, position FROM deal_line"
                          " WHERE deal_id = 1 AND deleted_at IS NULL ORDER BY position, id")


def amount_of(db_path: Path) -> int:
    return fetch(db_path, "SELECT amount_cents FROM deal WHERE id = 1")[0][0]


async def open_deal(app, pilot) -> DealDetailScreen:  # noqa: ANN001
    app.open_record("deal", 1)
    await pilot.pause()
    assert isinstance(app.screen, DealDetailScreen)
    return app.screen


def focus_lines(screen: DealDetailScreen, row: int = 0) -> DataTable:
    table = screen.query_one("#lines", DataTable)
    table.focus()
    table.move_cursor(row=row)
    return table


def shown(screen, selector: str) -> str:  # noqa: ANN001
    widget = screen.query_one(selector)
    if isinstance(widget, DataTable):
        return "\n".join(" ".join(str(cell) for cell in widget.get_row_at(i)) for i in range(widget.row_count))
    return str(widget.render())


async def test_plus_finds_a_product_as_you_type_and_adds_it(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        assert EMPTY_LINES in shown(screen, "#lines-title")
        assert amount_of(seeded) == 1250000  # typed by hand
        await pilot.press("plus")
        assert isinstance(app.screen, ProductPicker)
        await pilot.press(*"consul")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert lines_of(seeded) == [("", "1", 12000, 0, 0)]
        assert amount_of(seeded) == 12000  # the lines' net from now on
        assert "Consulting hour" in shown(screen, "#lines")
        assert "Total 150" in shown(screen, "#lines-totals")  # 120 + 25 % tax
        assert screen.query_one("#lines").has_focus


async def test_a_line_of_its_own_asks_for_a_price(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("plus")
        await pilot.press(*"Travel costs")
        await pilot.press("enter")  # no product matches: a line of its own
        picker = app.screen
        assert picker.query_one("#picker-price", Input).has_focus
        await pilot.press(*"lots", "enter")
        assert "price" in shown(picker, "#picker-error")
        assert lines_of(seeded) == []
        picker.query_one("#picker-price", Input).value = "450"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert lines_of(seeded) == [("Travel costs", "1", 45000, 0, 0)]


async def test_enter_on_a_line_edits_quantity_and_discount(seeded: Path) -> None:
    add_lines(seeded, "WEB", "HOUR")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        focus_lines(screen, 1)
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, QuickForm)
        form.query_one("#field-quantity", Input).value = "x"
        await pilot.press("enter")  # refused: the form stays, with the reason
        assert app.screen is form
        assert lines_of(seeded)[1][1] == "1"
        form.query_one("#field-quantity", Input).value = "2.5"
        form.query_one("#field-discount", Input).value = "10"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert lines_of(seeded)[1] == ("", "2.5", 12000, 1000, 1)
        assert amount_of(seeded) == 800000 + 27000  # 2.5 x 120 less 10 %
        assert "2.5" in shown(screen, "#lines")


async def test_ctrl_down_moves_a_line_and_delete_removes_it_undoably(seeded: Path) -> None:
    add_lines(seeded, "WEB", "HOUR", "HOST")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        table = focus_lines(screen, 0)
        await pilot.press("ctrl+down")
        await pilot.pause()
        names = fetch(seeded, "SELECT p.code FROM deal_line l JOIN product p ON p.id = l.product_id"
                              " WHERE l.deleted_at IS NULL ORDER BY l.position")
        assert [n[0] for n in names] == ["HOUR", "WEB", "HOST"]
        assert table.cursor_row == 1  # the cursor stays on the moved line
        await pilot.press("ctrl+up", "ctrl+up")  # at the top, the second does nothing
        await pilot.pause()
        assert table.cursor_row == 0
        await pilot.press("delete")  # the line, not the deal
        await pilot.pause()
        assert app.screen is screen
        assert len(lines_of(seeded)) == 2
        assert amount_of(seeded) == 12000 + 30000
        assert fetch(seeded, "SELECT deleted_at FROM deal WHERE id = 1") == [(None,)]
        await pilot.press("u")
        await pilot.pause()
        assert len(lines_of(seeded)) == 3
        assert amount_of(seeded) == 800000 + 12000 + 30000
        assert "Website design" in shown(screen, "#lines")


async def test_percent_gives_the_deal_a_discount_and_u_takes_it_back(seeded: Path) -> None:
    from crmtui.screens.prompt import PromptScreen

    add_lines(seeded, "WEB", "HOUR")  # 8,000.00 + 120.00 = 8,120.00
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("percent_sign")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"120%", "enter")  # refused in the prompt, nothing written
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen) and "over 100" in str(app.screen.query_one("#prompt-error").render())
        app.screen.query_one(Input).value = ""
        await pilot.press(*"5%", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert fetch(seeded, "SELECT discount_bp, discount_cents FROM deal WHERE id = 1") == [(500, None)]
        assert amount_of(seeded) == 812000 - 40600  # 5 % of 8,120.00 = 406.00
        await pilot.press("u")
        await pilot.pause()
        assert fetch(seeded, "SELECT discount_bp, discount_cents FROM deal WHERE id = 1") == [(None, None)]
        assert amount_of(seeded) == 812000


async def test_privacy_masks_every_figure_of_the_lines_and_quotes(seeded: Path) -> None:
    add_lines(seeded, "WEB", quote="md")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        assert "8,000" in shown(screen, "#lines") and "10,000" in shown(screen, "#lines-totals")
        assert "10,000" in shown(screen, "#quotes")
        await pilot.press("dollar_sign")
        await pilot.pause()
        for selector in ("#lines", "#lines-totals", "#quotes"):
            text = shown(screen, selector)
            assert "•••••" in text
            assert not any(figure in text for figure in ("8,000", "2,000", "10,000")), selector


async def test_Q_writes_a_quote_linked_on_the_page(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("Q")  # no lines yet: nothing to quote
        assert app.screen is screen
        assert fetch(seeded, "SELECT count(*) FROM quote") == [(0,)]
    add_lines(seeded, "WEB")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("Q")
        form = app.screen
        assert isinstance(form, QuickForm)
        assert form.query_one("#field-valid_until", Input).value == "2026-12-23"  # today + 30 days
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        [(number, status, valid, fmt, path)] = fetch(seeded, "SELECT number, status, valid_until, format, path FROM quote")
        assert (status, valid, fmt) == ("draft", "2026-12-23", "pdf")
        assert Path(path).read_bytes().startswith(b"%PDF")
        assert fetch(seeded, "SELECT target, label FROM deal_link WHERE deal_id = 1") == [(path, f"Quote {number}")]
        assert number in shown(screen, "#quotes") and "draft" in shown(screen, "#quotes")
        assert f"Quote {number}" in shown(screen, "#related")
        await pilot.press("u")
        await pilot.pause()
        assert fetch(seeded, "SELECT count(*) FROM quote WHERE deleted_at IS NULL") == [(0,)]
        assert fetch(seeded, "SELECT count(*) FROM deal_link") == [(0,)]
        assert "none" in shown(screen, "#quotes-title")


async def test_enter_on_a_quote_opens_its_file(seeded: Path) -> None:
    from crmtui.widgets import opener

    add_lines(seeded, "WEB", quote="md")
    opened: list[str] = []
    opener.set_opener(opened.append)
    try:
        app = make_app(open_database(seeded))
        async with app.run_test(size=(120, 40)) as pilot:
            await quote_keys(app, pilot)
            await pilot.press("enter")
            await pilot.pause()
    finally:
        opener.set_opener(None)
    assert opened == [fetch(seeded, "SELECT path FROM quote")[0][0]]
    assert opened[0].endswith(".md")


async def quote_keys(app, pilot) -> DealDetailScreen:  # noqa: ANN001
    screen = await open_deal(app, pilot)
    quotes = screen.query_one("#quotes", DataTable)
    quotes.focus()
    quotes.move_cursor(row=0)
    return screen


def quote_status(db_path: Path) -> str:
    return fetch(db_path, "SELECT status FROM quote")[0][0]


def deal_stage(db_path: Path) -> tuple:
    return fetch(db_path, "SELECT s.name, d.lost_reason FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = 1")[0]


async def test_sent_then_accepted_moves_the_deal_and_u_undoes_it(seeded: Path) -> None:
    add_lines(seeded, "WEB", quote="md")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await quote_keys(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        assert quote_status(seeded) == "sent"
        await pilot.press("y")
        await pilot.pause()
        assert quote_status(seeded) == "accepted"
        assert deal_stage(seeded) == ("Contract out for signature", None)  # the stage chosen in settings
        assert "accepted" in shown(screen, "#quotes")
        await pilot.press("u")
        await pilot.pause()
        assert quote_status(seeded) == "sent"
        assert deal_stage(seeded) == ("Proposal sent", None)
        assert "sent" in shown(screen, "#quotes")


async def test_declined_asks_whether_the_deal_is_lost_with_a_reason(seeded: Path) -> None:
    add_lines(seeded, "WEB", quote="md")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await quote_keys(app, pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert isinstance(app.screen, LostReasonScreen)
        await pilot.press(*"Went with a friend", "enter")
        await pilot.pause()
        assert quote_status(seeded) == "declined"
        assert deal_stage(seeded) == ("Lost", "Went with a friend")
        await pilot.press("u")
        await pilot.pause()
        assert quote_status(seeded) == "draft"
        assert deal_stage(seeded) == ("Proposal sent", None)


async def test_declined_keeps_the_deal_open_when_not_lost(seeded: Path) -> None:
    add_lines(seeded, "WEB", quote="md")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await quote_keys(app, pilot)
        await pilot.press("x", "n")
        await pilot.pause()
        assert quote_status(seeded) == "declined"
        assert deal_stage(seeded) == ("Proposal sent", None)
        await pilot.press("x")  # declined already: says so, asks nothing
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert quote_status(seeded) == "declined"


# --- how it looks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_deal_page_with_lines_and_a_quote_snapshot(seeded: Path, snap_compare, size: tuple[int, int]) -> None:  # noqa: ANN001
    add_lines(seeded, "WEB", "HOUR", "HOST")
    db = open_database(seeded)
    with db.session() as s:
        set_line_fields(s, 2, {"quantity": "12.5", "discount": "10", "description": "Workshops"})
    with db.session() as s:
        make_quote(s, 1, fmt="md")
    app = make_app(db)
    app.sub_title = "crm.db"

    async def open_it(pilot) -> None:  # noqa: ANN001
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=open_it)



async def test_help_lists_the_products_and_quotes_keys(seeded: Path) -> None:
    from crmtui.screens.help import HelpScreen

    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)  # the cursor is in Linked, not in Products
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]
        for said in ("Add a line item", "Write a quote", "Products: Move the line down", "Products: Remove the line",
                     "Quotes: The customer declined"):
            assert any(said in row for row in rows), said
