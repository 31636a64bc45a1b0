"""Many writers at once: the app and crmtui in other shells adding, moving and importing deals.
Every write ends up in the database and on the board; a write waits for the others, and past the
wait says that another crmtui is writing, keeping what the user typed."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import Input, Static
from typer.testing import CliRunner

from crmtui.app import make_app
from crmtui.cli import app as cli
from crmtui.screens.board import BoardScreen
from crmtui.screens.deal_detail import DealDetailScreen
from crmtui.screens.edit_forms import FormScreen
from crmtui.store import board_actions
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal, get_deal
from tests.conftest import fetch, snapshot_of

HOLDER = """
import sys
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
db = open_database(sys.argv[1], daily_backup=False)
with db.session() as s:
    create_deal(s, "Held")
    print("writing", flush=True)
    sys.stdin.readline()
db.close()
"""


@contextmanager
def another_crmtui_writing(db_path: Path) -> Iterator[None]:
    """Another crmtui process in the middle of a change (holding the write lock) until the block
    ends; then it commits its change (a deal called "Held")."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "writing\n"
        yield
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0


def waited_message(db_path: Path) -> str:
    return f"{db_path}: another crmtui is writing to this database (waited 0.2 s); try again"  # conftest's timeout


@pytest.fixture
def one_deal(db_path: Path) -> Path:
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Website relaunch", company="Acme", amount="12500")
    db.close()
    return db_path


def test_a_command_waits_for_another_writer_then_says_so_and_writes_nothing(one_deal: Path) -> None:
    before = snapshot_of(one_deal)
    with another_crmtui_writing(one_deal):
        result = CliRunner().invoke(cli, ["--db", str(one_deal), "add", "deal", "Mine"])
        assert snapshot_of(one_deal) == before  # (what others read meanwhile: the database as it was)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {waited_message(one_deal)}"
    assert "Traceback" not in result.output
    retried = CliRunner().invoke(cli, ["--db", str(one_deal), "add", "deal", "Mine"])
    assert retried.exit_code == 0, retried.output
    assert fetch(one_deal, "SELECT title FROM deal ORDER BY id") == [("Website relaunch",), ("Held",), ("Mine",)]


async def test_a_form_saved_while_another_crmtui_writes_stays_open_with_its_values_and_saves_on_retry(
    one_deal: Path,
) -> None:
    app = make_app(open_database(one_deal))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-title", Input).value = "Website relaunch, phase 2"
        form.query_one("#field-amount", Input).value = "14000"
        await pilot.pause()
        typed = form.values()
        with another_crmtui_writing(one_deal):
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is form
            assert form.values() == typed
            message = str(form.query_one("#form-message", Static).render())
            assert message == f"Not saved: {waited_message(one_deal)}"
            assert fetch(one_deal, "SELECT title, amount_cents FROM deal WHERE id = 1") == [("Website relaunch", 1250000)]
        await pilot.press("ctrl+s")  # again, once the other has finished
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
    assert fetch(one_deal, "SELECT title, amount_cents FROM deal ORDER BY id") == [
        ("Website relaunch, phase 2", 1400000), ("Held", 0)]


async def test_a_call_logged_in_triage_while_another_crmtui_writes_stays_in_its_prompt_and_logs_on_retry(
    one_deal: Path,
) -> None:
    from crmtui.screens.prompt import PromptScreen
    from crmtui.screens.triage import TriageScreen

    app = make_app(open_database(one_deal))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(TriageScreen([1]))
        await pilot.pause()
        await pilot.press("c", *"Budget agreed")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        with another_crmtui_writing(one_deal):
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is prompt
            assert prompt.query_one(Input).value == "Budget agreed"
            assert str(prompt.query_one("#prompt-error", Static).render()) == waited_message(one_deal)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
    assert fetch(one_deal, "SELECT kind, body FROM activity WHERE deal_id = 1 AND kind = 'call'") == [
        ("call", "Budget agreed")]


