"""At 80x24 every list shows an amount whole: in full (987,654.32) or compact (988k), never cut
("9" for 987,654.32) and never half off the right edge. Read from what is on screen."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable

from crmtui.app import make_app
from crmtui.screens.agenda import AgendaScreen
from crmtui.screens.dashboard import BreakdownTable
from crmtui.screens.deal_list import DealListScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal, delete_deal, mark_won
from crmtui.store.money import format_money, format_money_short
from crmtui.store.reports import Drill, ReportFilter

# (title, amount, currency, stage): open deals of one customer, none with a task (all in the
# agenda's "No next step"), one in each of the first four stages (four board columns).
DEALS = [
    ("Brand refresh for the whole group", "3000", None, "Unqualified"),
    ("Website relaunch with shop and CRM", "987654.32", None, "Qualification"),
    ("Global rollout", "9999999999.99", "EUR", "Writing proposal"),
    ("Framework agreement, three years", "98765432", None, "Proposal sent"),
]


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> dict[str, object]:  # noqa: ANN001
    db = open_database(db_path)
    amounts: dict[int, tuple[int, str]] = {}
    with db.session() as s:
        for title, amount, currency, stage in DEALS:
            deal = create_deal(s, title, company="Northwind Traders International", contact="Ada Lovelace",
                               amount=amount, currency=currency, stage=stage)
            amounts[deal.id] = (deal.amount_cents, deal.currency or "")
        won = create_deal(s, "Annual retainer", company="Northwind Traders International", amount="76543210")
        mark_won(s, won.id)
        gone = create_deal(s, "A deal with a long title that was deleted by mistake", amount="5")
        delete_deal(s, gone.id)
    db.close()
    return {"path": db_path, "amounts": amounts, "won_cents": 76543210_00}


def screen_lines(app) -> list[str]:  # noqa: ANN001
    """The screen as a person sees it, one string per line (from the screenshot)."""
    lines: dict[int, dict[int, str]] = {}
    for x, y, text in re.findall(r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#[\w-]*line-(\d+)\)">([^<]*)</text>',
                                 app.export_screenshot()):
        col, row = round(float(x) / 12.2), lines.setdefault(int(y), {})
        for ch in html.unescape(text).replace("\xa0", " "):
            row[col] = ch
            col += cell_len(ch)
    return ["".join(row.get(c, " ") for c in range(app.size.width)) for _, row in sorted(lines.items())]


def forms(cents: int, currency: str = "", *, masked: bool = False) -> set[str]:
    """The amount as a table may show it: in full or compact (without the currency code)."""
    return {format_money(cents, currency, masked=masked).split()[-1], format_money_short(cents, masked=masked)}


def assert_whole(line: str, cents: int, currency: str = "", *, masked: bool = False) -> None:
    assert forms(cents, currency, masked=masked) & set(line.split()), f"{cents / 100:,} cut or missing in {line!r}"


def row_of(lines: list[str], marker: str, *, first: bool = True) -> str:
    """The one line whose first word (or, not `first`, any word) is `marker`."""
    found = [line for line in lines if (line.split()[:1] if first else line.split()).count(marker)]
    assert len(found) == 1, (marker, lines)
    return found[0]


async def settle(pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def assert_fits(table: DataTable) -> None:
    """Nothing of the table lies beyond its right edge: no column to scroll to, none cut."""
    assert table.virtual_size.width <= table.scrollable_content_region.width
    assert table.region.right <= table.screen.size.width


async def test_agenda_at_80x24_shows_every_amount_whole(seeded) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        assert_fits(app.screen.query_one(DataTable))
        lines = screen_lines(app)
        for deal_id, (cents, currency) in seeded["amounts"].items():
            assert_whole(row_of(lines, f"#{deal_id}"), cents, currency)
        await pilot.press("dollar_sign")  # privacy: masked, still whole
        await pilot.pause()
        lines = screen_lines(app)
        for deal_id in seeded["amounts"]:
            assert "•••••" in row_of(lines, f"#{deal_id}").split()
        assert "987,654" not in "".join(lines) and "988k" not in "".join(lines)


async def test_deal_list_at_80x24_shows_every_amount_whole(seeded) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(DealListScreen(ReportFilter("all"), Drill("open")))
        await settle(pilot)
        assert_fits(app.screen.query_one(DataTable))
        lines = screen_lines(app)
        for deal_id, (cents, currency) in seeded["amounts"].items():
            assert_whole(row_of(lines, str(deal_id)), cents, currency)


async def test_companies_list_at_80x24_shows_lifetime_value_whole(seeded) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("C")
        await settle(pilot)
        assert_fits(app.screen.query_one(DataTable))
        assert_whole(row_of(screen_lines(app), "1"), seeded["won_cents"])
        await pilot.press("P")  # the contacts list fits too
        await settle(pilot)
        assert_fits(app.screen.query_one(DataTable))


@pytest.mark.parametrize("kind", ["company", "contact"])
async def test_record_pages_at_80x24_show_their_deals_amounts_whole(seeded, kind: str) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_record(kind, 1)
        await settle(pilot)
        assert_fits(app.screen.query_one("#deals", DataTable))
        lines = screen_lines(app)
        for deal_id, (cents, currency) in seeded["amounts"].items():
            assert_whole(row_of(lines, str(deal_id), first=False), cents, currency)


async def test_trash_at_80x24_fits(seeded) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("T")
        await settle(pilot)
        assert_fits(app.screen.query_one(DataTable))
        assert "2026-11-23 09:30" in "\n".join(screen_lines(app))


async def test_dashboard_breakdowns_at_80x24_show_figures_whole(seeded) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        await settle(pilot)
        stages = app.screen.query_one("#table-stages", BreakdownTable)
        for table in app.screen.query(BreakdownTable):
            assert_fits(table)
        shown = [stages.render_line(y).text for y in range(stages.size.height)]
        for (_title, _amount, _currency, stage), (cents, _) in zip(DEALS, seeded["amounts"].values()):
            line = next(line for line in shown if stage in line)
            assert format_money_short(cents) in line.split(), line


async def test_board_at_80x24_shows_card_amounts_and_column_totals_whole(seeded) -> None:  # noqa: ANN001
    app = make_app(open_database(seeded["path"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        # Three whole columns of 26 cells; the fourth does not peek in at the edge with the first
        # letters of its name and total (" P", " 9").
        assert lines[2][78:] == lines[3][78:] == "  "
        totals = lines[3].split()
        assert [t for t in totals if t not in ("·", "weighted")] == ["3k", "300", "988k", "198k", "10B", "4B"]
        cards = "\n".join(lines[5:])
        assert "3,000" in cards and "987,654.32" in cards  # in full where they fit
        assert "EUR 10B" in cards  # EUR 9,999,999,999.99 and its days in stage do not fit in 22 cells


def test_fit_widths_gives_way_in_order() -> None:
    from crmtui.widgets.fit_table import fit_widths

    # id, text (8..30), amount (5..12), date (drop 1): 4 columns with padding 2 each.
    least, natural, drop, shrinks = [3, 8, 5, 10], [3, 30, 12, 10], [0, 0, 0, 1], [False, True, False, False]
    assert fit_widths(least, natural, drop, shrinks, 100, 2) == [3, 30, 12, 10]  # room for everything
    assert fit_widths(least, natural, drop, shrinks, 41, 2) == [3, 8, 12, 10]  # the amount in full before text
    assert fit_widths(least, natural, drop, shrinks, 40, 2) == [3, 14, 5, 10]  # no room for it: compact
    assert fit_widths(least, natural, drop, shrinks, 30, 2) == [3, 9, 12, None]  # the date goes first
    assert fit_widths(least, natural, drop, shrinks, 26, 2) == [3, 12, 5, None]  # then the amount is compact
    assert fit_widths(least, natural, drop, shrinks, 20, 2) == [3, 6, 5, None]  # text narrower than its least
    assert fit_widths(least, natural, drop, shrinks, 100, 2, fill=True) == [3, 67, 12, 10]  # text takes what is left
