"""The board as a user meets it: Pilot key presses, then what the screen shows and what the
database holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual import events

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen, BoardView
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.lost_reason import LostReasonScreen
from crmtui.screens.quick_add import QuickAddScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.widgets.stage_column import StageColumn
from tests.board_seed import seed_board
from tests.conftest import fetch, snapshot_of

SIZE = (120, 40)


def column_text(column: StageColumn) -> str:
    return "\n".join(column.render_line(y).text for y in range(column.size.height))


def board(app) -> BoardScreen:  # noqa: ANN001
    assert isinstance(app.screen, BoardScreen), app.screen
    return app.screen


def column(app, name: str) -> StageColumn:  # noqa: ANN001
    return next(c for c in board(app).columns if c.stage.name == name)


def focused_title(app) -> str | None:  # noqa: ANN001
    deal_id = board(app).focused_deal_id()
    return None if deal_id is None else fetch(app.database.path, "SELECT title FROM deal WHERE id = ?", deal_id)[0][0]


def summary(app) -> str:  # noqa: ANN001
    return str(board(app).query_one("#board-summary").render())


def stage_of(db_path: Path, deal_id: int) -> str:
    return fetch(db_path, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = ?", deal_id)[0][0]


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> dict[str, int]:  # noqa: ANN001
    db = open_database(db_path)
    ids = seed_board(db)
    db.close()
    return ids


def _app(db_path: Path):  # noqa: ANN202
    return make_app(open_database(db_path))


async def test_board_is_home_and_shows_stages_totals_and_cards(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = board(app)
        assert [c.stage.name for c in screen.columns][:3] == ["Unqualified", "Qualification", "Writing proposal"]
        summary = str(screen.query_one("#board-summary").render())
        assert "6 open" in summary and "pipeline 35,800" in summary and "weighted 17,760" in summary
        negotiation = column_text(column(app, "Negotiation"))
        assert "Negotiation" in negotiation and "15k · weighted 10.5k" in negotiation
        assert "Team workshop" in negotiation and "30d ⚠" in negotiation and "due today" in negotiation
        assert "★★★★★" in negotiation
        unqualified = column_text(column(app, "Unqualified"))
        assert "overdue 20 Nov" in unqualified and "Bolt" in unqualified
        assert "Jane Roe" in column_text(column(app, "Qualification"))  # a person, no company
        assert "no next step" in column_text(column(app, "Qualification"))
        won = column_text(column(app, "Won"))
        assert "Retainer" in won and "23 Nov" in won and "Archive" not in won  # older than 30 days
        assert "Price too high" in column_text(column(app, "Lost"))
        assert isinstance(app.focused, BoardView)
        assert focused_title(app) == "Brand refresh"


async def test_navigation_keys(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen = []
        for key in ("j", "k", "down", "up", "l", "right", "h", "left", "l", "l", "l", "l", "G", "g", "end", "home"):
            await pilot.press(key)
            seen.append(focused_title(app))
        assert seen == [
            "SEO audit", "Brand refresh", "SEO audit", "Brand refresh", "Logo design", None, "Logo design",
            "Brand refresh", "Logo design", None, "Website relaunch", "Team workshop", "Care plan", "Team workshop",
            "Care plan", "Team workshop",
        ]
        for _ in range(12):
            await pilot.press("l")
        assert board(app).active_column.stage.name == "N/A"  # stops at the last column
        for _ in range(12):
            await pilot.press("h")
        assert board(app).active_column.stage.name == "Unqualified"


async def test_page_keys_and_mouse_wheel_in_a_long_column(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = open_database(db_path)
    with db.session() as s:
        for i in range(40):
            create_deal(s, f"Deal {i:02d}", amount=str(1000 + i))
    db.close()
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = column(app, "Unqualified")
        capacity = first.capacity
        assert capacity == 6
        await pilot.press("pagedown")
        assert focused_title(app) == "Deal 06" and "7–12 of 40" in column_text(first)  # a page on
        await pilot.press("pagedown", "pagedown", "pageup")
        assert focused_title(app) == "Deal 12"
        def wheel(kind: type[events.MouseEvent], delta: int) -> None:
            first.post_message(kind(first, 3, 8, 0, delta, 0, False, False, False))

        wheel(events.MouseScrollDown, 1)
        wheel(events.MouseScrollDown, 1)
        await pilot.pause()
        assert focused_title(app) == "Deal 14"
        wheel(events.MouseScrollUp, -1)
        await pilot.pause()
        assert focused_title(app) == "Deal 13"
        await pilot.press("end")
        assert focused_title(app) == "Deal 39" and "35–40 of 40" in column_text(first)
        assert "Deal 39" in column_text(first)


async def test_move_forward_and_back_saves_and_keeps_focus(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    deal = seeded["Brand refresh"]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("greater_than_sign")
        assert stage_of(db_path, deal) == "Qualification"
        assert fetch(db_path, "SELECT count(*) FROM stage_change WHERE deal_id = ? AND changed_at LIKE '2026-11-23%'"
                     , deal) == [(2,)]  # created + moved
        assert board(app).active_column.stage.name == "Qualification" and focused_title(app) == "Brand refresh"
        assert "Brand refresh" in column_text(column(app, "Qualification"))
        assert "Brand refresh" not in column_text(column(app, "Unqualified"))
        assert column_text(column(app, "Unqualified")).splitlines()[0].strip().endswith("1")
        await pilot.press("shift+right")
        assert stage_of(db_path, deal) == "Writing proposal"
        await pilot.press("less_than_sign")
        await pilot.press("shift+left")
        assert stage_of(db_path, deal) == "Unqualified" and focused_title(app) == "Brand refresh"
        before = snapshot_of(db_path)
        await pilot.press("less_than_sign")  # already in the first stage: a message, no change
        assert snapshot_of(db_path) == before
        assert any("first open stage" in n.message for n in app._notifications)


async def test_won_records_close_date(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("w")
        deal = seeded["Brand refresh"]
        assert fetch(db_path, "SELECT closed_on FROM deal WHERE id = ?", deal) == [("2026-11-23",)]
        assert stage_of(db_path, deal) == "Won"
        assert board(app).active_column.stage.name == "Won" and focused_title(app) == "Brand refresh"
        assert "Brand refresh" in column_text(column(app, "Won"))


async def test_lost_asks_for_a_reason_from_the_list(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("x")
        assert isinstance(app.screen, LostReasonScreen)
        await pilot.press("down", "enter")  # the second reason in the list
        deal = seeded["Brand refresh"]
        assert fetch(db_path, "SELECT lost_reason, closed_on FROM deal WHERE id = ?", deal) == [
            ("Chose a competitor", "2026-11-23")
        ]
        assert stage_of(db_path, deal) == "Lost"
        assert "Chose a competitor" in column_text(column(app, "Lost"))


async def test_lost_with_a_typed_reason_and_cancel(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = snapshot_of(db_path)
        await pilot.press("x", "escape")
        assert isinstance(app.screen, BoardScreen) and snapshot_of(db_path) == before
        await pilot.press("x", "tab", "enter")  # empty text: an error on the field, nothing saved
        assert "type a reason" in str(app.screen.query_one("#lost-error").render())
        assert snapshot_of(db_path) == before
        await pilot.press(*"went quiet", "enter")
        assert fetch(db_path, "SELECT lost_reason FROM deal WHERE id = ?", seeded["Brand refresh"]) == [("went quiet",)]
        # Typing straight over the list writes the reason; b and d do not switch screens.
        await pilot.press("h", "h", "h", "h", "h", "h", "h")  # back to Unqualified
        assert focused_title(app) == "SEO audit"
        await pilot.press("x", *"budget cut", "enter")
        assert fetch(db_path, "SELECT lost_reason FROM deal WHERE id = ?", seeded["SEO audit"]) == [("budget cut",)]
        assert isinstance(app.screen, BoardScreen)


async def test_undo_restores_each_change_and_survives_restart(db_path: Path, seeded) -> None:  # noqa: ANN001
    deal = seeded["Brand refresh"]
    row = "SELECT stage_id, stage_entered_at, closed_on, lost_reason, updated_at, deleted_at FROM deal WHERE id = ?"
    original = fetch(db_path, row, deal)
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("greater_than_sign")
        moved = fetch(db_path, row, deal)
        await pilot.press("w")
        await pilot.press("u")
        assert fetch(db_path, row, deal) == moved
        assert board(app).active_column.stage.name == "Qualification" and focused_title(app) == "Brand refresh"
        await pilot.press("q")
    app = _app(db_path)  # a restart: the log is in the database
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("u")
        assert fetch(db_path, row, deal) == original
        assert fetch(db_path, "SELECT count(*) FROM stage_change WHERE deal_id = ?", deal) == [(1,)]
        assert "Brand refresh" in column_text(column(app, "Unqualified"))
        await pilot.press("u")  # nothing left from the board
        assert summary(app).endswith("Nothing to undo")


async def test_quick_actions_say_what_they_did_on_the_summary_line(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        toasts = len(app._notifications)
        await pilot.press("greater_than_sign")
        assert summary(app).endswith("Moved to Qualification · u undoes") and "6 open" in summary(app)
        await pilot.press("w")
        assert summary(app).endswith("Won · u undoes") and "5 open" in summary(app)
        await pilot.press("u")
        assert summary(app).endswith("Undone: won “Brand refresh”")
        await pilot.press("x", "down", "enter")
        assert summary(app).endswith("Lost: Chose a competitor · u undoes")
        await pilot.press("u", "delete", "y")
        assert summary(app).endswith("Moved to the trash · u undoes")
        await pilot.press("u", "u", "u")
        assert summary(app).endswith("Nothing to undo")
        assert len(app._notifications) == toasts  # no toasts for them
        await pilot.press("less_than_sign")  # an error stays a toast, to be seen
        assert any("first open stage" in n.message for n in app._notifications)


async def test_the_notice_keeps_its_place_on_a_narrow_screen_and_goes(db_path: Path, seeded, monkeypatch) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        assert summary(app).startswith("Sales · 6 open") and "…" not in summary(app)
        await pilot.press("greater_than_sign")
        line = summary(app)
        assert line.startswith("Sales · 6 open") and line.endswith("…  Moved to Qualification · u undoes")
        assert len(line) == 60 - 2  # the padding of the line
        monkeypatch.setattr("crmtui.screens.board.NOTICE_SECONDS", 0.001)
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert summary(app).startswith("Sales · 6 open") and "Moved" not in summary(app)


async def test_delete_asks_then_trashes_and_undo_restores(db_path: Path, seeded) -> None:  # noqa: ANN001
    deal = seeded["Brand refresh"]
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert fetch(db_path, "SELECT deleted_at FROM deal WHERE id = ?", deal) == [(None,)]
        await pilot.press("delete", "y")
        assert fetch(db_path, "SELECT deleted_at IS NOT NULL FROM deal WHERE id = ?", deal) == [(1,)]
        assert "Brand refresh" not in column_text(column(app, "Unqualified"))
        assert focused_title(app) == "SEO audit"
        await pilot.press("u")
        assert fetch(db_path, "SELECT deleted_at FROM deal WHERE id = ?", deal) == [(None,)]
        assert focused_title(app) == "Brand refresh"


async def test_u_on_the_board_undoes_a_trash_done_on_the_deal_page(db_path: Path, seeded) -> None:  # noqa: ANN001
    deal = seeded["Brand refresh"]
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert focused_title(app) == "Brand refresh"
        await pilot.press("enter")  # its page
        assert not isinstance(app.screen, BoardScreen)
        await pilot.press("delete", "y")
        await pilot.pause()
        board(app)
        assert fetch(db_path, "SELECT deleted_at IS NOT NULL FROM deal WHERE id = ?", deal) == [(1,)]
        assert "Brand refresh" not in column_text(column(app, "Unqualified"))
        await pilot.press("u")
        await pilot.pause()
        assert fetch(db_path, "SELECT deleted_at FROM deal WHERE id = ?", deal) == [(None,)]
        assert "Brand refresh" in column_text(column(app, "Unqualified"))
        assert focused_title(app) == "Brand refresh"


async def test_quick_add_creates_a_deal_in_the_focused_stage(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("l")  # Qualification
        await pilot.press("n")
        assert isinstance(app.screen, QuickAddScreen)
        await pilot.press(*"Photo shoot", "tab", *"ac")
        await pilot.pause()
        await pilot.press("right")  # accept the suggestion "Acme"
        await pilot.press("tab", *"2.500", "tab", "tab", *"2026-12-24", "enter")
        assert isinstance(app.screen, BoardScreen)
        rows = fetch(
            db_path,
            "SELECT d.amount_cents, d.expected_close, c.name, s.name FROM deal d JOIN company c ON c.id = d.company_id"
            " JOIN stage s ON s.id = d.stage_id WHERE d.title = 'Photo shoot'",
        )
        assert rows == [(250000, "2026-12-24", "Acme", "Qualification")]
        assert fetch(db_path, "SELECT count(*) FROM company WHERE name = 'Acme'") == [(1,)]
        assert focused_title(app) == "Photo shoot"
        # The follow-up rule (on by default) gave it a task: the card shows it as the next step.
        ((body, due),) = fetch(db_path, "SELECT a.body, a.due_on FROM activity a JOIN deal d ON d.id = a.deal_id"
                                        " WHERE d.title = 'Photo shoot' AND a.kind = 'task'")
        assert body == "Follow up"
        day = dt.date.fromisoformat(due)
        assert f"next {day.day} {day:%b}" in column_text(column(app, "Qualification"))
        await pilot.press("u")  # undo the new deal: it goes to the trash, with its task
        assert fetch(db_path, "SELECT deleted_at IS NOT NULL FROM deal WHERE title = 'Photo shoot'") == [(1,)]
        assert fetch(db_path, "SELECT a.deleted_at IS NOT NULL FROM activity a JOIN deal d ON d.id = a.deal_id"
                              " WHERE d.title = 'Photo shoot'") == [(1,)]
        assert "Photo shoot" not in column_text(column(app, "Qualification"))


async def test_quick_add_shows_errors_on_the_fields(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = snapshot_of(db_path)
        await pilot.press("n", "enter")
        form = app.screen
        assert isinstance(form, QuickAddScreen)
        assert "title" in str(form.query_one("#qa-title-error").render())
        await pilot.press(*"Deal", "tab", "tab", *"12,5x", "tab")  # leaving the field checks it
        assert "'12,5x' is not an amount" in str(form.query_one("#qa-amount-error").render())
        assert form.query_one("#qa-amount").has_class("-invalid-field")
        await pilot.press("tab", *"31/31/2026", "enter")
        assert "is not a date" in str(form.query_one("#qa-close-error").render())
        assert isinstance(app.screen, QuickAddScreen) and snapshot_of(db_path) == before
        # Fixing the amount clears its error as you type.
        form.query_one("#qa-amount").value = "12,500"
        await pilot.pause()
        assert not form.query_one("#qa-amount-error").display
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen) and snapshot_of(db_path) == before
        # A company name that looks like markup is just a name.
        await pilot.press("n")
        form = app.screen
        form.query_one("#qa-title").value = "Bracket deal"
        form.query_one("#qa-company").value = "[b]Co"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert fetch(db_path, "SELECT c.name FROM deal d JOIN company c ON c.id = d.company_id "
                     "WHERE d.title = 'Bracket deal'") == [("[b]Co",)]


async def test_filter_as_you_type_and_escape_clears(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"acme")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        texts = "\n".join(column_text(c) for c in board(app).columns)
        assert "Website relaunch" in texts and "Team workshop" in texts and "Brand refresh" not in texts
        assert "filter acme" in str(board(app).query_one("#board-summary").render())
        await pilot.press("enter")  # back to the cards, the filter stays
        assert isinstance(app.focused, BoardView)
        assert focused_title(app) in {"Website relaunch", "Team workshop"}
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"#seo", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "SEO audit" in column_text(column(app, "Unqualified"))
        assert "Brand refresh" not in column_text(column(app, "Unqualified"))
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Brand refresh" in column_text(column(app, "Unqualified"))
        assert "filter" not in str(board(app).query_one("#board-summary").render())
        # esc while typing clears too, and gives the keys back to the board.
        await pilot.press("slash", *"bolt")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "SEO audit" not in column_text(column(app, "Unqualified"))
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.focused, BoardView) and not board(app).query_one("#board-filter").display
        assert "SEO audit" in column_text(column(app, "Unqualified"))


async def test_sort_cycles_and_closed_columns_toggle(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = column_text(column(app, "Negotiation"))
        assert text.index("Team workshop") < text.index("Care plan")  # expected close
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "sort: amount" in str(board(app).query_one("#board-summary").render())
        text = column_text(column(app, "Negotiation"))
        assert text.index("Care plan") < text.index("Team workshop")
        await pilot.press("c")
        assert [c.stage.name for c in board(app).visible_columns()][-1] == "Contract out for signature"
        assert "closed hidden" in str(board(app).query_one("#board-summary").render())
        await pilot.press("c")
        assert [c.stage.name for c in board(app).visible_columns()][-1] == "N/A"


async def test_enter_opens_the_deal_and_b_comes_back(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert not isinstance(app.screen, BoardScreen)
        assert type(app.screen).__name__.startswith("Deal")
        await pilot.press("b")
        assert isinstance(app.screen, BoardScreen) and focused_title(app) == "Brand refresh"


async def test_privacy_masks_every_amount(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = board(app)
        assert "12,500" in column_text(column(app, "Proposal sent"))
        await pilot.press("dollar_sign")
        await pilot.pause()
        everything = "\n".join(column_text(c) for c in screen.columns) + str(screen.query_one("#board-summary").render())
        for amount in ("12,500", "12.5k", "35,800", "17,760", "15k", "10.5k", "4,000"):
            assert amount not in everything
        assert "•••" in everything
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert "12,500" in column_text(column(app, "Proposal sent"))


async def test_changes_from_another_process_appear(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        other = open_database(db_path)
        with other.session() as s:
            create_deal(s, "From the shell", amount="700")
        other.close()
        board(app).check_external_change()  # what the timer and regaining focus do
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "From the shell" in column_text(column(app, "Unqualified"))
        assert focused_title(app) == "Brand refresh"  # focus stays on the same deal
        other = open_database(db_path)
        with other.session() as s:
            create_deal(s, "Second one", amount="800")
        other.close()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Second one" in column_text(column(app, "Unqualified"))


async def test_own_changes_do_not_reload_the_board(db_path: Path, seeded, monkeypatch) -> None:  # noqa: ANN001
    """A reload of the whole board costs a tenth of a second of CPU at 100,000 deals: the board's
    own moves and undo are on screen already and must not set one off; another program's do."""
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        reloads: list[dict] = []
        monkeypatch.setattr(board(app), "reload", lambda **changes: reloads.append(changes))
        await pilot.press("greater_than_sign", "greater_than_sign", "less_than_sign", "u")  # the back move undone
        assert stage_of(db_path, seeded["Brand refresh"]) == "Writing proposal"
        board(app).check_external_change()  # what the timer and regaining focus do
        assert reloads == []
        other = open_database(db_path)
        with other.session() as s:
            create_deal(s, "From the shell", amount="700")
        other.close()
        board(app).check_external_change()
        assert len(reloads) == 1


