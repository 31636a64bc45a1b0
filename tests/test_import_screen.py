"""The import screen (`I`): pick a file, check and change its columns and stages, see the preview
with its rejected rows, import in one transaction or leave with nothing written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.help import HelpScreen
from crmtui.screens.import_screen import CsvTree, ImportScreen
from crmtui.screens.settings import PickScreen
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from tests.conftest import fetch, snapshot_of

DEALS = """title,company,stage,amount,expected_close
Website redesign,Acme,Qualification,4000,2027-03-01
SEO audit,Gamma,Negotiation,2500,2027-04-01
"""
# "Betrag" matches no field: the user maps it to the amount. Line 3's amount is no amount.
DEALS_WITH_A_BAD_ROW = """Deal,Customer,Stage,Betrag
Website redesign,Acme,Qualification,4000
Logo,Beta,Won,12x
SEO audit,Gamma,Negotiation,2500
"""
# A CRM export with stages of its own (won and lost in its own words), no title column, and a
# column no field matches.
OPPORTUNITIES = """opportunity_id,product,account,deal_stage,close_value,employees
1,GTX Basic,Cancity,Won,1054,120
2,GTXPro,Isdom,Engaging,800,45
3,MG Special,Cancity,Prospecting,500,120
4,GTX Basic,Codehow,Lost,0,300
5,GTX Basic,Hatfan,Engaging,900,12
"""


@pytest.fixture
def app_db(db_path: Path):  # noqa: ANN201
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Retainer", amount="5000", stage="Negotiation")
    return db


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, where the file picker starts, with a deals file and a bad one."""
    where = tmp_path / "exports"
    where.mkdir()
    (where / "deals.csv").write_text(DEALS, encoding="utf-8")
    (where / "bad.csv").write_text(DEALS_WITH_A_BAD_ROW, encoding="utf-8")
    (where / "opportunities.csv").write_text(OPPORTUNITIES, encoding="utf-8")
    (where / "notes.md").write_text("not a CSV file")
    monkeypatch.chdir(where)
    return where


def deals(db_path: Path) -> list[tuple]:
    return fetch(db_path, "SELECT title, amount_cents FROM deal WHERE deleted_at IS NULL ORDER BY id")


async def settle(pilot) -> None:  # noqa: ANN001
    """Wait for the screen's reading, planning or importing to finish and its report to show."""
    app = pilot.app
    running = [w for w in app.workers if w.group.startswith("import-")]
    if running:  # (none: they are done; an empty list would wait for every worker, the picker's too)
        await app.workers.wait_for_complete(running)
    await pilot.pause()


async def open_import(pilot) -> ImportScreen:  # noqa: ANN001
    await pilot.pause()
    await pilot.press("I")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


async def pick_file(pilot, name: str) -> None:  # noqa: ANN001
    """Walk the picker's cursor down to `name`, as a user would, and open it."""
    tree = pilot.app.screen.query_one(CsvTree)
    for _ in range(100):  # the folder is read in the background
        if any(node.data.path.name == name for node in tree.root.children):
            break
        await pilot.pause()
    await pilot.press("home")
    for _ in range(len(tree.root.children) + 1):
        if tree.cursor_node.data.path.name == name:
            await pilot.press("enter")
            await settle(pilot)
            return
        await pilot.press("down")
    raise AssertionError(f"no {name} in the picker")


def text_of(screen: ImportScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def cells(screen: ImportScreen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def to_preview(pilot) -> None:  # noqa: ANN001
    await pilot.press("4")
    await settle(pilot)


# --- opening it -----------------------------------------------------------------------------------


async def test_I_opens_the_import_screen_and_escape_leaves(app_db, folder: Path) -> None:  # noqa: ANN001, N802
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        tree = screen.query_one(CsvTree)
        await pick_file(pilot, "bad.csv")
        await pilot.press("1")
        assert sorted(node.data.path.name for node in tree.root.children) == ["bad.csv", "deals.csv",
                                                                               "opportunities.csv"]
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_the_command_palette_opens_the_import(app_db, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"Import a file")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)


async def test_help_lists_the_import_keys(app_db, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_import(pilot)
        await pick_file(pilot, "deals.csv")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        described = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"Change", "Type", "Next", "Cancel", "Import"} <= described


# --- choosing the file ----------------------------------------------------------------------------


async def test_pick_a_file_import_it_and_the_board_shows_the_deals(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "deals.csv")
        assert screen.step == "columns"
        assert "deals.csv: UTF-8, comma-delimited · deals" in text_of(screen, "#import-detected")
        assert cells(screen, "#import-columns")[3][:3] == ["amount", "amount", "4000"]
        await pilot.press("n", "n")  # the stages (all of them the pipeline's), then the preview
        await settle(pilot)
        assert screen.step == "preview"
        assert "2 rows → deals: 2 new · companies: 2 new" in text_of(screen, "#import-counts")
        assert cells(screen, "#import-preview")[0] == ["new", "Website redesign", "Acme", "Qualification", "4,000"]
        assert deals(db_path) == [("Retainer", 500000)]  # the preview wrote nothing
        await pilot.press("i")
        await settle(pilot)
        assert deals(db_path) == [("Retainer", 500000), ("Website redesign", 400000), ("SEO audit", 250000)]
        assert "Import #1 done" in text_of(screen, "#import-counts")
        await pilot.press("escape")
        await pilot.pause()
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "board-load"])
        await pilot.pause()
        board = app.screen
        assert isinstance(board, BoardScreen)
        assert sum(column.count for column in board.board.snapshot.columns.values()) == 3


