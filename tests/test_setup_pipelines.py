"""Pipelines and stages set up from the shell (`crmtui pipelines ...`, `crmtui stages ...`), as a user
meets them: what the database holds after each command, every refusal with its message and nothing
written, the history and the funnel after a rename and a delete, undo, and the colours on the
board and the deal page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from rich.color import Color
from typer.testing import CliRunner

from crmtui.app import make_app
from crmtui.cli import app
from crmtui.store import clock, undo
from crmtui.store.db import open_database
from crmtui.store.migrations import DEFAULT_STAGES
from crmtui.store.setup_pipelines import add_pipeline, add_stage, delete_stage, rename_stage, update_stage
from tests.conftest import FIXED_NOW, fetch, snapshot_of

runner = CliRunner()


def crm(db_path: Path, *args: str):  # noqa: ANN201
    return runner.invoke(app, ["--db", str(db_path), *args], catch_exceptions=False)


def ok(db_path: Path, *args: str) -> str:
    result = crm(db_path, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def stage_names(db_path: Path, pipeline: str | None = None) -> list[str]:
    args = ["stages", "--json"] + (["--pipeline", pipeline] if pipeline else [])
    return [s["name"] for s in json.loads(ok(db_path, *args))["stages"]]


def stage_of(db_path: Path, deal_id: int) -> tuple:
    return fetch(db_path, "SELECT p.name, s.name, d.closed_on, d.lost_reason FROM deal d JOIN stage s ON s.id ="
                 " d.stage_id JOIN pipeline p ON p.id = d.pipeline_id WHERE d.id = ?", deal_id)[0]


def live_setup(db_path: Path) -> list[tuple]:
    """The live pipelines and stages, and where every deal is: what an undo must put back."""
    return [
        *fetch(db_path, "SELECT id, name, position, is_default FROM pipeline WHERE deleted_at IS NULL ORDER BY id"),
        *fetch(db_path, "SELECT s.id, s.name, s.kind, s.probability, s.expected_days, s.color FROM stage s JOIN"
                        " pipeline p ON p.id = s.pipeline_id AND p.deleted_at IS NULL WHERE s.deleted_at IS NULL"
                        " ORDER BY s.pipeline_id, s.position, s.id"),
        *fetch(db_path, "SELECT id, pipeline_id, stage_id, stage_entered_at, closed_on, lost_reason FROM deal"
                        " ORDER BY id"),
        *fetch(db_path, "SELECT * FROM stage_change ORDER BY id"),
    ]


@pytest.fixture
def deals(db_path: Path, fixed_clock: dt.datetime) -> Path:
    """Sales with an open deal in Negotiation (1), one in Writing proposal (2), a lost one (3)."""
    clock.set_fixed_now(FIXED_NOW - dt.timedelta(days=20))
    ok(db_path, "add", "deal", "Website", "--amount", "10000", "--stage", "Negotiation")
    ok(db_path, "add", "deal", "Logo", "--amount", "2000", "--stage", "Writing proposal")
    ok(db_path, "add", "deal", "Shop", "--amount", "5000")
    ok(db_path, "lost", "3", "--reason", "Price too high")
    clock.set_fixed_now(FIXED_NOW)
    return db_path


# --- pipelines ------------------------------------------------------------------------------------


def test_pipelines_add_copy_rename_default_and_list(db_path: Path) -> None:
    assert "Added pipeline 'Workshops' with 9 stages" in ok(db_path, "pipelines", "add", "Workshops")
    assert stage_names(db_path, "Workshops") == [name for name, *_ in DEFAULT_STAGES]
    ok(db_path, "stages", "set", "Won", "--pipeline", "Workshops", "--color", "green")
    ok(db_path, "stages", "delete", "N/A", "--pipeline", "Workshops")
    ok(db_path, "pipelines", "add", "Training", "--copy-stages-from", "workshops")
    copied = json.loads(ok(db_path, "stages", "--pipeline", "Training", "--json"))["stages"]
    assert [s["name"] for s in copied] == [name for name, *_ in DEFAULT_STAGES][:-1]
    assert copied[6] == {"position": 7, "name": "Won", "kind": "won", "probability": 100, "expected_days": None,
                         "color": "green"}
    assert "Renamed pipeline 'Training' to 'Courses'" in ok(db_path, "pipelines", "rename", "Training", "Courses")
    assert "'Workshops' is the default pipeline" in ok(db_path, "pipelines", "default", "Workshops")
    listed = json.loads(ok(db_path, "pipelines", "list", "--json"))
    assert [(p["name"], p["default"], p["stages"]) for p in listed] == [
        ("Sales", False, 9), ("Workshops", True, 8), ("Courses", False, 8)]
    assert json.loads(ok(db_path, "pipelines", "--json")) == listed
    table = ok(db_path, "pipelines", "list")
    assert "Workshops" in table and "default" in table
    ok(db_path, "add", "deal", "Course", "--amount", "100")
    assert stage_of(db_path, 1)[:2] == ("Workshops", "Unqualified")  # new deals go to the default pipeline


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pipelines", "add", "sales"], "pipeline name: there is already a pipeline called 'Sales'"),
        (["pipelines", "add", "  "], "pipeline name: required"),
        (["pipelines", "rename", "Workshops", "SALES"], "there is already a pipeline called 'Sales'"),
        (["pipelines", "add", "X", "--copy-stages-from", "Nope"], "unknown pipeline 'Nope' (pipelines: Sales, Workshops)"),
        (["pipelines", "delete", "Sales"], "pipeline 'Sales' holds 3 deals: give --move-deals-to PIPELINE"),
        (["pipelines", "delete", "Sales", "--move-deals-to", "sales"], "'Sales' is the pipeline being deleted"),
        (["pipelines", "default", "Nope"], "unknown pipeline 'Nope'"),
    ],
)
def test_pipeline_refusals_write_nothing(deals: Path, args: list[str], message: str) -> None:
    ok(deals, "pipelines", "add", "Workshops")
    before = snapshot_of(deals)
    result = crm(deals, *args)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output and snapshot_of(deals) == before


def test_the_last_pipeline_stays(db_path: Path) -> None:
    ok(db_path, "stages")
    before = snapshot_of(db_path)
    result = crm(db_path, "pipelines", "delete", "Sales")
    assert result.exit_code == 1 and "'Sales' is the only one: a database keeps at least one pipeline" in result.stderr
    assert snapshot_of(db_path) == before


def test_deleting_a_pipeline_moves_its_deals_by_stage_name_then_kind(deals: Path) -> None:
    ok(deals, "pipelines", "add", "Workshops")
    ok(deals, "stages", "delete", "Writing proposal", "--pipeline", "Workshops")
    ok(deals, "stages", "rename", "Lost", "Declined", "--pipeline", "Workshops")
    out = ok(deals, "pipelines", "delete", "Sales", "--move-deals-to", "Workshops")
    assert "Deleted pipeline 'Sales'; moved 3 deals to 'Workshops'; 'Workshops' is the default pipeline now" in out
    assert stage_of(deals, 1) == ("Workshops", "Negotiation", None, None)  # the same name
    assert stage_of(deals, 2) == ("Workshops", "Unqualified", None, None)  # no such name: the first open stage
    # a lost deal stays lost, closed on the day it was lost, with its reason
    assert stage_of(deals, 3) == ("Workshops", "Declined", "2026-11-03", "Price too high")
    history = json.loads(ok(deals, "deal", "show", "1", "--json"))["stage_history"]
    assert history[-1] == {"at": "2026-11-23T09:30:00Z", "from": "Negotiation", "to": "Negotiation"}
    assert json.loads(ok(deals, "pipelines", "--json"))[0]["default"] is True
    assert fetch(deals, "SELECT count(*) FROM pipeline WHERE name = 'Sales' AND deleted_at IS NOT NULL") == [(1,)]


def test_deleting_a_pipeline_into_one_without_a_lost_stage_is_refused(deals: Path) -> None:
    ok(deals, "pipelines", "add", "Workshops")
    ok(deals, "stages", "delete", "Lost", "--pipeline", "Workshops")
    ok(deals, "stages", "delete", "N/A", "--pipeline", "Workshops")
    before = snapshot_of(deals)
    result = crm(deals, "pipelines", "delete", "Sales", "--move-deals-to", "Workshops")
    assert result.exit_code == 1
    assert "pipeline 'Workshops' has no lost stage for the 1 deal in 'Lost'" in result.stderr
    assert snapshot_of(deals) == before


# --- stages ---------------------------------------------------------------------------------------


def test_stages_without_a_command_list_as_before(db_path: Path) -> None:
    ok(db_path, "pipelines", "add", "Workshops", "--copy-stages-from", "Sales")
    ok(db_path, "stages", "--pipeline", "Workshops", "add", "Debrief", "--kind", "closed")  # the group's --pipeline
    data = json.loads(ok(db_path, "stages", "--pipeline", "Workshops", "--json"))
    assert data["pipeline"] == "Workshops" and data["stages"][-1]["name"] == "Debrief"
    assert data["stages"][0] == {"position": 1, "name": "Unqualified", "kind": "open", "probability": 10,
                                 "expected_days": 7, "color": None}
    table = ok(db_path, "stages")
    assert "Sales" in table and "Unqualified" in table and "Debrief" not in table
    other = db_path.with_name("other.db")  # the group's --db holds for its command
    assert runner.invoke(app, ["stages", "--db", str(other), "add", "Scoping"]).exit_code == 0
    assert fetch(other, "SELECT count(*) FROM stage WHERE name = 'Scoping'") == [(1,)]
    assert fetch(db_path, "SELECT count(*) FROM stage WHERE name = 'Scoping'") == [(0,)]


def test_stage_add_set_rename_and_move(db_path: Path) -> None:
    out = ok(db_path, "stages", "add", "Discovery call", "--after", "qualification", "--probability", "30",
             "--expected-days", "10", "--color", "#FF8800")
    assert "Added stage 'Discovery call' to 'Sales' (open, 30%, 10 days, colour #ff8800)" in out
    ok(db_path, "stages", "add", "Pilot")  # an open stage: after the last open one, its probability
    ok(db_path, "stages", "add", "Parked", "--kind", "closed")  # a closed one: at the end
    stages = json.loads(ok(db_path, "stages", "--json"))["stages"]
    assert [(s["name"], s["kind"], s["probability"]) for s in stages] == [
        ("Unqualified", "open", 10), ("Qualification", "open", 20), ("Discovery call", "open", 30),
        ("Writing proposal", "open", 40), ("Proposal sent", "open", 50), ("Negotiation", "open", 70),
        ("Contract out for signature", "open", 90), ("Pilot", "open", 90), ("Won", "won", 100),
        ("Lost", "lost", 0), ("N/A", "closed", 0), ("Parked", "closed", 0)]
    ok(db_path, "stages", "set", "Negotiation", "--probability", "75%", "--expected-days", "none", "--color", "cyan")
    ok(db_path, "stages", "set", "Parked", "--kind", "lost", "--color", "none")
    assert fetch(db_path, "SELECT name, probability, expected_days, kind, color FROM stage WHERE name IN"
                          " ('Negotiation', 'Parked') ORDER BY id") == [
        ("Negotiation", 75, None, "open", "cyan"), ("Parked", 0, None, "lost", None)]
    assert "Renamed stage 'Pilot' to 'Trial'" in ok(db_path, "stages", "rename", "pilot", "Trial")
    ok(db_path, "stages", "move", "Trial", "--first")
    ok(db_path, "stages", "move", "N/A", "--last")
    out = ok(db_path, "stages", "move", "Unqualified", "--after", "Discovery call")
    assert "Moved stage 'Unqualified': Trial → Qualification → Discovery call → Unqualified → Writing proposal" in out
    assert stage_names(db_path)[-3:] == ["Lost", "Parked", "N/A"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stages", "add", "negotiation"], "stage name: 'Sales' already has a stage called 'Negotiation'"),
        (["stages", "rename", "Lost", "WON"], "stage name: 'Sales' already has a stage called 'Won'"),
        (["stages", "add", "X", "--probability", "120"], "probability: '120' is not a percentage from 0 to 100"),
        (["stages", "set", "Negotiation", "--probability", "-5"], "probability: '-5' is not a percentage from 0 to 100"),
        (["stages", "add", "X", "--kind", "maybe"], "kind: 'maybe' is not one of open, won, lost, closed"),
        (["stages", "add", "X", "--color", "blurple"], "colour: 'blurple' is not a colour"),
        (["stages", "set", "Won", "--color", "#12345"], "colour: '#12345' is not a colour"),
        (["stages", "set", "Won", "--expected-days", "soon"], "expected days: 'soon' is not a number of days"),
        (["stages", "add", "X", "--after", "Nope"], "unknown stage 'Nope' in pipeline 'Sales'"),
        (["stages", "delete", "Won"],
         "'Won' is the last won stage of 'Sales': a pipeline must keep at least one open and one won stage"),
        (["stages", "set", "Won", "--kind", "lost"], "a pipeline must keep at least one open and one won stage"),
        (["stages", "delete", "Negotiation"],
         "stage 'Negotiation' holds 1 deal: give --move-deals-to STAGE to say where they go, or move them first"),
        (["stages", "delete", "Negotiation", "--move-deals-to", "Kickoff"],
         "'Kickoff' is a stage of pipeline 'Workshops'; deals of 'Sales' can only move to a stage of 'Sales'"),
        (["stages", "delete", "Negotiation", "--move-deals-to", "negotiation"],
         "'Negotiation' is the stage being deleted"),
        (["stages", "set", "Negotiation", "--kind", "won"], "stage 'Negotiation' holds 1 deal, which would close"),
        (["stages", "move", "Won"], "say where the stage goes: after a stage, first or last"),
        (["stages", "move", "Won", "--after", "won"], "'Won' cannot go after itself"),
        (["stages", "set", "Won"], "say what to change"),
        (["stages", "add", "X", "--pipeline", "Nope"], "unknown pipeline 'Nope'"),
    ],
)
def test_stage_refusals_write_nothing(deals: Path, args: list[str], message: str) -> None:
    ok(deals, "pipelines", "add", "Workshops")
    ok(deals, "stages", "add", "Kickoff", "--pipeline", "Workshops", "--after", "Unqualified")
    before = snapshot_of(deals)
    result = crm(deals, *args)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output and snapshot_of(deals) == before


def test_a_pipeline_keeps_an_open_stage(db_path: Path) -> None:
    for name in DEFAULT_STAGES[1:6]:
        ok(db_path, "stages", "delete", name[0])
    before = snapshot_of(db_path)
    for args in (["stages", "delete", "Unqualified"], ["stages", "set", "Unqualified", "--kind", "closed"]):
        result = crm(db_path, *args)
        assert result.exit_code == 1
        assert "'Unqualified' is the last open stage of 'Sales': a pipeline must keep" in result.stderr
    assert snapshot_of(db_path) == before


def test_deleting_a_stage_moves_its_deals_as_moves_do(deals: Path) -> None:
    ok(deals, "add", "deal", "Care plan", "--amount", "900", "--stage", "Negotiation")
    out = ok(deals, "stages", "delete", "Negotiation", "--move-deals-to", "Won")
    assert "Deleted stage 'Negotiation'; moved 2 deals to 'Won'" in out
    assert stage_of(deals, 1) == ("Sales", "Won", "2026-11-23", None)  # won today, as `crmtui won` does
    assert fetch(deals, "SELECT count(*) FROM stage_change sc JOIN stage f ON f.id = sc.from_stage_id JOIN stage t"
                        " ON t.id = sc.to_stage_id WHERE f.name = 'Negotiation' AND t.name = 'Won'") == [(2,)]
    assert fetch(deals, "SELECT stage_entered_at FROM deal WHERE id = 1") == [("2026-11-23 09:30:00.000000",)]
    assert "Negotiation" not in stage_names(deals)
    # a deal that waits in the trash goes along, so a restore finds it a stage
    ok(deals, "add", "deal", "Old", "--stage", "Proposal sent")
    _trash(deals, 5)
    assert "Deleted stage 'Proposal sent'" in ok(deals, "stages", "delete", "Proposal sent")
    ok(deals, "trash", "restore", "D5")
    assert stage_of(deals, 5)[:2] == ("Sales", "Unqualified")


def _trash(db_path: Path, deal_id: int) -> None:
    db = open_database(db_path)
    with db.session() as s:
        from crmtui.store.trash import move_to_trash

        move_to_trash(s, f"D{deal_id}")
    db.close()


def test_history_and_funnel_read_right_after_a_rename_and_a_delete(db_path: Path, fixed_clock: dt.datetime) -> None:
    clock.set_fixed_now(FIXED_NOW - dt.timedelta(days=10))
    ok(db_path, "add", "deal", "Website", "--amount", "8000", "--stage", "Writing proposal")
    ok(db_path, "add", "deal", "Logo", "--amount", "2000", "--stage", "Qualification")
    clock.set_fixed_now(FIXED_NOW - dt.timedelta(days=5))
    ok(db_path, "lost", "1", "--reason", "No budget")
    ok(db_path, "move", "2", "Proposal sent")
    clock.set_fixed_now(FIXED_NOW)

    def reached() -> list[tuple[str, int]]:
        funnel = json.loads(ok(db_path, "report", "--json"))["funnel"]
        return [(s["stage"], s["reached"]) for s in funnel["stages"]][:4]

    assert reached() == [("Unqualified", 2), ("Qualification", 2), ("Writing proposal", 2), ("Proposal sent", 1)]
    ok(db_path, "stages", "rename", "Qualification", "Discovery")
    ok(db_path, "stages", "delete", "Writing proposal")  # deal 1 passed it, and is lost now
    ok(db_path, "stages", "delete", "Proposal sent", "--move-deals-to", "Negotiation")
    # the deal that entered the deleted stage still counts as having got past the stage before it
    assert reached() == [("Unqualified", 2), ("Discovery", 2), ("Negotiation", 1), ("Contract out for signature", 0)]

    def history(deal_id: int) -> list[tuple]:
        return [(h["from"], h["to"]) for h in json.loads(ok(db_path, "deal", "show", str(deal_id), "--json"))["stage_history"]]

    assert history(1) == [(None, "Writing proposal"), ("Writing proposal", "Lost")]
    assert history(2) == [(None, "Discovery"), ("Discovery", "Proposal sent"), ("Proposal sent", "Negotiation")]
    shown = ok(db_path, "deal", "show", "1")
    assert "created in Writing proposal" in shown and "Writing proposal → Lost" in shown


def test_a_new_probability_changes_the_weighted_figures_at_once(deals: Path) -> None:
    def weighted() -> tuple:
        report = json.loads(ok(deals, "report", "--json"))
        by_stage = {s["stage"]: s["weighted"] for s in report["by_stage"]}
        return report["cards"]["weighted_forecast"], by_stage["Negotiation"], report["forecast"]["months"][0]["weighted"]

    assert weighted() == (7000 + 800, 7000, 7800)  # 70% of 10,000 + 40% of 2,000
    ok(deals, "stages", "set", "Negotiation", "--probability", "50")
    assert weighted() == (5000 + 800, 5000, 5800)
    assert json.loads(ok(deals, "deals", "list", "--json"))[-1]["weighted_amount"] == 5000


# --- undo -----------------------------------------------------------------------------------------


def test_undoing_a_stage_delete_whose_name_was_taken_since_says_so_and_changes_nothing(
        deals: Path, tmp_path: Path) -> None:
    db = open_database(deals)
    try:
        with db.session() as s:
            delete_stage(s, "Negotiation", move_deals_to="Won")
        csv = tmp_path / "d.csv"
        csv.write_text("Deal name,Stage\nFrom a file,negotiation\n")
        ok(deals, "import", str(csv), "--create-stages")  # a new Negotiation, with no settings undo entry
        before = snapshot_of(deals)
        with pytest.raises(undo.UndoConflict) as refused, db.session() as s:
            undo.undo_last(s, scope="settings")
        assert refused.value.message == ("cannot undo “delete stage Negotiation”: a stage called 'Negotiation' was"
                                         " made since; rename or delete that one first")
        assert snapshot_of(deals) == before
    finally:
        db.close()


def test_each_change_is_one_settings_undo_entry(deals: Path) -> None:
    db = open_database(deals)
    try:
        start = live_setup(deals)
        steps = [
            lambda s: rename_stage(s, "Negotiation", "Talks"),
            lambda s: add_stage(s, "Pilot", after="Qualification"),
            lambda s: delete_stage(s, "Negotiation", move_deals_to="Won"),
            lambda s: add_pipeline(s, "Workshops"),
            lambda s: update_stage(s, "Lost", kind="closed", color="red", probability="5"),
        ]
        for step in steps:
            with db.session() as s:
                step(s)
            assert live_setup(deals) != start
            with db.session() as s:
                assert undo.undo_last(s, scope="settings") is not None
                assert undo.pending(s, scope="settings") == []
            assert live_setup(deals) == start
    finally:
        db.close()


# --- colours on screen ----------------------------------------------------------------------------


def _colours(strip) -> set[str]:  # noqa: ANN001
    return {seg.style.color.triplet.hex for seg in strip if seg.style and seg.style.color and seg.style.color.triplet}


async def test_a_stage_colour_shows_on_its_board_column(deals: Path) -> None:
    from crmtui.screens.board import BoardScreen

    app_ = make_app(open_database(deals))
    async with app_.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app_.screen
        assert isinstance(screen, BoardScreen)
        column = next(c for c in screen.columns if c.stage.name == "Negotiation")
        assert "#ff8800" not in _colours(column.render_line(0))
        with app_.database.session() as s:  # as the settings screen does
            update_stage(s, "Negotiation", color="#ff8800")
            add_pipeline(s, "Workshops")
        await pilot.press("r")
        await app_.workers.wait_for_complete()
        await pilot.pause()
        column = next(c for c in screen.columns if c.stage.name == "Negotiation")
        assert "#ff8800" in _colours(column.render_line(0))  # the name
        assert "#ff8800" in _colours(column.render_line(2))  # the rule under the header
        other = next(c for c in screen.columns if c.stage.name == "Qualification")
        assert "#ff8800" not in _colours(other.render_line(0))
        await pilot.press("p")  # the pipeline switch sees the new pipeline
        await app_.workers.wait_for_complete()
        await pilot.pause()
        assert screen.board.snapshot.pipeline_name == "Workshops"


async def test_a_stage_colour_shows_in_its_badge_on_the_deal_page(deals: Path) -> None:
    from crmtui.screens.deal_detail import DealDetailScreen
    from textual.widgets import Static

    ok(deals, "stages", "set", "Negotiation", "--color", "#00aa55")
    app_ = make_app(open_database(deals))
    async with app_.run_test(size=(120, 40)) as pilot:
        app_.open_record("deal", 1)
        await pilot.pause()
        assert isinstance(app_.screen, DealDetailScreen)
        facts = app_.screen.query_one("#facts", Static).content
        labels = [str(c) for c in facts.columns[0].cells]
        badge = list(facts.columns[1].cells)[labels.index("Stage")]
        assert badge.plain.startswith("Negotiation (70%)")
        assert badge.style and Color.parse("#00aa55") == badge.get_style_at_offset(app_.console, 0).color