async def test_pipeline_switch(db_path: Path, seeded) -> None:  # noqa: ANN001
    conn = open_database(db_path).raw()
    pid = conn.execute(
        "INSERT INTO pipeline (name, position, is_default, created_at) VALUES ('Workshops', 1, 0, '2026-01-01')"
    ).lastrowid
    conn.executemany(
        "INSERT INTO stage (pipeline_id, name, position, probability, kind) VALUES (?, ?, ?, ?, ?)",
        [(pid, "Inquiry", 0, 20, "open"), (pid, "Booked", 1, 100, "won"), (pid, "Cancelled", 2, 0, "lost")],
    )
    conn.close()
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [c.stage.name for c in board(app).columns] == ["Inquiry", "Booked", "Cancelled"]
        assert "Workshops" in str(board(app).query_one("#board-summary").render())
        await pilot.press("n", *"Offsite", "enter")
        assert stage_of(db_path, fetch(db_path, "SELECT id FROM deal WHERE title = 'Offsite'")[0][0]) == "Inquiry"
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert board(app).columns[0].stage.name == "Unqualified"


async def test_pipeline_key_hidden_with_one_pipeline(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "pipeline" not in [b.binding.action for b in app.screen.active_bindings.values()
                                  if app.screen.check_action(b.binding.action, ()) is not False]


async def test_mouse_click_focuses_a_card(db_path: Path, seeded) -> None:  # noqa: ANN001
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("l")
        target = column(app, "Unqualified")
        await pilot.click(target, offset=(5, 3 + 5 + 1))  # the second card
        assert board(app).active_column is target and focused_title(app) == "SEO audit"


async def test_small_terminal_scrolls_sideways_and_keeps_the_card_visible(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = open_database(db_path)
    with db.session() as s:
        for i in range(30):
            create_deal(s, f"Deal {i:02d}", amount=str(1000 + i), stage="N/A" if i < 3 else "Negotiation")
    db.close()
    app = _app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = board(app).query_one(BoardView)
        await pilot.pause()
        active = board(app).active_column
        assert active.stage.name == "Negotiation"  # the first column with cards
        assert view.scroll_offset.x > 0
        visible = active.region.intersection(view.region)
        assert visible.width == active.region.width  # the whole column is on screen
        await pilot.press("G")
        assert focused_title(app) == "Deal 29" and "Deal 29" in column_text(active)
        await pilot.press("l", "l", "l", "l")
        active = board(app).active_column
        assert active.stage.name == "N/A"
        await pilot.pause()
        assert active.region.intersection(view.region).width == active.region.width


async def test_empty_database_explains_how_to_start(db_path: Path) -> None:
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        empty = board(app).query_one("#board-empty")
        text = str(empty.render())
        assert empty.display and "n" in text and "crmtui import FILE" in text and "press I" in text
        assert "crmtui demo" in text
        assert not board(app).query_one(BoardView).display
        await pilot.press("n", *"First deal", "enter")
        assert not empty.display and board(app).query_one(BoardView).display
        assert focused_title(app) == "First deal"


async def test_titles_with_markup_and_a_deal_deleted_elsewhere(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = open_database(db_path)
    with db.session() as s:
        odd = create_deal(s, "Fix [red]logo[/] {now}", company="Co {x}", amount="100").id
        gone = create_deal(s, "Gone soon", amount="200").id
    db.close()
    app = _app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Fix [red]logo[/] {now}" in column_text(column(app, "Unqualified"))
        await pilot.press("greater_than_sign", "w", "u")
        assert stage_of(db_path, odd) == "Qualification"
        await pilot.press("h", "j")
        assert board(app).focused_deal_id() == gone
        other = open_database(db_path)
        with other.session() as s:
            from crmtui.store.deals import delete_deal

            delete_deal(s, gone)
        other.close()
        await pilot.press("w")  # a message, and the card leaves the board
        assert "Gone soon" not in column_text(column(app, "Unqualified"))
        assert fetch(db_path, "SELECT closed_on FROM deal WHERE id = ?", gone) == [(None,)]
