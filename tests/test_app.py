"""The app shell: the board as the home screen, help, the privacy toggle."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.help import HelpScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal


async def test_home_is_the_board_and_empty_database_says_how_to_start(db_path: Path) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        empty = app.screen.query_one("#board-empty")
        assert empty.display
        assert "crmtui demo" in str(empty.render()) and "crmtui import" in str(empty.render())


async def test_help_lists_the_keys_and_closes(db_path: Path) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        descriptions = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        for described in ("Refresh", "Quit", "Undo", "Closed", "Filter", "Sort", "New", "Board"):
            assert described in descriptions
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_help_over_the_board_lists_card_keys(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "A", amount="1000")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert "Next stage" in rows and "Previous stage" in rows and "Won" in rows and "Lost" in rows
        assert "Trash" in rows and "Open" in rows and "Next card" in rows


async def test_privacy_masks_amounts(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "A", amount="1000", stage="Negotiation")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one("#board-summary")
        assert "1,000" in str(summary.render())
        await pilot.press("$")
        assert app.privacy
        assert "1,000" not in str(summary.render())
        await pilot.press("$")
        assert "1,000" in str(summary.render())
