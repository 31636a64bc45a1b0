"""Names that look like markup ("[b]Co", "[/]") are data: every screen shows them as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.app import make_app
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal

TITLE = "[x] Deal [/] with [bold]brackets"
COMPANY = "[b]Co [/b]"


@pytest.fixture
def weird(db_path: Path):
    db = open_database(db_path)
    with db.session() as s:
        deal = create_deal(s, TITLE, company=COMPANY, contact="[i]Jo", amount="1000", tags=["[tag]"],
                           expected_close="2020-01-01")
    return db, deal.id


def screen_text(app) -> str:  # noqa: ANN001
    return app.export_screenshot().replace("&#160;", " ")


@pytest.mark.parametrize("keys", [[], ["A"], ["d"], ["C"], ["P"], ["exclamation_mark"], ["ctrl+f"]])
async def test_every_screen_survives_markup_like_names(weird, keys: list[str]) -> None:
    db, _deal_id = weird
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.pause()
        if keys == ["ctrl+f"]:
            await pilot.press(*"deal")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.is_running
        if not keys:  # the board's card
            assert "[x] Deal [/]" in screen_text(app) and COMPANY.strip() in screen_text(app)


async def test_detail_pages_show_names_as_written(weird) -> None:
    db, deal_id = weird
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_record("deal", deal_id)
        await pilot.pause()
        assert TITLE in screen_text(app)
        app.open_record("company", 1)
        await pilot.pause()
        app.open_record("contact", 1)
        await pilot.pause()
        assert app.is_running


def test_the_cli_prints_names_as_written(db_path: Path) -> None:
    from typer.testing import CliRunner

    from crmtui.cli import app

    runner = CliRunner()
    added = runner.invoke(app, ["--db", str(db_path), "add", "deal", TITLE, "--company", COMPANY])
    assert added.exit_code == 0, added.output
    assert TITLE in added.stdout
    assert COMPANY.strip() in runner.invoke(app, ["--db", str(db_path), "companies", "list"]).stdout
    listed = runner.invoke(app, ["--db", str(db_path), "deals", "list"]).stdout
    assert "[x] Deal [/]" in listed and "[b]Co" in listed
    assert TITLE in runner.invoke(app, ["--db", str(db_path), "deal", "show", "1"]).stdout
    bad = runner.invoke(app, ["--db", str(db_path), "move", "1", "[nowhere]"])
    assert bad.exit_code == 1 and "unknown stage '[nowhere]'" in bad.stderr


def test_import_shows_bracketed_file_and_stage_names_as_written(tmp_path: Path, db_path: Path) -> None:
    from typer.testing import CliRunner

    from crmtui.cli import app

    csv_file = tmp_path / "[red]deals.csv"
    csv_file.write_text("title,company,stage\nSite,[b]Co,[new] stage\n")
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(db_path), "import", str(csv_file), "--create-stages"])
    assert result.exit_code == 0, result.output
    assert "[red]deals.csv" in result.output and "New stages: [new] stage" in result.output
    listed = runner.invoke(app, ["--db", str(db_path), "imports", "list"]).stdout
    assert "[red]deals.csv" in listed


BROKEN = "[/x broken"


async def test_unbalanced_markup_in_names_and_searches_never_crashes(db_path: Path) -> None:
    """A closing tag with no opening one is a MarkupError wherever text is read as markup."""
    from crmtui.store.activities import add_task

    db = open_database(db_path)
    with db.session() as s:
        deal = create_deal(s, BROKEN, company=BROKEN, contact=BROKEN, amount="1000")
        add_task(s, "deal", deal.id, BROKEN, "tomorrow")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("w")  # won: the notification names the deal
        await pilot.pause()
        app.open_record("deal", deal.id)  # breadcrumb and next task carry the names
        await pilot.pause()
        assert BROKEN in screen_text(app)
        app.open_record("company", 1)
        await pilot.pause()
        await pilot.press("C")
        await pilot.pause()
        app.screen.query_one("#list-search").value = BROKEN
        await app.workers.wait_for_complete()
        await pilot.pause()
        for action in ("agenda", "dashboard", "triage", "contacts", "trash"):
            getattr(app, f"action_{action}")()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.is_running and action in type(app.screen).__name__.lower()