def test_a_change_holds_the_write_lock_from_its_start_so_it_never_fails_on_a_write_made_meanwhile(one_deal: Path) -> None:
    """A change reads before it writes (its checks, the undo entry). Were its transaction to take
    the write lock only at its first write, another process's commit between the two would make
    that write fail at once ("database is locked"), whatever the busy timeout."""
    import sqlite3

    db = open_database(one_deal)
    other = sqlite3.connect(one_deal, timeout=0, isolation_level=None)
    with db.session() as s:
        get_deal(s, 1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # the other one waits for us
            other.execute("UPDATE deal SET title = 'Renamed elsewhere' WHERE id = 1")
        board_actions.step(s, 1, 1)
    other.execute("UPDATE deal SET title = 'Renamed elsewhere' WHERE id = 1")  # and then goes ahead
    other.close()
    db.close()
    assert fetch(one_deal, "SELECT d.title, s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [
        ("Renamed elsewhere", "Qualification")]


async def test_a_move_made_in_the_app_right_after_another_crmtui_wrote_leaves_that_write_on_the_board(
    one_deal: Path,
) -> None:
    app = make_app(open_database(one_deal))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        db = open_database(one_deal)
        with db.session() as s:
            added = create_deal(s, "Added in a shell").id
        db.close()
        await pilot.press("g", "greater_than_sign")  # the app's own change, before the board looked again
        screen.check_external_change()  # what its timer does every few seconds
        await app.workers.wait_for_complete()
        await pilot.pause()
        unqualified, qualification = screen.board.stages[:2]
        assert screen.board.column(unqualified.id).ids == [added]
        assert screen.board.column(qualification.id).ids == [1]


# --- the app and two shells at once ------------------------------------------------------------

WRITER = Path(__file__).with_name("shell_writer.py")
WRITES = 150  # deals each shell adds and moves twice (3 x WRITES writes), besides importing IMPORTED rows
IMPORTED = 10
APP_DEALS = 40  # deals the app can move, one key press each, while the shells write


def _stage_of_each(db_path: Path, like: str) -> dict[str, str]:
    return dict(fetch(db_path, "SELECT d.title, s.name FROM deal d JOIN stage s ON s.id = d.stage_id"
                      " WHERE d.title LIKE ? AND d.deleted_at IS NULL", like))


async def test_the_app_and_two_shells_writing_at_once_lose_no_write(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    monkeypatch.setenv("CRMTUI_BUSY_TIMEOUT", "5")  # crmtui's own wait, for the app and the shells
    db = open_database(db_path)
    with db.session() as s:  # the app's deals close first, so they lead their column
        for k in range(APP_DEALS + 1):
            create_deal(s, f"App deal {k:02}", company="App Co", amount="1000",
                        expected_close=dt.date(2020, 1, 1) + dt.timedelta(days=k))
    db.close()
    names = ("Ann", "Bob")
    for name in names:
        rows = "".join(f"{name} imported {k},{name} Import Co,{500 + k},Proposal sent\n" for k in range(IMPORTED))
        (tmp_path / f"{name}.csv").write_text("title,company,amount,stage\n" + rows)

    app = make_app(open_database(db_path))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        moved = []

        async def move_the_first_card() -> None:  # of the first column, one stage on
            await pilot.press("g")
            moved.append(fetch(db_path, "SELECT title FROM deal WHERE id = ?", screen.focused_deal_id())[0][0])
            await pilot.press("greater_than_sign", "h")

        await move_the_first_card()  # (the first write loads what writing needs)
        shells = [subprocess.Popen([sys.executable, str(WRITER), str(db_path), name, str(WRITES)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in names]
        while not fetch(db_path, "SELECT 1 FROM deal WHERE title LIKE 'Bob deal%' OR title LIKE 'Ann deal%'"):
            await pilot.pause(0.05)  # the shells are starting: the app moves its deals once they write
        while any(shell.poll() is None for shell in shells) and len(moved) < APP_DEALS:
            await move_the_first_card()
        outputs = [await asyncio.to_thread(shell.communicate, timeout=120) for shell in shells]
        await move_the_first_card()  # right after the shells finished
        screen.check_external_change()  # what the board's timer does every few seconds
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = {stage.name: set(screen.board.column(stage.id).ids) for stage in screen.board.stages if stage.is_open}
        problems = [n.message for n in app._notifications if "crmtui is writing" in n.message or "locked" in n.message]

    for shell, (out, err) in zip(shells, outputs, strict=True):
        assert shell.returncode == 0, out + err
        assert "locked" not in out + err and "crmtui is writing" not in out + err
    assert problems == []
    assert moved == [f"App deal {k:02}" for k in range(len(moved))]
    assert _stage_of_each(db_path, "App deal%") == {
        f"App deal {k:02}": "Qualification" if k < len(moved) else "Unqualified" for k in range(APP_DEALS + 1)}
    for name in names:
        assert _stage_of_each(db_path, f"{name} deal%") == {f"{name} deal {i}": "Writing proposal" for i in range(WRITES)}
        assert _stage_of_each(db_path, f"{name} imported%") == {
            f"{name} imported {k}": "Proposal sent" for k in range(IMPORTED)}
        assert fetch(db_path, "SELECT count(*) FROM stage_change sc JOIN deal d ON d.id = sc.deal_id"
                              " WHERE d.title LIKE ?", f"{name} deal%") == [(3 * WRITES,)]  # added, moved twice
    assert fetch(db_path, "SELECT count(*) FROM stage_change sc JOIN deal d ON d.id = sc.deal_id"
                          " WHERE d.title LIKE 'App deal%'") == [(APP_DEALS + 1 + len(moved),)]
    assert fetch(db_path, "SELECT count(*) FROM deal") == [(APP_DEALS + 1 + len(names) * (WRITES + IMPORTED),)]
    assert fetch(db_path, "PRAGMA journal_mode") == [("wal",)]  # the imports, with the app open, stayed in WAL mode
    in_db = {}
    for stage, deal_id in fetch(db_path, "SELECT s.name, d.id FROM deal d JOIN stage s ON s.id = d.stage_id"
                                         " WHERE d.deleted_at IS NULL AND s.kind = 'open'"):
        in_db.setdefault(stage, set()).add(deal_id)
    assert {stage: ids for stage, ids in shown.items() if ids} == in_db  # the board shows every write