async def test_a_typed_path_opens_the_file(app_db, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        screen.query_one(Input).focus()
        await pilot.press(*"deals.csv", "enter")
        await settle(pilot)
        assert screen.step == "columns"


async def test_a_file_that_cannot_be_read_shows_one_line_and_stays(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    (folder / "empty.csv").write_text("")
    before = snapshot_of(db_path)
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "empty.csv")
        assert screen.step == "file"
        assert text_of(screen, "#import-error") == "empty.csv: the file is empty"
        screen.query_one(Input).focus()
        await pilot.press(*"missing.csv", "enter")
        await settle(pilot)
        assert text_of(screen, "#import-error") == "missing.csv: no such file"
        assert screen.step == "file"
    assert snapshot_of(db_path) == before


async def test_a_folder_without_csv_files_says_how_to_type_a_path(
        app_db, tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    app = make_app(app_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_import(pilot)
        note = screen.query_one("#import-no-files", Static)
        assert note.display
        assert "No CSV files in" in str(note.render()) and "Type a file's path above" in str(note.render())
        assert isinstance(app.focused, Input)  # typing goes straight into the path
        await pilot.press(*str(folder / "deals.csv"), "enter")
        await settle(pilot)
        assert screen.step == "columns"


# --- the columns ----------------------------------------------------------------------------------


async def test_map_a_column_see_a_reject_and_import_the_valid_rows(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "bad.csv")
        value = cells(screen, "#import-columns")[3]
        assert value == ["Betrag", "—", "4000", "matches no field (enter maps, f keeps)"]
        await pilot.press("down", "down", "down", "enter")  # the Betrag column
        assert isinstance(app.screen, PickScreen)
        await pilot.press("a", "enter")  # the first field starting with a: amount
        await pilot.pause()
        assert cells(screen, "#import-columns")[3] == ["Betrag", "amount", "4000", "your choice"]
        assert screen.map_options() == ["Betrag=amount"]  # what --map takes
        await to_preview(pilot)
        assert "3 rows → deals: 2 new, 1 rejected" in text_of(screen, "#import-counts")
        rejects = text_of(screen, "#import-rejects-text")
        assert "line 3, column 'Betrag': '12x' is not an amount" in rejects
        await pilot.press("i")
        assert isinstance(app.screen, ConfirmScreen)  # some rows would be left out: asked first
        await pilot.press("y")
        await settle(pilot)
        assert deals(db_path) == [("Retainer", 500000), ("Website redesign", 400000), ("SEO audit", 250000)]
        rejected = (folder / "bad.rejects.csv").read_text(encoding="utf-8")
        assert "Logo,Beta,Won,12x" in rejected
        assert "The rejected rows are in bad.rejects.csv" in text_of(screen, "#import-counts")


async def test_ignoring_the_title_column_says_what_is_missing(app_db, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "deals.csv")
        await pilot.press("enter", "home", "enter")  # title -> (ignore), the list's first
        await pilot.pause()
        assert "no column gives the deal title" in text_of(screen, "#import-error")
        assert cells(screen, "#import-columns")[0][:2] == ["title", "—"]
        await pilot.press("4")  # no preview without a mapping
        assert screen.step == "columns"


async def test_the_record_type_is_chosen_when_the_headers_do_not_tell(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    (folder / "clients.csv").write_text("Name,Town\nAcme,Oslo\nBeta,Bergen\n", encoding="utf-8")
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "clients.csv")
        assert "press t to choose" in text_of(screen, "#import-error")
        await pilot.press("t")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("c", "enter")  # companies
        await pilot.pause()
        assert "companies" in text_of(screen, "#import-detected")
        await to_preview(pilot)
        await pilot.press("i")
        await settle(pilot)
    assert fetch(db_path, "SELECT name FROM company ORDER BY id") == [("Acme",), ("Beta",)]


async def test_f_makes_custom_fields_of_the_columns_that_match_none(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "opportunities.csv")
        assert "titles are made of 'product' and 'account'" in text_of(screen, "#import-detected")
        assert cells(screen, "#import-columns")[5][1:] == ["—", "120", "matches no field (enter maps, f keeps)"]
        await pilot.press("f")
        await settle(pilot)
        assert cells(screen, "#import-columns")[5][1:] == ["new field: employees", "120", "number"]
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down", "enter", "q", "enter")  # Engaging -> Qualification
        await pilot.press("down", "enter", "u", "enter")  # Prospecting -> Unqualified
        await to_preview(pilot)
        assert "New fields: product (text), employees (number)" in text_of(screen, "#import-counts")
        await pilot.press("i")
        await settle(pilot)
    assert fetch(db_path, "SELECT name, kind FROM custom_field") == [("product", "text"), ("employees", "number")]
    assert fetch(db_path, "SELECT f.name, v.value FROM deal d JOIN custom_value v ON v.entity_id = d.id"
                          " JOIN custom_field f ON f.id = v.field_id WHERE d.title = 'GTXPro – Isdom'"
                          " ORDER BY f.id") == [("product", "GTXPro"), ("employees", "45")]


# --- the stages -----------------------------------------------------------------------------------


def deal_stages(db_path: Path) -> dict[str, str]:
    return dict(fetch(db_path, "SELECT d.title, s.name FROM deal d JOIN stage s ON s.id = d.stage_id"
                               " WHERE d.deleted_at IS NULL"))


def pipeline_stages(db_path: Path, pipeline: str) -> list[tuple[str, str]]:
    return fetch(db_path, "SELECT s.name, s.kind FROM stage s JOIN pipeline p ON p.id = s.pipeline_id"
                          " WHERE p.name = ? AND s.deleted_at IS NULL ORDER BY s.position", pipeline)


async def test_map_the_files_unknown_stages_to_ours(app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "opportunities.csv")
        await pilot.press("4")  # straight to the preview: the unknown stages stop it, and it says where to go
        await settle(pilot)
        assert text_of(screen, "#import-error") == (
            "opportunities.csv: 2 unknown stages: 'Engaging', 'Prospecting' (first on line 3). Press 3 to map them,"
            " add them or make a new pipeline of them.")
        assert not screen.check_action("run_import", ())
        await pilot.press("3")
        await settle(pilot)
        assert cells(screen, "#import-stages") == [
            ["Won", "1", "won", "Won"],
            ["Engaging", "2", "open", "not in the pipeline: enter maps it"],
            ["Prospecting", "1", "open", "not in the pipeline: enter maps it"],
            ["Lost", "1", "lost", "Lost"]]
        await pilot.press("down", "enter")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("q", "enter")  # Qualification
        await pilot.press("down", "enter", "u", "enter")  # Prospecting -> Unqualified
        await pilot.pause()
        assert cells(screen, "#import-stages")[1][3] == "Qualification (your choice)"
        assert screen.options().stage_map == [("Engaging", "Qualification"), ("Prospecting", "Unqualified")]
        await to_preview(pilot)
        await pilot.press("i")
        await settle(pilot)
    assert deal_stages(db_path) == {"Retainer": "Negotiation", "GTX Basic – Cancity": "Won",
                                    "GTXPro – Isdom": "Qualification", "MG Special – Cancity": "Unqualified",
                                    "GTX Basic – Codehow": "Lost", "GTX Basic – Hatfan": "Qualification"}


async def test_c_adds_the_stages_the_pipeline_lacks_before_won(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "opportunities.csv")
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("c")
        assert cells(screen, "#import-stages")[1][3] == "new open stage (stage 1 of 2 added)"
        await pilot.press("down", "down", "K")  # Prospecting before Engaging
        assert cells(screen, "#import-stages")[1][:1] == ["Prospecting"]
        await to_preview(pilot)
        assert "New stages: Prospecting, Engaging" in text_of(screen, "#import-counts")
        await pilot.press("i")
        await settle(pilot)
    names = [name for name, _kind in pipeline_stages(db_path, "Sales")]
    assert names[names.index("Contract out for signature"):] == [
        "Contract out for signature", "Prospecting", "Engaging", "Won", "Lost", "N/A"]


async def test_N_makes_a_new_pipeline_of_the_files_stages(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001, N802
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "opportunities.csv")
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("N")
        screen_input = app.screen.query_one(Input)
        assert screen_input.value == "Opportunities"  # named after the file
        screen_input.value = ""
        await pilot.press(*"Sales", "enter")  # taken: the prompt says so and stays
        assert "already a pipeline called 'Sales'" in str(app.screen.query_one("#prompt-error", Static).render())
        screen_input.value = ""
        await pilot.press(*"Resale", "enter")
        await pilot.pause()
        assert cells(screen, "#import-stages")[1][3] == "Resale: stage 1 of 2"
        await pilot.press("down", "down", "K")  # Prospecting first
        await to_preview(pilot)
        assert "New pipeline 'Resale': Prospecting, Engaging, Won (won), Lost (lost)" in text_of(
            screen, "#import-counts")
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("escape")  # back on the board: it shows the new pipeline, where the deals went
        await settle(pilot)
        [(resale,)] = fetch(db_path, "SELECT id FROM pipeline WHERE name = 'Resale'")
        assert app.screen.board.snapshot.pipeline_id == resale
    assert pipeline_stages(db_path, "Resale") == [("Prospecting", "open"), ("Engaging", "open"), ("Won", "won"),
                                                  ("Lost", "lost")]
    assert fetch(db_path, "SELECT count(*) FROM deal d JOIN pipeline p ON p.id = d.pipeline_id"
                          " WHERE p.name = 'Resale'") == [(5,)]


# --- leaving, and errors --------------------------------------------------------------------------


async def test_escape_in_the_preview_writes_nothing(app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    before = snapshot_of(db_path)
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "deals.csv")
        await to_preview(pilot)
        assert screen.preview is not None
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)
    assert snapshot_of(db_path) == before


async def test_a_locked_database_shows_one_message_and_writes_nothing(
        app_db, db_path: Path, folder: Path) -> None:  # noqa: ANN001
    before = snapshot_of(db_path)
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_import(pilot)
        await pick_file(pilot, "deals.csv")
        await to_preview(pilot)
        other = sqlite3.connect(db_path, isolation_level=None)  # another program writing
        other.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("i")
            await settle(pilot)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert "another crmtui is writing to this database" in text_of(screen, "#import-error")
        assert screen.step == "preview" and not screen.done
        await pilot.press("i")  # the lock is gone: it can be tried again
        await settle(pilot)
        assert screen.done
    assert snapshot_of(db_path) != before


# --- how it looks ---------------------------------------------------------------------------------


def _typed(path: str):  # noqa: ANN202
    async def run_before(pilot) -> None:  # noqa: ANN001
        await pilot.press("I")
        await pilot.pause()
        pilot.app.screen.query_one(Input).focus()
        await pilot.press(*path, "enter")
        await settle(pilot)
        await pilot.press("down", "down", "down", "enter", "a", "enter")  # Betrag -> amount
        await pilot.pause()

    return run_before


@pytest.fixture
def snap_app(db_path: Path, folder: Path, fixed_clock):  # noqa: ANN001, ANN201
    app = make_app(open_database(db_path))
    app.sub_title = "crm.db"  # the real path differs from run to run
    return app


def test_columns_snapshot_80x24(snap_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=_typed("bad.csv"))


def test_preview_snapshot_120x40(snap_app, snap_compare) -> None:  # noqa: ANN001
    async def to_the_preview(pilot) -> None:  # noqa: ANN001
        await _typed("bad.csv")(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(snap_app, terminal_size=(120, 40), run_before=to_the_preview)


async def test_an_import_from_the_screen_tells_the_import_finished_hook(
        app_db, folder: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from tests.test_hooks import payload_in, recorder

    hooks_folder = tmp_path / "config" / "hooks"
    hooks_folder.mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("CRMTUI_CONFIG_DIR", str(tmp_path / "config"))
    recorder(hooks_folder, "import-finished", tmp_path / "import.json")
    app = make_app(app_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_import(pilot)
        await pick_file(pilot, "deals.csv")
        await pilot.press("n", "n")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
    payload = payload_in(tmp_path / "import.json")
    assert payload["event"] == "import-finished" and payload["import_id"] == 1
    assert payload["import"]["counts"]["deal"]["created"] == 2 and payload["import"]["dry_run"] is False
