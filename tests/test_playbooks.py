"""Stage playbooks: `crmtui playbook list|add|remove`, the tasks a stage adds on every way a deal
enters it (board, triage, `crmtui move`/`won`/`lost`, the deal form, new deals, imports), never
twice while one is open, the undo of a move taking back exactly its tasks, and the settings screen."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.deal_detail import DealDetailScreen
from crmtui.screens.edit_forms import FormScreen
from crmtui.screens.settings import SettingsScreen
from crmtui.screens.triage import TriageScreen
from crmtui.store import playbooks, undo
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.store.errors import ValidationError
from tests.commands import ok, refused, run
from tests.conftest import fetch

SIZE = (120, 40)


def tasks(db_path: Path, deal_id: int = 1, *, live: bool = True) -> list[tuple]:
    """A deal's tasks: (body, due date, playbook entry), oldest first; only the live ones unless `live` is False."""
    where = " AND deleted_at IS NULL" if live else ""
    return fetch(db_path, "SELECT body, due_on, playbook_task_id FROM activity WHERE deal_id = ? AND kind = 'task'"
                          f"{where} ORDER BY id", deal_id)


def entries(db_path: Path) -> list[tuple]:
    """The live playbook entries: (stage name, task, due days)."""
    return fetch(db_path, "SELECT s.name, p.body, p.due_days FROM playbook_task p JOIN stage s ON s.id = p.stage_id"
                          " WHERE p.deleted_at IS NULL ORDER BY p.id")


@pytest.fixture
def deal_db(db_path: Path, fixed_clock) -> Path:  # noqa: ANN001
    """A deal "Website" (#1) in Unqualified, without a follow-up task; a playbook on Qualification
    (two tasks, entries #1 and #2) and on Won (#3). Today is 2026-11-23."""
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Website", amount="5000", follow_up=False)
        playbooks.add_entry(s, "Qualification", "Book the discovery call", "+2d")
        playbooks.add_entry(s, "qualification", "Send the questionnaire", "0")
        playbooks.add_entry(s, "Won", "Send the invoice", "+1w")
    db.close()
    return db_path


QUALIFIED = [("Book the discovery call", "2026-11-25", 1), ("Send the questionnaire", "2026-11-23", 2)]


# --- the store: due times, entries, what a deal entering a stage gets -------------------------------


@pytest.mark.parametrize(("typed", "days"), [
    ("+5d", 5), ("5d", 5), ("+5 d", 5), ("5", 5), ("0", 0), ("+0d", 0), ("5 days", 5), ("1 day", 1),
    ("+2w", 14), ("2W", 14), ("1 week", 7), ("3 weeks", 21),
])
def test_due_as_people_type_it(typed: str, days: int) -> None:
    assert playbooks.clean_due(typed) == days


