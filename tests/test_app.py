"""The app shell: opening screen, empty state, help."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from crmtui.app import make_app
from crmtui.screens.help import HelpScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal


def _text(app) -> str:  # noqa: ANN001
    return "\n".join(str(s.render()) for s in app.screen.query("Static"))


async def test_empty_database_says_how_to_start(db_path: Path) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        empty = app.screen.query_one("#overview-empty")
        assert empty.display
        assert "crmtui demo" in str(empty.render()) and "crmtui import" in str(empty.render())
        assert not app.screen.query_one(DataTable).display


async def test_overview_reads_the_store_and_refreshes(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "A", amount="1000", stage="Negotiation")
        create_deal(s, "B", amount="3000", stage="Negotiation")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(DataTable)
        row = table.get_row("5")  # Negotiation
        assert [str(c) for c in row] == ["Negotiation", "open", "2", "4,000", "2,800"]
        assert "2 open deals" in str(app.screen.query_one("#overview-summary").render())
        # Another process adds a deal; `r` shows it.
        other = open_database(db_path)
        with other.session() as s:
            create_deal(s, "C", amount="500")
        other.close()
        await pilot.press("r")
        assert [str(c) for c in table.get_row("1")][2] == "1"
        assert "3 open deals" in str(app.screen.query_one("#overview-summary").render())


async def test_help_lists_the_keys_and_closes(db_path: Path) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        descriptions = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "Refresh" in descriptions and "Quit" in descriptions
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


def test_overview_snapshot(db_path: Path, snap_compare, fixed_clock) -> None:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Website relaunch", company="Acme", amount="12500", stage="Proposal sent")
        create_deal(s, "Brand refresh", company="Bolt", amount="4000")
    app = make_app(db)
    app.sub_title = "crm.db"  # the real path differs from run to run
    assert snap_compare(app, terminal_size=(120, 40))


async def test_privacy_masks_amounts(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "A", amount="1000", stage="Negotiation")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(DataTable)
        assert str(table.get_row("5")[3]) == "1,000"
        await pilot.press("$")
        assert app.privacy
        assert "1,000" not in str(table.get_row("5")[3])
        assert "1,000" not in str(app.screen.query_one("#overview-summary").render())
        await pilot.press("$")
        assert str(table.get_row("5")[3]) == "1,000"
