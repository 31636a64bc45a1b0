"""The settings screen (`,`): each section's keys write through the store, ask before deleting,
refuse bad values without writing, undo with `u`, and the board shows the change on return."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.edit_forms import FormScreen
from crmtui.screens.help import HelpScreen
from crmtui.screens.prompt import PromptScreen
from crmtui.screens.settings import PickScreen, SettingsScreen
from crmtui.store import money
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from tests.board_seed import seed_board
from tests.conftest import fetch, snapshot_of


def stages(db_path: Path, pipeline_id: int = 1) -> list[tuple]:
    """The live stages of a pipeline in order: (name, kind, probability, expected days, colour)."""
    return fetch(db_path, "SELECT name, kind, probability, expected_days, color FROM stage"
                          " WHERE pipeline_id = ? AND deleted_at IS NULL ORDER BY position", pipeline_id)


def stage_names(db_path: Path, pipeline_id: int = 1) -> list[str]:
    return [row[0] for row in stages(db_path, pipeline_id)]


def without_undo_log(rows: list[tuple]) -> list[tuple]:
    """A `snapshot_of` without the rows of the undo log (undoing marks its entries undone)."""
    kept, table = [], None
    for row in rows:
        if len(row) == 1 and isinstance(row[0], str):
            table = row[0]
        if table != "undo_entry":
            kept.append(row)
    return kept


async def open_settings(pilot, section: str = "1") -> SettingsScreen:  # noqa: ANN001
    await pilot.press("comma")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    if section != "1":
        await pilot.press(section)
        await pilot.pause()
    return screen


async def cursor_to(pilot, name: str, kind: str | None = None) -> None:  # noqa: ANN001
    """Walk the cursor down from the top to the row called `name` (of `kind`), as a user would."""
    screen = pilot.app.screen
    table = screen.query_one(DataTable)
    await pilot.press("ctrl+home")
    for _ in range(table.row_count):
        item = screen.current()
        if item is not None and item.name == name and kind in (None, item.kind):
            return
        await pilot.press("down")
    raise AssertionError(f"no row {name!r}")


async def type_text(pilot, text: str) -> None:  # noqa: ANN001
    await pilot.press(*text)


async def clear_field(pilot) -> None:  # noqa: ANN001
    focused = pilot.app.focused
    assert isinstance(focused, Input)
    focused.value = ""  # as select-all and delete would
    await pilot.pause()


async def pick_in_select(pilot, downs: int) -> None:  # noqa: ANN001
    """Open the focused drop-down, go down `downs` options, choose."""
    await pilot.press("enter", *["down"] * downs, "enter")


@pytest.fixture
def app_db(db_path: Path):  # noqa: ANN201
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Retainer", amount="5000", stage="Negotiation", source="Referral")
        create_deal(s, "Audit", amount="2000", stage="Negotiation", source="referral")
        create_deal(s, "Logo", amount="900", stage="Qualification")
    return db


# --- opening it -----------------------------------------------------------------------------------


async def test_comma_opens_settings_and_escape_goes_back(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await open_settings(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 1 + 9  # the pipeline and its stages
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_the_command_palette_opens_settings(app_db) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await type_text(pilot, "Settings")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)


async def test_help_lists_the_settings_keys(app_db) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        keys = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert keys["Rename"] == "r / ⏎"  # enter
        assert keys["Move up"].startswith("K / ")
        for described in ("New", "New pipeline", "Edit", "Delete", "Undo", "Make default", "Back", "General"):
            assert described in keys
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.press("f1")
        table = app.screen.query_one(DataTable)
        assert "Settings" in [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


# --- pipelines and stages -------------------------------------------------------------------------


async def test_add_rename_edit_and_reorder_a_stage(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Negotiation")
        await pilot.press("n")
        assert isinstance(app.screen, FormScreen)
        await type_text(pilot, "Discovery")
        await pilot.press("ctrl+s")
        await pilot.pause()
        names = stage_names(db_path)
        assert names[names.index("Negotiation") + 1] == "Discovery"
        assert app.screen.current().name == "Discovery"  # the cursor is on the new stage

        await pilot.press("r")
        assert isinstance(app.screen, PromptScreen)
        await clear_field(pilot)
        await type_text(pilot, "Discovery call")
        await pilot.press("enter")
        await pilot.pause()
        assert "Discovery call" in stage_names(db_path) and "Discovery" not in stage_names(db_path)

        await pilot.press("e")
        await clear_field(pilot)
        await type_text(pilot, "75")
        await pilot.press("tab")
        await type_text(pilot, "10")
        await pilot.press("tab", "tab")
        await type_text(pilot, "green")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ("Discovery call", "open", 75, 10, "green") in stages(db_path)

        await pilot.press("K")
        await pilot.pause()
        names = stage_names(db_path)
        assert names.index("Discovery call") == names.index("Negotiation") - 1
        await pilot.press("ctrl+down", "J")
        await pilot.pause()
        names = stage_names(db_path)
        assert names.index("Discovery call") == names.index("Negotiation") + 2
        assert app.screen.current().name == "Discovery call"  # the cursor follows the stage


async def test_a_refused_stage_edit_keeps_the_form_and_writes_nothing(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Negotiation")
        before = snapshot_of(db_path)
        await pilot.press("e")
        await clear_field(pilot)
        await type_text(pilot, "120")
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        assert "is not a percentage from 0 to 100" in str(form.query_one("#error-probability").render())
        assert form.values()["probability"] == "120"
        # Kind won: deals in Negotiation would close without a move: the store refuses.
        form.query_one("#field-probability", Input).value = "70"
        form.query_one("#field-kind").focus()
        await pilot.pause()
        await pick_in_select(pilot, 1)  # open -> won
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "holds 2 deals" in str(form.query_one("#form-message").render())
        assert snapshot_of(db_path) == before


async def test_deleting_a_stage_with_deals_asks_where_they_go(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Negotiation")
        before = snapshot_of(db_path)
        await pilot.press("delete")
        picker = app.screen
        assert isinstance(picker, PickScreen)
        assert "holds 2 deals" in picker.title_text
        assert "Negotiation" not in picker.values and "Proposal sent" in picker.values
        await pilot.press("escape")
        assert snapshot_of(db_path) == before
        await pilot.press("delete")
        for _ in range(app.screen.values.index("Proposal sent")):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert "Negotiation" not in stage_names(db_path)
        assert fetch(db_path, "SELECT s.name, count(*) FROM deal d JOIN stage s ON s.id = d.stage_id"
                              " WHERE d.title IN ('Retainer', 'Audit') GROUP BY s.name") == [("Proposal sent", 2)]


async def test_deleting_an_empty_stage_asks_first(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Writing proposal")
        before = snapshot_of(db_path)
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert snapshot_of(db_path) == before
        await pilot.press("delete", "y")
        await pilot.pause()
        assert "Writing proposal" not in stage_names(db_path)


async def test_the_last_won_stage_is_not_deleted(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Won")
        before = snapshot_of(db_path)
        await pilot.press("delete", "y")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert any("one open and one won stage" in n.message for n in app._notifications)
        assert snapshot_of(db_path) == before


async def test_add_a_pipeline_make_it_default_and_delete_it(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await pilot.press("N")
        await type_text(pilot, "Workshops")
        await pilot.press("ctrl+s")
        await pilot.pause()
        rows = fetch(db_path, "SELECT id, name, is_default FROM pipeline WHERE deleted_at IS NULL ORDER BY position")
        assert [r[1:] for r in rows] == [("Sales", 1), ("Workshops", 0)]
        workshops = rows[1][0]
        assert len(stage_names(db_path, workshops)) == 9  # the default stages
        assert app.screen.current().name == "Workshops"

        await pilot.press("asterisk")
        await pilot.pause()
        assert fetch(db_path, "SELECT name FROM pipeline WHERE is_default") == [("Workshops",)]

        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)  # no deals: a yes/no question
        await pilot.press("y")
        await pilot.pause()
        assert fetch(db_path, "SELECT name, is_default FROM pipeline WHERE deleted_at IS NULL") == [("Sales", 1)]


async def test_the_only_pipeline_is_not_deleted(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        before = snapshot_of(db_path)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert any("is the only one" in n.message for n in app._notifications)
        assert snapshot_of(db_path) == before


async def test_deleting_a_pipeline_with_deals_asks_where_they_go(app_db, db_path: Path) -> None:  # noqa: ANN001
    from crmtui.store.setup_pipelines import add_pipeline

    with app_db.session() as s:
        add_pipeline(s, "Workshops")
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Sales", "pipeline")
        await pilot.press("delete")
        assert isinstance(app.screen, PickScreen) and app.screen.values == ["Workshops"]
        await pilot.press("enter")
        await pilot.pause()
        assert fetch(db_path, "SELECT name, is_default FROM pipeline WHERE deleted_at IS NULL") == [("Workshops", 1)]
        assert fetch(db_path, "SELECT DISTINCT p.name FROM deal d JOIN pipeline p ON p.id = d.pipeline_id") == [
            ("Workshops",)]


async def test_a_stage_change_shows_on_the_board_when_you_go_back(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        board = app.screen
        await open_settings(pilot)
        await cursor_to(pilot, "Negotiation")
        await pilot.press("r")
        await clear_field(pilot)
        await type_text(pilot, "Talks")
        await pilot.press("enter")
        await pilot.pause()
        await cursor_to(pilot, "Unqualified")
        await pilot.press("delete", "y")
        await pilot.pause()
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is board
        names = [c.stage.name for c in board.columns]
        assert "Talks" in names and "Negotiation" not in names and "Unqualified" not in names


# --- fields ---------------------------------------------------------------------------------------


async def test_add_a_choice_field_with_options_and_edit_its_options(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "2")
        await cursor_to(pilot, "company", "entity")
        await pilot.press("n")
        assert isinstance(app.screen, FormScreen)
        await type_text(pilot, "Segment")
        await pilot.press("tab")
        await pick_in_select(pilot, 4)  # text, number, money, date, choice
        await pilot.press("tab")
        await type_text(pilot, "SMB, Mid-market, Enterprise")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert fetch(db_path, "SELECT entity, name, kind, options FROM custom_field WHERE deleted_at IS NULL") == [
            ("company", "Segment", "choice", json.dumps(["SMB", "Mid-market", "Enterprise"]))]

        await cursor_to(pilot, "Mid-market", "option")
        await pilot.press("r")
        await clear_field(pilot)
        await type_text(pilot, "Midsize")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("n")
        await type_text(pilot, "Public sector")
        await pilot.press("enter")
        await pilot.pause()
        await cursor_to(pilot, "SMB", "option")
        await pilot.press("delete", "y")
        await pilot.pause()
        assert json.loads(fetch(db_path, "SELECT options FROM custom_field")[0][0]) == [
            "Midsize", "Enterprise", "Public sector"]

        await cursor_to(pilot, "Segment", "field")
        await pilot.press("r")
        await clear_field(pilot)
        await type_text(pilot, "Market")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("delete", "y")
        await pilot.pause()
        assert fetch(db_path, "SELECT name, deleted_at IS NOT NULL FROM custom_field") == [("Market", 1)]


async def test_a_field_refused_keeps_the_form_and_writes_nothing(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "2")
        before = snapshot_of(db_path)
        await pilot.press("n")
        await type_text(pilot, "Amount")  # a built-in deal field's name
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        assert "built-in field called 'Amount'" in str(form.query_one("#error-name").render())
        assert form.values()["name"] == "Amount"
        assert snapshot_of(db_path) == before


async def test_reorder_fields_and_hide_a_built_in_one(app_db, db_path: Path) -> None:  # noqa: ANN001
    from crmtui.store.field_setup import add_field, hidden_fields

    with app_db.session() as s:
        add_field(s, "deal", "Budget", "money")
        add_field(s, "deal", "Rating", "rating")
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "2")
        await cursor_to(pilot, "Rating", "field")
        await pilot.press("K")
        await pilot.pause()
        assert fetch(db_path, "SELECT name FROM custom_field ORDER BY position") == [("Rating",), ("Budget",)]
        await cursor_to(pilot, "cost", "builtin")
        await pilot.press("h")
        await pilot.pause()
        with app_db.session() as s:
            assert hidden_fields(s, "deal") == {"cost"}
        await pilot.press("h")
        await pilot.pause()
        with app_db.session() as s:
            assert hidden_fields(s, "deal") == set()


# --- choice lists ---------------------------------------------------------------------------------


async def test_choice_lists_add_rename_move_remove(app_db, db_path: Path) -> None:  # noqa: ANN001
    def source() -> list[str]:
        return [r[0] for r in fetch(db_path, "SELECT value FROM choice WHERE list_name = 'source' ORDER BY position")]

    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "3")
        await cursor_to(pilot, "Referral", "choice")
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)
        await clear_field(pilot)
        await type_text(pilot, "Word of mouth")
        await pilot.press("enter")
        await pilot.pause()
        assert source()[0] == "Word of mouth"
        # Records that said it (any case) say the new name.
        assert fetch(db_path, "SELECT DISTINCT source FROM deal WHERE source IS NOT NULL") == [("Word of mouth",)]

        await pilot.press("J")
        await pilot.pause()
        assert source()[:2] == ["Website", "Word of mouth"]

        await pilot.press("n")
        await type_text(pilot, "Podcast")
        await pilot.press("enter")
        await pilot.pause()
        assert source()[-1] == "Podcast"

        await pilot.press("delete", "y")
        await pilot.pause()
        assert "Podcast" not in source()


async def test_a_duplicate_choice_is_refused_in_the_prompt(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "3")
        await cursor_to(pilot, "Website", "choice")
        before = snapshot_of(db_path)
        await pilot.press("r")
        await clear_field(pilot)
        await type_text(pilot, "referral")
        await pilot.press("enter")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert "'Referral' is already in the list" in str(prompt.query_one("#prompt-error").render())
        assert prompt.query_one(Input).value == "referral"
        assert snapshot_of(db_path) == before


# --- follow-up rules and general settings -----------------------------------------------------------


async def test_change_a_rule_and_toggle_one(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "4")
        await cursor_to(pilot, "stale-days")
        before = snapshot_of(db_path)
        await pilot.press("enter")
        await clear_field(pilot)
        await type_text(pilot, "9999")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert "outside 1..3650" in str(app.screen.query_one("#prompt-error").render())
        assert snapshot_of(db_path) == before
        await clear_field(pilot)
        await type_text(pilot, "21")
        await pilot.press("enter")
        await pilot.pause()
        assert fetch(db_path, "SELECT value FROM setting WHERE key = 'stale-days'") == [("21",)]

        await cursor_to(pilot, "follow-up-on-new-deals")
        await pilot.press("e")
        await pilot.pause()
        assert fetch(db_path, "SELECT value FROM setting WHERE key = 'follow-up-on-new-deals'") == [("off",)]


async def test_theme_and_locale_apply_at_once_and_undo(app_db, db_path: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await open_settings(pilot, "5")
            await cursor_to(pilot, "theme")
            await pilot.press("enter")
            picker = app.screen
            assert isinstance(picker, PickScreen)
            await pilot.press("n", "enter")  # a letter jumps to the next theme that starts with it
            await pilot.pause()
            assert app.theme == "nord"
            assert fetch(db_path, "SELECT value FROM setting WHERE key = 'theme'") == [("nord",)]

            await cursor_to(pilot, "locale")
            await pilot.press("enter")
            await type_text(pilot, "sv_SE")
            await pilot.press("enter")
            await pilot.pause()
            assert "234,50" in money.format_money(123450)

            await pilot.press("u")
            await pilot.pause()
            assert money.format_money(123450) == "1,234.50"
            await pilot.press("u")
            await pilot.pause()
            assert app.theme == "textual-dark"
            assert fetch(db_path, "SELECT value FROM setting WHERE key IN ('theme', 'locale')") == []  # the defaults
    finally:
        money.use_locale(None)


# --- undo -----------------------------------------------------------------------------------------


async def test_u_undoes_each_change_in_turn(app_db, db_path: Path) -> None:  # noqa: ANN001
    before = snapshot_of(db_path)
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot)
        await cursor_to(pilot, "Negotiation")
        await pilot.press("r")
        await clear_field(pilot)
        await type_text(pilot, "Talks")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("K")
        await pilot.pause()
        assert stage_names(db_path)[3:5] == ["Talks", "Proposal sent"]
        await pilot.press("u")
        await pilot.pause()
        assert stage_names(db_path)[3:5] == ["Proposal sent", "Talks"]
        await pilot.press("u")
        await pilot.pause()
        assert "Negotiation" in stage_names(db_path)
        await pilot.press("u")
        await pilot.pause()
        assert any(n.message == "Nothing to undo" for n in app._notifications)
    assert without_undo_log(snapshot_of(db_path)) == without_undo_log(before)


# --- how it looks ---------------------------------------------------------------------------------


@pytest.fixture
def seeded_app(db_path: Path, fixed_clock):  # noqa: ANN001, ANN201
    from crmtui.store.field_setup import add_field, hide_field
    from crmtui.store.setup_pipelines import update_stage

    db = open_database(db_path)
    seed_board(db)
    with db.session() as s:
        update_stage(s, "Negotiation", color="dark_orange")
        add_field(s, "deal", "Project type", "choice", options="Branding, Website, SEO")
        add_field(s, "deal", "Customer size", "lookup", lookup="company.size")
        hide_field(s, "deal", "cost")
    app = make_app(db)
    app.sub_title = "crm.db"  # the real path differs from run to run
    return app


def test_settings_pipelines_120x40(seeded_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(seeded_app, terminal_size=(120, 40), press=["comma", "down", "down"])


def test_settings_pipelines_80x24(seeded_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(seeded_app, terminal_size=(80, 24), press=["comma", *["down"] * 5])


def test_settings_fields_80x24(seeded_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(seeded_app, terminal_size=(80, 24), press=["comma", "2", "down"])


def test_settings_general_120x40(seeded_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(seeded_app, terminal_size=(120, 40), press=["comma", "5", "down", "down"])


async def test_e_changes_a_fields_kind_and_whether_quick_add_asks_for_it(app_db, db_path: Path) -> None:  # noqa: ANN001
    from crmtui.store.field_setup import add_field

    with app_db.session() as s:
        add_field(s, "deal", "Hours", "text")
    with app_db.session() as s:
        from crmtui.store.custom_fields import write_custom_values

        write_custom_values(s, 1, {1: "12.5"})
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_settings(pilot, "2")
        await cursor_to(pilot, "Hours", "field")
        await pilot.press("e")
        assert isinstance(app.screen, FormScreen)
        await pick_in_select(pilot, 1)  # text -> number
        await pilot.press("tab", "tab")
        await pick_in_select(pilot, 1)  # required: yes
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
        assert fetch(db_path, "SELECT kind, required FROM custom_field") == [("number", 1)]
        assert fetch(db_path, "SELECT value FROM custom_value") == [("12.5",)]
        await pilot.press("u")
        await pilot.pause()
        assert fetch(db_path, "SELECT kind, required FROM custom_field") == [("text", 0)]