@pytest.mark.parametrize("typed", ["soon", "-2d", "+5m", "d", "", "5 days later", "+9999d", "2.5d"])
def test_a_due_time_that_is_not_one_says_the_accepted_forms(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        playbooks.clean_due(typed)
    assert caught.value.message.startswith("due: ")


def test_a_deal_gets_each_task_once_while_it_is_open_and_again_once_it_is_done(deal_db: Path) -> None:
    ok(deal_db, "move", "1", "Qualification")
    assert tasks(deal_db) == QUALIFIED
    ok(deal_db, "move", "1", "Unqualified")
    ok(deal_db, "move", "1", "qualification")  # back in while both tasks are open: nothing new
    assert tasks(deal_db) == QUALIFIED
    first = fetch(deal_db, "SELECT id FROM activity WHERE playbook_task_id = 1")[0][0]
    ok(deal_db, "task", "done", f"A{first}")
    ok(deal_db, "move", "1", "Unqualified")
    ok(deal_db, "move", "1", "2")
    assert tasks(deal_db) == QUALIFIED + [("Book the discovery call", "2026-11-25", 1)]


def test_a_removed_entry_adds_nothing_and_its_tasks_stay(deal_db: Path) -> None:
    ok(deal_db, "move", "1", "Qualification")
    ok(deal_db, "playbook", "remove", "2")
    ok(deal_db, "move", "1", "Unqualified")
    db = open_database(deal_db)
    with db.session() as s:
        s.execute("UPDATE activity SET done_at = '2026-11-23 10:00:00.000000' WHERE deal_id = 1")
    db.close()
    ok(deal_db, "move", "1", "Qualification")
    assert tasks(deal_db) == QUALIFIED + [("Book the discovery call", "2026-11-25", 1)]


def test_import_function_adds_the_tasks_of_the_stage_each_deal_entered(deal_db: Path) -> None:
    db = open_database(deal_db)
    with db.session() as s:
        for title, stage in [("Two", "Qualification"), ("Three", "Qualification"), ("Four", "Negotiation")]:
            create_deal(s, title, stage=stage, follow_up=False)  # (their own way in adds tasks: taken back below)
        s.execute("DELETE FROM activity")
        playbooks.add_entry(s, "Negotiation", "Agree the terms", "+3d")
    conn = db.raw()
    try:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO activity (kind, body, deal_id, occurred_at, created_at, due_on, playbook_task_id)"
                     " VALUES ('task', 'Book the discovery call', 3, '2026-11-20', '2026-11-20', '2026-11-22', 1)")
        added = playbooks.add_for_imported(
            conn, [(2, 2), (2, 2), (3, 2), (4, 5), (1, 2)],  # twice the same; #1 is not in Qualification
            dt.date(2026, 12, 1), "2026-12-01 08:00:00.000000")
        conn.execute("COMMIT")
    finally:
        conn.close()
        db.close()
    rows = fetch(deal_db, "SELECT id, deal_id, body, due_on, playbook_task_id, occurred_at FROM activity"
                          " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", json.dumps(added))
    assert [r[1:5] for r in rows] == [
        (2, "Book the discovery call", "2026-12-03", 1),
        (2, "Send the questionnaire", "2026-12-01", 2),
        (3, "Send the questionnaire", "2026-12-01", 2),  # (its open discovery call is not added twice)
        (4, "Agree the terms", "2026-12-04", 4),
    ]
    assert added == list(range(added[0], added[0] + 4))  # consecutive: one range for the import's undo
    assert {r[5] for r in rows} == {"2026-12-01 08:00:00.000000"}
    conn = open_database(deal_db).raw()
    try:
        assert playbooks.add_for_imported(conn, [], dt.date(2026, 12, 1)) == []
    finally:
        conn.close()


# --- the shell -------------------------------------------------------------------------------------


def test_playbook_add_list_and_remove(db_path: Path) -> None:
    ok(db_path, "pipelines", "add", "Workshops")
    out = ok(db_path, "playbook", "add", "proposal SENT", "Chase the proposal", "--due", "+5d").stdout
    assert out == "Added playbook task #1 to 'Proposal sent': 'Chase the proposal', due 5 days after a deal enters it\n"
    ok(db_path, "playbook", "add", "3", "Draft the proposal", "--due", "2 days")
    ok(db_path, "playbook", "add", "Won", "Send the invoice")
    ok(db_path, "playbook", "add", "Qualification", "Book a room", "--due", "+1w", "--pipeline", "workshops")
    listed = json.loads(ok(db_path, "playbook", "list", "--json").stdout)
    assert listed == {"pipeline": "Sales", "tasks": [
        {"id": 2, "stage": "Writing proposal", "stage_position": 3, "task": "Draft the proposal", "due_days": 2,
         "due": "+2d"},
        {"id": 1, "stage": "Proposal sent", "stage_position": 4, "task": "Chase the proposal", "due_days": 5,
         "due": "+5d"},
        {"id": 3, "stage": "Won", "stage_position": 7, "task": "Send the invoice", "due_days": 0, "due": "same day"},
    ]}
    workshops = json.loads(ok(db_path, "playbook", "list", "--pipeline", "Workshops", "--json").stdout)
    assert [(t["id"], t["stage"], t["due_days"]) for t in workshops["tasks"]] == [(4, "Qualification", 7)]
    table = ok(db_path, "playbook", "list").stdout
    assert table.index("Draft the proposal") < table.index("Chase the proposal") < table.index("Send the invoice")
    assert "+5d" in table and "same day" in table
    out = ok(db_path, "playbook", "remove", "#1").stdout
    assert out == "Removed playbook task #1 'Chase the proposal' from 'Proposal sent'; tasks it added stay\n"
    assert [t["id"] for t in json.loads(ok(db_path, "playbook", "list", "--json").stdout)["tasks"]] == [2, 3]
    assert fetch(db_path, "SELECT label FROM undo_entry WHERE scope = 'settings' AND label LIKE '%playbook%'"
                          " ORDER BY id") == [
        ("add playbook task Chase the proposal to Proposal sent",), ("add playbook task Draft the proposal to"
         " Writing proposal",), ("add playbook task Send the invoice to Won",),
        ("add playbook task Book a room to Qualification",), ("remove playbook task Chase the proposal from"
         " Proposal sent",)]


