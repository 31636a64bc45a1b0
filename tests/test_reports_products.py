"""Sales by product: the lines of the deals won in the period, per product (or free text) and unit,
in the store, in `crmtui report` (tables, JSON, Markdown, CSV) and on the dashboard.

"Now" is the conftest clock, 2026-11-23; the default period, the last 12 months, runs from
2025-11-24. Products: Workshop (day, 1,200.00), Consulting (hour, 150.00).

| deal  | stage            | lines (quantity x price, discount: net)                                      |
| Alpha | won 2026-11-02   | Workshop 1.5 x 1,200 = 1,800; Consulting 2.1 x 150 = 315; "Travel" 1 x 95.50;  |
|       |                  | a deleted line Consulting 100 x 150                                          |
| Beta  | won 2026-10-15,  | Workshop 0.5 x 1,200 less 10 % = 540; Consulting 10.2 x 150 = 1,530;          |
|       | tag training     | Consulting per day 1 x 1,100; " travel " 2 x 40.25 = 80.50                   |
| Gamma | won 2026-09-01   | no lines                                                                     |
| Delta | lost 2026-11-10  | Workshop 5 x 1,200                                                           |
| Eps   | open             | Consulting 7 x 150                                                           |
| Zeta  | won 2025-06-01   | Workshop 3 x 1,200 (before the period)                                       |
| Theta | won 2026-11-05, deleted | Workshop 9 x 1,200                                                    |

Worked out by hand, largest net first:
- Workshop, day: 1.5 + 0.5 = 2 days, 1,800 + 540 = 2,340.00, 2 deals
- Consulting, hour: 2.1 + 10.2 = 12.3 hours (in binary floats 12.299999999999999), 315 + 1,530 = 1,845.00, 2 deals
- Consulting, day: 1 day, 1,100.00, 1 deal
- Travel (free text, "Travel" and " travel " are one), no unit: 1 + 2 = 3, 95.50 + 80.50 = 176.00, 2 deals
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable

from crmtui.app import make_app
from crmtui.screens.dashboard import DashboardScreen
from crmtui.screens.deal_list import DealListScreen
from crmtui.store import clock
from crmtui.store.db import Database, open_database
from crmtui.store.deals import create_deal, delete_deal, mark_lost, mark_won
from crmtui.store.line_totals import line_amounts
from crmtui.store.models import DealLine, Product
from crmtui.store.reports import drill_page, make_filter
from crmtui.store.reports_products import product_drill, sales_by_product
from tests.commands import ok
from tests.test_reports_data import at

EXPECTED = [
    {"product": "Workshop", "unit": "day", "quantity": "2", "net_cents": 234000, "deals": 2},
    {"product": "Consulting", "unit": "hour", "quantity": "12.3", "net_cents": 184500, "deals": 2},
    {"product": "Consulting", "unit": "day", "quantity": "1", "net_cents": 110000, "deals": 1},
    {"product": "Travel", "unit": "", "quantity": "3", "net_cents": 17600, "deals": 2},
]


def _product(db: Database, name: str, unit: str, price_cents: int) -> int:
    with db.session() as s:
        now = clock.utcnow()
        product = Product(name=name, unit=unit, price_cents=price_cents, created_at=now, updated_at=now)
        s.add(product)
        return product.id


def _line(db: Database, deal_id: int, product_id: int | None, quantity: str, price_cents: int, *,
          unit: str | None = None, description: str = "", discount_bp: int = 0, deleted: bool = False) -> None:
    with db.session() as s:
        now = clock.utcnow()
        s.add(DealLine(deal_id=deal_id, product_id=product_id, description=description, quantity=quantity, unit=unit,
                       unit_price_cents=price_cents, discount_bp=discount_bp,
                       net_cents=line_amounts(quantity, price_cents, discount_bp)[1],
                       created_at=now, updated_at=now, deleted_at=now if deleted else None))


def build(db: Database) -> dict[str, int]:
    """The deals and lines of the table above; returns deal ids by name."""
    workshop = _product(db, "Workshop", "day", 120000)
    consulting = _product(db, "Consulting", "hour", 15000)
    ids = {name: at(db, "2025-05-01", create_deal, name, company="Acme", tags=["training"] if name == "Beta" else None)
           for name in ("Alpha", "Beta", "Gamma", "Delta", "Eps", "Zeta", "Theta")}
    for name, day in (("Alpha", "2026-11-02"), ("Beta", "2026-10-15"), ("Gamma", "2026-09-01"),
                      ("Zeta", "2025-06-01"), ("Theta", "2026-11-05")):
        at(db, day, mark_won, ids[name])
    at(db, "2026-11-10", mark_lost, ids["Delta"], "Timing")
    at(db, "2026-11-07", delete_deal, ids["Theta"])
    _line(db, ids["Alpha"], workshop, "1.5", 120000, unit="day")
    _line(db, ids["Alpha"], consulting, "2.1", 15000, unit="hour")
    _line(db, ids["Alpha"], None, "1", 9550, description="Travel")
    _line(db, ids["Alpha"], consulting, "100", 15000, unit="hour", deleted=True)
    _line(db, ids["Beta"], workshop, "0.5", 120000, unit="day", discount_bp=1000)
    _line(db, ids["Beta"], consulting, "10.2", 15000, unit="hour")
    _line(db, ids["Beta"], consulting, "1", 110000, unit="day")
    _line(db, ids["Beta"], None, "2", 4025, description=" travel ")
    _line(db, ids["Delta"], workshop, "5", 120000, unit="day")
    _line(db, ids["Eps"], consulting, "7", 15000, unit="hour")
    _line(db, ids["Zeta"], workshop, "3", 120000, unit="day")
    _line(db, ids["Theta"], workshop, "9", 120000, unit="day")
    return ids


@pytest.fixture
def sold(db_path: Path, fixed_clock) -> Path:  # noqa: ANN001
    db = open_database(db_path)
    build(db)
    db.close()
    return db_path


def _figures(rows: list[dict]) -> list[dict]:
    return [{k: r[k] for k in ("product", "unit", "quantity", "net_cents", "deals")} for r in rows]


# --- the store ---------------------------------------------------------------------------------------


def test_sales_by_product_counts_the_lines_of_deals_won_in_the_period(sold: Path) -> None:
    db = open_database(sold)
    with db.session() as s:
        rows = sales_by_product(s, make_filter())
        assert _figures(rows) == EXPECTED
        assert rows[3]["product_id"] is None and rows[0]["product_id"] is not None
        # All time takes in Zeta (won before the period): 3 more days of workshop.
        assert _figures(sales_by_product(s, make_filter("all")))[0] == {
            "product": "Workshop", "unit": "day", "quantity": "5", "net_cents": 594000, "deals": 3}
        # The tag filter: Beta's lines alone, its free text as Beta wrote it.
        assert _figures(sales_by_product(s, make_filter(tag="training"))) == [
            {"product": "Consulting", "unit": "hour", "quantity": "10.2", "net_cents": 153000, "deals": 1},
            {"product": "Consulting", "unit": "day", "quantity": "1", "net_cents": 110000, "deals": 1},
            {"product": "Workshop", "unit": "day", "quantity": "0.5", "net_cents": 54000, "deals": 1},
            {"product": "travel", "unit": "", "quantity": "2", "net_cents": 8050, "deals": 1},
        ]
        # A period with a won deal (Gamma) but no lines on it.
        assert sales_by_product(s, make_filter(date_from="2026-09-01", date_to="2026-09-30")) == []
    db.close()


def test_a_row_lists_the_won_deals_behind_it(sold: Path) -> None:
    db = open_database(sold)
    with db.session() as s:
        filt = make_filter()
        rows = sales_by_product(s, filt)
        titles = [[d["title"] for d in drill_page(s, filt, product_drill(r))] for r in rows]
    db.close()
    assert titles == [["Beta", "Alpha"], ["Beta", "Alpha"], ["Beta"], ["Beta", "Alpha"]]


# --- crmtui report -------------------------------------------------------------------------------------


def test_report_json_has_sales_by_product(sold: Path) -> None:
    data = json.loads(ok(sold, "report", "--json").stdout)
    assert data["sales_by_product"] == [
        {"product_id": 1, "product": "Workshop", "unit": "day", "quantity": "2", "net": 2340, "deals": 2},
        {"product_id": 2, "product": "Consulting", "unit": "hour", "quantity": "12.3", "net": 1845, "deals": 2},
        {"product_id": 2, "product": "Consulting", "unit": "day", "quantity": "1", "net": 1100, "deals": 1},
        {"product_id": None, "product": "Travel", "unit": "", "quantity": "3", "net": 176, "deals": 2},
    ]


def test_report_csv_has_a_row_per_figure_of_each_product(sold: Path) -> None:
    lines = ok(sold, "report", "--csv").stdout.splitlines()
    products = [line for line in lines if line.startswith("sales_by_product,")]
    assert products[:6] == [
        "sales_by_product,Workshop,product_id,1",
        "sales_by_product,Workshop,unit,day",
        "sales_by_product,Workshop,quantity,2",
        "sales_by_product,Workshop,net,2340",
        "sales_by_product,Workshop,deals,2",
        "sales_by_product,Consulting,product_id,2",
    ]
    assert "sales_by_product,Travel,net,176" in products and "sales_by_product,Travel,product_id," in products


def test_report_tables_and_markdown_show_sales_by_product(sold: Path) -> None:
    text = ok(sold, "report").stdout
    assert "Sales by product" in text
    shown = [[cell.strip() for cell in line.split("│")][:5] for line in text.splitlines()
             if line.lstrip().startswith(("Workshop", "Consulting", "Travel"))]
    assert shown == [["Workshop", "2", "day", "2,340", "2"], ["Consulting", "12.3", "hour", "1,845", "2"],
                     ["Consulting", "1", "day", "1,100", "1"], ["Travel", "3", "", "176", "2"]]
    markdown = ok(sold, "report", "--markdown").stdout
    assert "### Sales by product (won deals' lines, before deal discounts)" in markdown
    assert "| Product | Quantity | Unit | Net | Deals |" in markdown
    assert "| Workshop | 2 | day | 2,340 | 2 |" in markdown
    assert "| Travel | 3 |   | 176 | 2 |" in markdown


def test_report_without_won_lines_says_so_in_one_line(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    text = ok(db_path, "report").stdout
    assert "Sales by product (won deals' lines, before deal discounts)\n" \
           "  no won deals with line items in this period\n" in text
    assert "No won deals with line items in this period." in ok(db_path, "report", "--markdown").stdout
    assert json.loads(ok(db_path, "report", "--json").stdout)["sales_by_product"] == []


# --- the dashboard ---------------------------------------------------------------------------------


async def _settle(pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_dashboard_shows_sales_by_product_and_opens_a_rows_deals(sold: Path) -> None:
    app = make_app(open_database(sold))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.query_one("#table-products", DataTable)
        assert _cells(table) == [["Workshop", "2", "day", "2,340", "2"], ["Consulting", "12.3", "hour", "1,845", "2"],
                                 ["Consulting", "1", "day", "1,100", "1"], ["Travel", "3", "", "176", "2"]]
        assert table.border_subtitle == "net before deal discounts"
        table.focus()
        await pilot.press("down", "down", "enter")  # Consulting per day
        await _settle(pilot)
        assert isinstance(app.screen, DealListScreen)
        deals = app.screen.query_one(DataTable)
        assert [str(deals.get_row_at(i)[1]) for i in range(deals.row_count)] == ["Beta"]
        assert "Deals won with Consulting (day)" in str(app.screen.query_one("#deal-list-title").render())
        await pilot.press("escape")
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert all(set(row[3]) == {"•"} for row in _cells(table))
        assert [row[1] for row in _cells(table)] == ["2", "12.3", "1", "3"]  # quantities are not money


async def test_the_dashboard_without_won_lines_says_so(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    app = make_app(open_database(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await _settle(pilot)
        table = app.screen.query_one("#table-products", DataTable)
        assert _cells(table) == [["no won deals with line items in this period", "", "", "", ""]]
        # A row of its own at 80 columns: the line is shown whole.
        assert table.region.width >= 76
        assert list(table.columns.values())[0].width >= len("no won deals with line items in this period")
