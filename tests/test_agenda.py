"""The agenda screen and a whole triage pass, by key presses, asserting the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable

from crmtui.app import make_app
from crmtui.screens.agenda import AgendaScreen
from crmtui.screens.triage import TriageScreen
from crmtui.store import clock
from crmtui.store.db import Database, open_database
from crmtui.store.deals import create_deal
from crmtui.store.models import Activity
from tests.conftest import fetch

NOW = dt.datetime(2026, 11, 23, 9, 30)


@pytest.fixture
def seeded(db_path: Path):
    """Three deals that need attention for different reasons, and one that doesn't."""
    db = open_database(db_path)
    clock.set_fixed_now(NOW - dt.timedelta(days=20))
    with db.session() as s:
        stale = create_deal(s, "Stale retainer", company="Acme", amount="9000", stage="Qualification")
        overdue = create_deal(s, "Overdue call", company="Bolt", amount="4000")
        s.add(Activity(kind="task", body="Call Bolt", deal_id=overdue.id, occurred_at=clock.utcnow(),
                       created_at=clock.utcnow(), due_on=dt.date(2026, 11, 20)))
    clock.set_fixed_now(NOW)
    with db.session() as s:
        closing = create_deal(s, "Closing soon", company="Cato", amount="12000", stage="Negotiation",
                              expected_close="2026-11-25")
        fine = create_deal(s, "All good", company="Dune", amount="1000")
        s.add(Activity(kind="task", body="Send deck", deal_id=fine.id, occurred_at=NOW, created_at=NOW,
                       due_on=dt.date(2026, 11, 30)))
    ids = {"stale": stale.id, "overdue": overdue.id, "closing": closing.id, "fine": fine.id}
    yield db, ids
    clock.set_fixed_now(None)
    db.close()


def rows(app) -> list[str]:  # noqa: ANN001
    table = app.screen.query_one(DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_agenda_lists_each_section_with_its_reason(seeded) -> None:
    db, ids = seeded
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("A")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AgendaScreen)
        text = "\n".join(rows(app))
        assert "Overdue tasks (1)" in text and "task “Call Bolt” was due 3 days ago" in text
        assert "Stale deals (2)" in text and "no activity for 20 days" in text
        assert "Closing soon or overdue (1)" in text and "expected close in 2 days" in text
        assert "All good" not in text
        # enter on a deal row opens that deal
        table = app.screen.query_one(DataTable)
        target = next(i for i, r in enumerate(rows(app)) if r.split(" | ")[1] == "Closing soon")
        table.move_cursor(row=target)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, AgendaScreen)
        assert app.screen.record_id == ids["closing"] and app.screen.kind == "deal"


async def test_empty_agenda_says_so(db_path: Path) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("A")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.has_class("-empty")
        assert "Nothing needs you today" in str(app.screen.query_one("#agenda-empty").render())