def test_an_empty_playbook_says_how_to_add_one(db_path: Path) -> None:
    assert "No playbook tasks in 'Sales'. Add one: crmtui playbook add" in ok(db_path, "playbook", "list").stdout
    assert json.loads(ok(db_path, "playbook", "list", "--json").stdout) == {"pipeline": "Sales", "tasks": []}


@pytest.mark.parametrize(("args", "message"), [
    (["add", "Proposal", "Chase", "--due", "+5d"],
     "unknown stage 'Proposal' in pipeline 'Sales' (stages: Unqualified, Qualification, Writing proposal, Proposal"
     " sent, Negotiation, Contract out for signature, Won, Lost, N/A)"),
    (["add", "12", "Chase"], "unknown stage '12'"),
    (["add", "Won", "Chase", "--due", "next week"],
     "due: 'next week' is not a time after the deal enters the stage: give +5d (days), +2w (weeks) or 5 days"),
    (["add", "Won", "Chase", "--due", "+20000d"], "due: '+20000d' is more than 3650 days away"),
    (["add", "Won", "  ", "--due", "+1d"], "task: required"),
    (["add", "Won", "Chase", "--pipeline", "Nope"], "unknown pipeline 'Nope' (pipelines: Sales)"),
    (["remove", "7"], "no playbook task '7' (crmtui playbook list shows their ids)"),
    (["remove", "first"], "no playbook task 'first'"),
    (["remove", "99999999999999999999999"], "no playbook task '99999999999999999999999'"),
    (["list", "--pipeline", "Nope"], "unknown pipeline 'Nope'"),
])
def test_playbook_errors_say_what_is_wrong_and_write_nothing(db_path: Path, args: list[str], message: str) -> None:
    ok(db_path, "playbook", "add", "Won", "Send the invoice")
    assert message in refused(db_path, "playbook", *args)


def test_a_removed_entry_cannot_be_removed_again(db_path: Path) -> None:
    ok(db_path, "playbook", "add", "Won", "Send the invoice")
    ok(db_path, "playbook", "remove", "1")
    assert "no playbook task '1'" in refused(db_path, "playbook", "remove", "1")


def test_playbook_is_in_the_automation_panel_of_the_help(db_path: Path) -> None:
    out = run(db_path, "--help").stdout
    assert "Automation" in out and "playbook" in out.split("Automation", 1)[1]


def test_crmtui_add_deal_in_a_stage_gets_its_tasks(deal_db: Path) -> None:
    ok(deal_db, "add", "deal", "Logo", "--stage", "Qualification", "--no-follow-up")
    assert tasks(deal_db, 2) == QUALIFIED


def test_crmtui_set_stage_gets_its_tasks(deal_db: Path) -> None:
    ok(deal_db, "set", "1", "stage=Qualification")
    assert tasks(deal_db) == QUALIFIED


def test_crmtui_won_and_lost_add_the_tasks_of_the_closed_stage(deal_db: Path) -> None:
    ok(deal_db, "playbook", "add", "Lost", "Ask what tipped it", "--due", "+1d")
    ok(deal_db, "add", "deal", "Logo", "--no-follow-up")
    ok(deal_db, "won", "1")
    assert tasks(deal_db) == [("Send the invoice", "2026-11-30", 3)]
    ok(deal_db, "lost", "2", "--reason", "Price")
    assert tasks(deal_db, 2) == [("Ask what tipped it", "2026-11-24", 4)]


