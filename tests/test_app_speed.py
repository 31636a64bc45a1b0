"""What keeps screens quick to open: one footer rebuild per change, cards that pick their short
value while drawing, and the garbage collector tuned when the app owns its process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets._footer import FooterKey

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.dashboard import DashboardScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.widgets.footer import AppFooter
from crmtui.widgets.stat_card import StatCard


def count_rebuilds(footer: AppFooter, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    rebuilt: list[int] = []
    original = footer.recompose

    async def counting() -> None:
        rebuilt.append(1)
        await original()

    monkeypatch.setattr(footer, "recompose", counting)
    return rebuilt


def footer_actions(footer: AppFooter) -> set[str]:
    return {key.action for key in footer.query(FooterKey)}


async def test_many_binding_changes_before_a_refresh_rebuild_the_footer_once(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(AppFooter)
        rebuilt = count_rebuilds(footer, monkeypatch)
        for _ in range(5):
            app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert len(rebuilt) == 1
        assert {"dashboard", "agenda"} <= footer_actions(footer)


async def test_a_covered_screen_rebuilds_its_footer_when_it_is_back_on_top(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Logo refresh", amount="1000")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        board = app.screen
        assert isinstance(board, BoardScreen)
        footer = board.query_one(AppFooter)
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        rebuilt = count_rebuilds(footer, monkeypatch)
        for _ in range(3):
            board.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert rebuilt == []  # hidden under the dashboard: nothing to redraw yet
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is board
        assert len(rebuilt) == 1
        assert {"screen.win", "screen.lose"} <= footer_actions(footer)


def drawn(renderable: object, width: int) -> str:
    console = Console(width=width, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def test_a_card_too_narrow_for_its_value_draws_the_short_one() -> None:
    card = StatCard("Open pipeline")
    card.show("1,208,776,250.00", "55,403 open", short="1.2B")
    narrow, wide = drawn(card.render(), 10), drawn(card.render(), 30)
    assert "1.2B" in narrow and "1,208" not in narrow
    assert "1,208,776,250.00" in wide and "1.2B" not in wide
    assert "55,403 open" in wide
    assert str(card.render()).splitlines()[0] == "1,208,776,250.00"


def run_script(script: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_app_that_owns_its_process_freezes_its_startup_objects(tmp_path: Path) -> None:
    """Run where freezing cannot touch this test run's objects: a process of its own."""
    script = f"""
import asyncio, gc
from crmtui.app import GC_YOUNG_THRESHOLD, make_app
from crmtui.store.db import open_database

async def main(own):
    before = gc.get_freeze_count()
    app = make_app(open_database({str(tmp_path / 'crm.db')!r}), own_process=own)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        print(gc.get_freeze_count() > before, gc.get_threshold()[0] == GC_YOUNG_THRESHOLD)

asyncio.run(main(False))
asyncio.run(main(True))
"""
    assert run_script(script) == ["False", "False", "True", "True"]


def test_the_board_paints_before_the_other_screens_modules_are_imported(tmp_path: Path) -> None:
    """In a process of its own: this test run has every module loaded already. The modules the
    dashboard and the board's writes need are imported in the background after the first paint."""
    db = tmp_path / "crm.db"
    subprocess.run([sys.executable, "-m", "crmtui.cli", "--db", str(db), "demo", "--deals", "30"],
                   check=True, capture_output=True, timeout=120)
    at_first_paint, later = run_script(f"""
import asyncio, sys
import crmtui.cli  # as the crmtui command starts
from crmtui.app import WARM_UP_AFTER_SECONDS, CrmApp, make_app
from crmtui.store.db import open_database

seen = []
first_paint = CrmApp._after_first_paint
def spy(self):
    seen.append("crmtui.store.reports" in sys.modules)
    first_paint(self)
CrmApp._after_first_paint = spy

async def main():
    app = make_app(open_database({str(db)!r}), own_process=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(WARM_UP_AFTER_SECONDS + 1.5)
        print(seen[0], "crmtui.store.reports" in sys.modules)

asyncio.run(main())
""")
    assert (at_first_paint, later) == ("False", "True")


def test_a_deal_won_the_moment_the_board_is_up_is_saved(tmp_path: Path) -> None:
    """The board's writes are imported on the first one when the app has not warmed up yet."""
    db = tmp_path / "crm.db"
    subprocess.run([sys.executable, "-m", "crmtui.cli", "--db", str(db), "add", "deal", "Logo refresh",
                    "--amount", "1000"], check=True, capture_output=True, timeout=120)
    printed = run_script(f"""
import asyncio, sqlite3, sys
from crmtui.app import make_app
from crmtui.store.db import open_database

async def main():
    app = make_app(open_database({str(db)!r}), own_process=True)
    async with app.run_test(size=(120, 40)) as pilot:
        loaded_before = "crmtui.store.board_actions" in sys.modules
        await pilot.press("w")
        await pilot.pause()
    kind = sqlite3.connect({str(db)!r}).execute(
        "SELECT s.kind FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.title = 'Logo refresh'").fetchone()[0]
    print(loaded_before, kind)

asyncio.run(main())
""")
    assert printed == ["False", "won"]