async def test_a_whole_triage_pass(seeded, db_path: Path) -> None:
    db, ids = seeded
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("A")
        await app.workers.wait_for_complete()
        await pilot.press("exclamation_mark")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        # Overdue task first, then stale, then closing.
        assert screen.queue[0] == ids["overdue"]
        assert set(screen.queue) == {ids["overdue"], ids["stale"], ids["closing"]}
        assert "3 left" in str(screen.query_one("#triage-progress").render())
        assert "Call Bolt" in str(screen.query_one("#triage-why").render())

        # 1. Reschedule the overdue task a week out.
        await pilot.press("t")
        app.screen.query_one("Input").value = "+1w"
        await pilot.press("enter")
        await pilot.pause()
        assert fetch(db_path, "SELECT due_on FROM activity WHERE body = 'Call Bolt'") == [("2026-11-30",)]
        # 2. Log a call on it, then skip to the next deal.
        await pilot.press("c")
        app.screen.query_one("Input").value = "Spoke to Bolt, wants a quote"
        await pilot.press("enter")
        await pilot.pause()
        assert fetch(db_path, f"SELECT kind, body FROM activity WHERE deal_id = {ids['overdue']} AND kind = 'call'") == [
            ("call", "Spoke to Bolt, wants a quote")
        ]
        await pilot.press("space")
        assert screen.current in (ids["stale"], ids["closing"])
        # 3. Advance the stale deal a stage, then undo it.
        while screen.current != ids["stale"]:
            await pilot.press("space")
        await pilot.press("greater_than_sign")
        await pilot.pause()
        assert fetch(db_path, f"SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = {ids['stale']}") == [
            ("Writing proposal",)
        ]
        await pilot.press("u")
        await pilot.pause()
        assert fetch(db_path, f"SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = {ids['stale']}") == [
            ("Qualification",)
        ]
        # 4. Snooze it: it leaves the queue view (moves on).
        await pilot.press("z")
        await pilot.press("enter")  # default +1w
        await pilot.pause()
        assert fetch(db_path, f"SELECT snoozed_until FROM deal WHERE id = {ids['stale']}") == [("2026-11-30",)]
        # 5. The closing deal: mark it lost with a reason.
        while screen.current is not None and screen.current != ids["closing"]:
            await pilot.press("space")
        if screen.current == ids["closing"]:
            await pilot.press("x")
            app.screen.query_one("Input").value = "Timing"
            await pilot.press("enter")
            await pilot.pause()
            assert fetch(db_path, f"SELECT lost_reason, closed_on FROM deal WHERE id = {ids['closing']}") == [
                ("Timing", "2026-11-23")
            ]
            # ...and undo that too: the deal is open again.
            await pilot.press("u")
            await pilot.pause()
            assert fetch(db_path, f"SELECT lost_reason, closed_on FROM deal WHERE id = {ids['closing']}") == [
                (None, None)
            ]
            assert screen.current == ids["closing"]
            await pilot.press("w")
            await pilot.pause()
            assert fetch(db_path, f"SELECT s.kind FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = {ids['closing']}") == [
                ("won",)
            ]
        assert screen.current is None
        assert "nothing left" in str(screen.query_one("#triage-progress").render())
        await pilot.press("escape")
        assert isinstance(app.screen, AgendaScreen)


def test_agenda_snapshot(seeded, snap_compare) -> None:
    db, _ids = seeded
    app = make_app(db)
    app.sub_title = "crm.db"

    async def open_agenda(pilot) -> None:  # noqa: ANN001
        await pilot.press("A")
        await app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_agenda)


async def test_triage_starts_from_the_board_too(seeded) -> None:
    db, ids = seeded
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
        assert app.screen.queue[0] == ids["overdue"]
        await pilot.press("escape")
        assert not isinstance(app.screen, TriageScreen)


async def test_the_app_opens_on_the_agenda_when_asked_and_something_is_due(seeded) -> None:
    from crmtui.store.settings import set_setting

    db, _ids = seeded
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, AgendaScreen)  # the rule is off by default
    with db.session() as s:
        set_setting(s, "open-agenda-on-start", "on")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AgendaScreen)
        await pilot.press("escape")
        assert type(app.screen).__name__ == "BoardScreen"


async def test_nothing_due_means_the_board_even_with_the_rule_on(db_path: Path) -> None:
    from crmtui.store.settings import set_setting

    db = open_database(db_path)
    with db.session() as s:
        set_setting(s, "open-agenda-on-start", "on")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"


async def test_triage_with_nothing_to_do(db_path: Path) -> None:
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("exclamation_mark")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
        assert "Nothing needs attention" in str(app.screen.query_one("#triage-done").render())
        # Deal keys are hidden and do nothing.
        assert app.screen.check_action("won", ()) is False and app.screen.check_action("leave", ()) is True
        await pilot.press("w", "x", "space")
        assert isinstance(app.screen, TriageScreen)


async def test_agenda_reports_a_database_error_and_keeps_running(seeded, monkeypatch) -> None:
    from crmtui.screens import agenda as agenda_module
    from crmtui.store.errors import DatabaseError

    db, _ids = seeded

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise DatabaseError("crm.db: the database file is damaged or not a database")

    monkeypatch.setattr(agenda_module, "compute_agenda", broken)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("A")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, AgendaScreen)
        assert any("damaged" in n.message for n in app._notifications)