# --- the app ---------------------------------------------------------------------------------------


async def test_a_board_move_adds_the_tasks_and_undo_takes_back_exactly_those(deal_db: Path) -> None:
    db = open_database(deal_db)
    with db.session() as s:  # a task of its own, which the undo leaves alone
        s.execute("INSERT INTO activity (kind, body, deal_id, occurred_at, created_at, due_on)"
                  " VALUES ('task', 'Call Ann', 1, '2026-11-23', '2026-11-23', '2026-11-24')")
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("greater_than_sign")
        assert tasks(deal_db) == [("Call Ann", "2026-11-24", None)] + QUALIFIED
        await pilot.press("u")
        await pilot.pause()
        assert fetch(deal_db, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [("Unqualified",)]
        assert tasks(deal_db) == [("Call Ann", "2026-11-24", None)]
        assert len(tasks(deal_db, live=False)) == 3  # the playbook's two in the trash
        await pilot.press("greater_than_sign")  # in again: the trashed ones do not count as open
        assert tasks(deal_db)[1:] == QUALIFIED
        await pilot.press("w")  # won: the Won stage's task; undo takes back that one only
        await pilot.pause()
        assert tasks(deal_db)[-1] == ("Send the invoice", "2026-11-30", 3)
        await pilot.press("u")
        await pilot.pause()
        assert tasks(deal_db)[1:] == QUALIFIED


async def test_quick_add_in_a_stage_gets_its_tasks_and_undo_trashes_them(deal_db: Path) -> None:
    app = make_app(open_database(deal_db))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("l", "n")  # a new deal in Qualification
        await pilot.press(*"Logo", "enter")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        (deal_id,) = fetch(deal_db, "SELECT id FROM deal WHERE title = 'Logo'")[0]
        assert [t for t in tasks(deal_db, deal_id) if t[2]] == QUALIFIED
        await pilot.press("u")
        await pilot.pause()
        assert tasks(deal_db, deal_id) == []


async def test_triage_next_stage_adds_the_tasks_and_undo_takes_them_back(deal_db: Path) -> None:
    app = make_app(open_database(deal_db))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(TriageScreen([1]))
        await pilot.pause()
        assert isinstance(app.screen, TriageScreen)
        await pilot.press("greater_than_sign")
        await pilot.pause()
        assert tasks(deal_db) == QUALIFIED
        assert any(n.message == "Moved to Qualification · 2 playbook tasks added" for n in app._notifications)
        await pilot.press("u")
        await pilot.pause()
        assert tasks(deal_db) == []


async def test_the_deal_form_stage_change_adds_the_tasks_and_undo_takes_them_back(deal_db: Path) -> None:
    app = make_app(open_database(deal_db))
    async with app.run_test(size=SIZE) as pilot:
        app.open_record("deal", 1)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DealDetailScreen)
        await pilot.press("e")
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-stage", Input).value = "Qualification"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert tasks(deal_db) == QUALIFIED
        await pilot.press("u")
        await pilot.pause()
        assert tasks(deal_db) == []
        assert fetch(deal_db, "SELECT stage_id FROM deal") == [(1,)]


async def _to_row(pilot, kind: str, name: str) -> None:  # noqa: ANN001
    """Walk the settings table's cursor down from the top to a row, as a user would."""
    screen = pilot.app.screen
    await pilot.press("ctrl+home")
    for _ in range(screen.query_one(DataTable).row_count):
        item = screen.current()
        if item is not None and item.kind == kind and (item.name == name or item.data.get("body") == name):
            return
        await pilot.press("down")
    raise AssertionError(f"no {kind} row {name!r}")


