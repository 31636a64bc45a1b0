"""The dashboard as a person meets it: `d` from anywhere, filters from the keyboard, privacy,
choosing a bar / row / card opens the deals behind it, and snapshots at 120x40 and 80x24.
Data: the hand-made history of tests/test_reports_data.py (now = 2026-11-23 09:30)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList

from crmtui.app import make_app
from crmtui.screens.dashboard import DashboardScreen, TagPicker
from crmtui.screens.deal_list import DealListScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.store.reports import Drill, ReportFilter
from crmtui.widgets.charts import BarChart
from crmtui.widgets.stat_card import StatCard
from tests.test_reports_data import build


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> tuple[Path, dict[str, int]]:  # noqa: ANN001
    db = open_database(db_path)
    ids = build(db)
    db.close()
    return db_path, ids


async def settle(pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_dashboard(pilot) -> DashboardScreen:  # noqa: ANN001
    await pilot.pause()
    await pilot.press("d")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DashboardScreen)
    return pilot.app.screen


def card_text(screen: DashboardScreen, card_id: str) -> str:
    return str(screen.query_one(f"#{card_id}", StatCard).render())


def list_titles(app) -> list[str]:  # noqa: ANN001
    screen = app.screen
    assert isinstance(screen, DealListScreen)
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_d_opens_the_dashboard_with_the_figures(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        assert "12,000" in card_text(screen, "open-pipeline") and "3 deals open" in card_text(screen, "open-pipeline")
        assert "4,800" in card_text(screen, "weighted")
        assert "60%" in card_text(screen, "win-rate") and "3 of 5 closed" in card_text(screen, "win-rate")
        assert "110.3 days" in card_text(screen, "cycle")
        assert card_text(screen, "no-next-step").startswith("2") and card_text(screen, "aging").startswith("1")
        sales = screen.query_one("#chart-sales", BarChart)
        # Rolling, 24 Nov 2025 – 23 Nov 2026, across the year boundary.
        assert [b.label for b in sales.bars][:3] == ["Nov 25", "Dec 25", "Jan 26"]
        assert [b.value for b in sales.bars if b.value] == [1000_00, 700_00, 3000_00]
        # Pressing d again does nothing: no second dashboard.
        depth = len(app.screen_stack)
        await pilot.press("d")
        await pilot.pause()
        assert len(app.screen_stack) == depth and app.screen is screen


async def test_last_12_months_shows_the_range_it_counts(seeded) -> None:  # noqa: ANN001
    from tests.test_reports import _edge_deals

    db_path, _ = seeded
    db = open_database(db_path)
    _edge_deals(db)  # won on 23 Nov 2025 (out), 24 Nov 2025 (in) and today
    db.close()
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        assert "Last 12 months (2025-11-24 – 2026-11-23)" in str(screen.query_one("#dash-filters").render())
        # Won: D1, D3, D9, In, Today; lost: D2, D4. Out is a day early.
        assert "5 of 7 closed" in card_text(screen, "win-rate")
        sales = screen.query_one("#chart-sales", BarChart)
        assert [(b.label, b.value) for b in sales.bars[:2]] == [("Nov 25", 50_00), ("Dec 25", 0)]
        assert (sales.bars[-1].label, sales.bars[-1].value) == ("Nov 26", 3000_00 + 30_00)


async def test_enter_on_a_bar_opens_its_deals(seeded, monkeypatch) -> None:  # noqa: ANN001
    db_path, ids = seeded
    app = make_app(open_database(db_path))
    opened: list[tuple[str, int]] = []
    monkeypatch.setattr(app, "open_record", lambda kind, record_id: opened.append((kind, record_id)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        chart = screen.query_one("#chart-sales", BarChart)
        chart.focus()
        await pilot.press("end")  # Nov 2026
        assert chart.bars[chart.cursor].key == Drill("won", "2026-11")
        await pilot.press("enter")
        await settle(pilot)
        assert list_titles(app) == ["Gamma"]
        assert "Deals won in Nov 2026" in str(app.screen.query_one("#deal-list-title").render())
        await pilot.press("enter")
        assert opened == [("deal", ids["D3"])]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        # Pipeline generated, Dec 2025 (the second bar): D2 then D1, newest first.
        screen.query_one("#chart-generated", BarChart).focus()
        await pilot.press("home", "down", "enter")
        await settle(pilot)
        assert list_titles(app) == ["Beta", "Alpha"]


async def test_click_on_a_bar_opens_its_deals(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        chart = screen.query_one("#chart-new", BarChart)
        # Row 12 of the chart (Nov 2026) sits under the top border: y = 1 + 12.
        await pilot.click("#chart-new", offset=(4, 13))
        await settle(pilot)
        assert chart.bars[12].key == Drill("created", "2026-11")
        assert list_titles(app) == ["Eta", "Zeta", "Epsilon"]


async def test_breakdown_rows_and_cards_open_their_deals(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        table = screen.query_one("#table-lost", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["Timing", "Price too high"]
        table.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert list_titles(app) == ["Beta"]
        await pilot.press("escape")
        funnel = screen.query_one("#table-funnel", DataTable)
        assert [str(funnel.get_row_at(i)[1]) for i in range(funnel.row_count)] == ["7", "5", "4", "4", "3", "2", "2"]
        funnel.focus()
        await pilot.press("down", "down", "down", "down", "enter")  # Negotiation
        await settle(pilot)
        assert list_titles(app) == ["Epsilon", "Gamma", "Alpha"]
        await pilot.press("escape")
        # A click on a row does the same as enter: Timing (the first row, under the header).
        screen.query_one("#dash-body").scroll_to_widget(table, animate=False)
        await pilot.pause()
        await pilot.click("#table-lost", offset=(4, 2))
        await settle(pilot)
        assert list_titles(app) == ["Delta"]
        await pilot.press("escape")
        await pilot.pause()
        screen.query_one("#no-next-step", StatCard).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert list_titles(app) == ["Eta", "Epsilon"]


async def test_filters_from_the_keyboard(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        await pilot.press("p", "p", "p", "p")  # 12m -> ytd -> all -> month -> quarter
        await settle(pilot)
        assert screen.filt.period == "quarter"
        assert "This quarter" in str(screen.query_one("#dash-filters").render())
        assert "50%" in card_text(screen, "win-rate")  # won D3, lost D4
        await pilot.press("l")  # all pipelines -> Sales
        await settle(pilot)
        assert screen.filt.pipeline == "Sales"
        await pilot.press("l", "l")  # -> Workshops -> all
        await settle(pilot)
        assert screen.filt.pipeline is None
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TagPicker)
        options = app.screen.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == [
            "All tags", "branding", "seo", "website"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.filt.tag == "branding"
        assert "6,000" in card_text(screen, "open-pipeline")  # D6
        assert "Tag branding" in str(screen.query_one("#dash-filters").render())
        # From-to: Dec 2025 - Jan 2026 (won D1, lost nothing for branding).
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"2025-12-01", "tab", *"31.01.2026", "enter")
        await settle(pilot)
        assert (screen.filt.period, str(screen.filt.start), str(screen.filt.end)) == ("custom", "2025-12-01", "2026-01-31")
        assert [b.label for b in screen.query_one("#chart-sales", BarChart).bars] == ["Dec 25", "Jan 26"]
        assert "1 of 1 closed" in card_text(screen, "win-rate")


async def test_bad_from_to_is_explained_in_the_dialog(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"2026-05-01", "tab", *"2026-04-01", "enter")
        await pilot.pause()
        assert "from: 2026-05-01 is after to (2026-04-01)" in str(app.screen.query_one("#period-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.filt.period == "12m"


async def test_privacy_masks_money_and_data_changes_show(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        await pilot.press("$")
        await pilot.pause()
        assert "12,000" not in card_text(screen, "open-pipeline") and "•••" in card_text(screen, "open-pipeline")
        assert all(b == "•••" for b in [screen.query_one("#chart-sales", BarChart).value_text(1)])
        tags = screen.query_one("#table-tags", DataTable)
        assert str(tags.get_row_at(0)[1]) == "•••"
        assert "3 deals open" in card_text(screen, "open-pipeline")  # counts are not money
        await pilot.press("$")
        await pilot.pause()
        assert "12,000" in card_text(screen, "open-pipeline")
        # Another program adds a deal; the next change check reloads the figures.
        other = open_database(db_path)
        with other.session() as s:
            create_deal(s, "From the shell", amount=500)
        other.close()
        screen._check_for_changes()
        await settle(pilot)
        assert "12,500" in card_text(screen, "open-pipeline") and "4 deals open" in card_text(screen, "open-pipeline")


async def test_deal_list_pages_from_sqlite(seeded) -> None:  # noqa: ANN001
    db_path, _ = seeded
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(DealListScreen(ReportFilter("all"), Drill("open"), page_size=2))
        await settle(pilot)
        assert list_titles(app) == ["Eta", "Zeta"]
        assert "1–2 of 3" in str(app.screen.query_one("#deal-list-title").render())
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert list_titles(app) == ["Epsilon"]
        assert "3–3 of 3" in str(app.screen.query_one("#deal-list-title").render())
        await pilot.press("right_square_bracket")  # no page after the last
        await settle(pilot)
        assert list_titles(app) == ["Epsilon"]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert list_titles(app) == ["Eta", "Zeta"]
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(1)[4]) == "6,000"
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert str(table.get_row_at(1)[4]) == "•••••"


async def test_empty_database_dashboard(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    app = make_app(open_database(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(pilot)
        assert card_text(screen, "win-rate").splitlines()[-1] == "—"  # compact card: label, value
        assert screen.has_class("-narrow")
        assert "0" in card_text(screen, "open-deals")
        # The empty-state hint has a line of its own, not cut off at the end of the filters.
        filters = screen.query_one("#dash-filters")
        assert "Nothing to count here yet" in str(filters.render()).splitlines()[1]
        assert filters.size.height == 2
        assert screen.query_one("#open-pipeline").region.y >= filters.region.bottom
        # Compact cards too narrow for their label show its short form.
        for card_id, shown in (("weighted", "Weighted"), ("won-quarter", "Won quarter"), ("cycle", "Avg cycle"),
                               ("won-month", "Won this month"), ("no-next-step", "No next step")):
            card = screen.query_one(f"#{card_id}", StatCard)
            assert card.render().text(card.content_size.width).plain.splitlines()[0] == shown, card_id


def _snapshot_app(db_path: Path):  # noqa: ANN202
    app = make_app(open_database(db_path))
    app.sub_title = "crm.db"  # the real path differs from run to run
    return app


def test_dashboard_snapshot_120x40(seeded, snap_compare) -> None:  # noqa: ANN001
    db_path, _ = seeded

    async def run_before(pilot) -> None:  # noqa: ANN001
        await open_dashboard(pilot)

    assert snap_compare(_snapshot_app(db_path), terminal_size=(120, 40), run_before=run_before)


def test_dashboard_snapshot_80x24(seeded, snap_compare) -> None:  # noqa: ANN001
    db_path, _ = seeded

    async def run_before(pilot) -> None:  # noqa: ANN001
        await open_dashboard(pilot)

    assert snap_compare(_snapshot_app(db_path), terminal_size=(80, 24), run_before=run_before)