async def test_settings_shows_each_stages_playbook_and_edits_it(deal_db: Path) -> None:
    app = make_app(open_database(deal_db))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("comma")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        rows = [(i.parent, i.data["body"]) for i in screen.items.values() if i.kind == "playbook"]
        assert rows == [("Qualification", "Book the discovery call"), ("Qualification", "Send the questionnaire"),
                        ("Won", "Send the invoice")]
        # p on a stage: a new task for its playbook.
        await _to_row(pilot, "stage", "Proposal sent")
        assert "p playbook task" in str(screen.query_one("#settings-hint").render())
        await pilot.press("p")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-task", Input).value = "Chase the proposal"
        form.query_one("#field-due", Input).value = "soon"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and len(entries(deal_db)) == 3  # refused: stays open, nothing written
        form.query_one("#field-due", Input).value = "+5d"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert entries(deal_db)[-1] == ("Proposal sent", "Chase the proposal", 5)
        assert screen.current().kind == "playbook" and screen.current().data["body"] == "Chase the proposal"
        # e (or enter) on an entry changes it.
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, FormScreen) and form.query_one("#field-due", Input).value == "+5d"
        form.query_one("#field-due", Input).value = "+1w"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert entries(deal_db)[-1] == ("Proposal sent", "Chase the proposal", 7)
        # delete asks, then takes it off the playbook; u brings it back.
        await _to_row(pilot, "playbook", "Send the questionnaire")
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert [e[1] for e in entries(deal_db)] == ["Book the discovery call", "Send the invoice", "Chase the proposal"]
        await pilot.press("u")
        await pilot.pause()
        assert len(entries(deal_db)) == 4
        await pilot.press("u")  # the edit
        await pilot.press("u")  # the new entry
        await pilot.pause()
        assert entries(deal_db) == [("Qualification", "Book the discovery call", 2),
                                    ("Qualification", "Send the questionnaire", 0), ("Won", "Send the invoice", 7)]
        # The stage's form shows its playbook.
        await _to_row(pilot, "stage", "Qualification")
        await pilot.press("e")
        assert "Book the discovery call (+2d); Send the questionnaire (same day)" in str(
            app.screen.query_one("#field-playbook").render())


def test_settings_undo_of_an_entry_goes_through_the_undo_log(deal_db: Path) -> None:
    db = open_database(deal_db)
    with db.session() as s:
        playbooks.remove_entry(s, 3)
    with db.session() as s:
        assert undo.undo_last(s, scope="settings").label == "remove playbook task Send the invoice from Won"
    db.close()
    assert entries(deal_db)[-1] == ("Won", "Send the invoice", 7)


def test_an_import_with_follow_ups_adds_the_playbook_tasks_and_its_undo_removes_them(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "playbook", "add", "Proposal sent", "Chase the proposal", "--due", "+5d")
    deals = tmp_path / "deals.csv"
    deals.write_text("title,company,stage,amount\nLogo,Acme,Proposal sent,100\nSite,Beta,Unqualified,200\n"
                     "Shoot,Gamma,Proposal sent,300\n")
    ok(db, "import", str(deals), "-q")  # without --follow-up (and the rule off): no tasks
    assert fetch(db, "SELECT count(*) FROM activity WHERE kind = 'task'") == [(0,)]
    ok(db, "imports", "undo", "1", "--yes")
    ok(db, "import", str(deals), "-q", "--follow-up")
    tasks = fetch(db, "SELECT d.title, a.body FROM activity a JOIN deal d ON d.id = a.deal_id"
                      " WHERE a.playbook_task_id IS NOT NULL ORDER BY d.title")
    assert tasks == [("Logo", "Chase the proposal"), ("Shoot", "Chase the proposal")]
    ok(db, "imports", "undo", "2", "--yes")
    assert fetch(db, "SELECT count(*) FROM activity WHERE deleted_at IS NULL") == [(0,)]


def test_crmtui_move_says_which_playbook_tasks_it_added(tmp_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = tmp_path / "crm.db"
    ok(db, "add", "deal", "Logo refresh", "--no-follow-up")
    ok(db, "playbook", "add", "Proposal sent", "Chase the [big] proposal", "--due", "+5d")
    said = ok(db, "move", "1", "Proposal sent").stdout
    assert "Moved deal #1 from Unqualified to Proposal sent" in said
    assert "+ task “Chase the [big] proposal” due 2026-11-28 (the stage's playbook)" in said
    assert "+ task" not in ok(db, "move", "1", "Negotiation").stdout
