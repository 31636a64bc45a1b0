"""Custom and built-in deal fields on the board (filter, sort, card fields), and breakdowns by a
field in `crmtui report --by` and the dashboard."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable
from typer.testing import CliRunner

from crmtui.app import make_app
from crmtui.cli import app as cli
from crmtui.screens.board import BoardScreen
from crmtui.screens.dashboard import BreakdownTable, DashboardScreen
from crmtui.screens.deal_list import DealListScreen
from crmtui.store.board import BoardData, BoardFilter, find_sort, load_board
from crmtui.store.board_fields import DEFAULT_LAYOUT, card_layout
from crmtui.store.db import Database
from crmtui.store.deals import create_deal
from crmtui.store.editing import set_fields
from crmtui.store.errors import ValidationError
from crmtui.store.field_setup import add_field, hide_field
from crmtui.store.settings import set_setting
from crmtui.widgets.stage_column import HEADER_HEIGHT
from tests.board_seed import seed_board
from tests.conftest import snapshot_of

SIZE = (120, 40)
runner = CliRunner()


@pytest.fixture
def seeded(db: Database, fixed_clock) -> dict[str, int]:  # noqa: ANN001
    """The board seed with nine custom deal fields and a few values."""
    ids = seed_board(db)
    with db.session() as s:
        for name, kind, extra in [
            ("Size", "choice", "Small,Medium,Large"), ("Budget", "money", None),
            ("Services", "multichoice", "Branding,Website,SEO"), ("Urgent", "yesno", None),
            ("Customer size", "lookup", "company.size"), ("Decision", "date", None), ("Fit", "rating", None),
            ("Hours", "number", None), ("Brief", "text", None),
        ]:
            add_field(s, "deal", name, kind, options=None if kind == "lookup" else extra,
                      lookup=extra if kind == "lookup" else None)
        values = {
            "Website relaunch": {"Size": "large", "Budget": "15000", "Services": "Website, SEO", "Urgent": "yes",
                                 "Decision": "2026-12-01", "Fit": "5", "Hours": "40", "Brief": "New shop"},
            "Brand refresh": {"Size": "small", "Budget": "5000", "Services": "Branding", "Urgent": "no",
                              "Decision": "2027-01-15", "Fit": "2", "Hours": "12.5"},
            "Care plan": {"Size": "Medium", "Budget": "10000", "Fit": "4"},
            "Retainer": {"Size": "Large"},
            "Archive": {"Size": "Small"},
            "Old shop": {"Size": "Large", "Services": "SEO"},
        }
        for title, fields in values.items():
            set_fields(s, "deal", ids[title], fields)
        acme = s.execute("SELECT id FROM company WHERE name = 'Acme'").scalar()
        set_fields(s, "company", acme, {"size": "enterprise"})
        s.execute(f"UPDATE deal SET source = 'Referral' WHERE id = {ids['SEO audit']}")
    return ids


def titles(db: Database, text: str = "", sort: str = "close") -> list[str]:
    """The open deals the board shows for a filter and sort, column by column."""
    conn = db.raw()
    try:
        data = BoardData(conn, load_board(conn, flt=BoardFilter.parse(text, conn), sort=sort))
        return [c.title for s in data.stages if s.is_open for c in data.cards(s.id, 0, data.column(s.id).count)]
    finally:
        conn.close()


def refused(db: Database, text: str) -> str:
    conn = db.raw()
    try:
        with pytest.raises(ValidationError) as caught:
            BoardFilter.parse(text, conn)
        return caught.value.message
    finally:
        conn.close()


# --- the filter, in the store ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("size:large", ["Website relaunch"]),  # any case; the option's own spelling is stored
    ("Size:MEDIUM", ["Care plan"]),
    ("size=small", ["Brand refresh"]),
    ("budget>10000", ["Website relaunch"]),  # in units: 10000 is 10,000.00
    ("budget>=10000", ["Website relaunch", "Care plan"]),
    ("budget<10000", ["Brand refresh"]),
    ("budget<=10000", ["Brand refresh", "Care plan"]),
    ("budget:5000", ["Brand refresh"]),
    ("hours>12", ["Brand refresh", "Website relaunch"]),
    ("hours<13", ["Brand refresh"]),
    ("fit>=4", ["Website relaunch", "Care plan"]),
    ("decision<2027-01-01", ["Website relaunch"]),
    ("decision>=15.01.2027", ["Brand refresh"]),
    ("services:seo", ["Website relaunch"]),  # multichoice: has the option
    ("urgent:yes", ["Website relaunch"]),
    ("urgent:n", ["Brand refresh"]),
    ("brief:\"new shop\"", ["Website relaunch"]),
    ("customer_size:enterprise", ["Website relaunch", "Team workshop"]),  # a lookup of the company's size
    ('"customer size":Enterprise', ["Website relaunch", "Team workshop"]),
    ("amount>5000", ["Website relaunch", "Team workshop", "Care plan"]),
    ("amount<=2500 #seo", ["SEO audit"]),
    ("confidence>=4", ["Website relaunch", "Team workshop"]),
    ("close<2026-12-10", ["Brand refresh", "Team workshop"]),
    ("source:referral", ["SEO audit"]),
    ("tag:website", ["Website relaunch"]),
    ("company:acme size:large", ["Website relaunch"]),
    ("acme budget>0", ["Website relaunch"]),
])
def test_filter_by_a_field(db: Database, seeded, text: str, expected: list[str]) -> None:  # noqa: ANN001
    assert titles(db, text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("colour:red", "no deal field called 'colour' (fields: Size, Budget, Services, Urgent, Customer size, Decision,"
                   " Fit, Hours, Brief, amount, cost, confidence, close, source, company, stage, tag, …)"),
    ("size:huge", "Size: 'huge' is not one of Small, Medium, Large"),
    ("budget>lots", "Budget: 'lots' is not an amount (try 12500 or 12,500.00)"),
    ("urgent:maybe", "Urgent: 'maybe' is not yes or no"),
    ("decision<soon", "Decision: "),
    ("fit>9", "Fit: '9' is not 1 to 5 stars"),
    ("size>2", "Size: > < >= <= compare numbers, amounts, ratings and dates; Size is a choice field (use size:VALUE)"),
    ("source<b", "source: > < >= <= compare numbers, amounts, ratings and dates; source is a text field"),
    ("budget>", "Budget: type a value after budget>"),
])
def test_a_wrong_field_or_value_is_refused_by_name(
        db: Database, seeded, text: str, message: str) -> None:  # noqa: ANN001
    assert refused(db, text).startswith(message)


def test_plain_words_and_tags_filter_as_before(db: Database, seeded) -> None:  # noqa: ANN001
    assert BoardFilter.parse("acme #web") == BoardFilter("acme #web", ("acme",), ("web",))
    assert titles(db, '"team workshop"') == ["Team workshop"]  # quotes keep a phrase together


# --- sorting by a field --------------------------------------------------------------------------------


def test_sort_by_a_field(db: Database, seeded) -> None:  # noqa: ANN001
    conn = db.raw()
    budget, size, decision = (find_sort(conn, n) for n in ("budget", "Size", "decision"))
    assert (find_sort(conn, "days in stage"), find_sort(conn, "expected close"), find_sort(conn, "amount")) == (
        "age", "close", "amount")
    with pytest.raises(ValidationError):
        find_sort(conn, "colour")
    conn.close()
    # Highest first, deals without a value last (Team workshop has none).
    assert titles(db, sort=budget)[-3:] == ["Website relaunch", "Care plan", "Team workshop"]
    assert titles(db, "#seo", sort=budget) == ["SEO audit"]
    # Choices in their options' order: Small, Medium, Large, then none.
    assert titles(db, "company:bolt", sort=size) == ["Brand refresh", "Care plan"]
    assert titles(db, sort=decision)[:2] == ["Brand refresh", "SEO audit"]  # soonest first; none last


# --- cards -------------------------------------------------------------------------------------------


def test_cards_are_as_usual_without_settings(db: Database, seeded) -> None:  # noqa: ANN001
    conn = db.raw()
    assert card_layout(conn) is DEFAULT_LAYOUT and DEFAULT_LAYOUT.lines == 4
    conn.close()


def card_lines(app, stage: str, index: int = 0) -> list[str]:  # noqa: ANN001
    column = next(c for c in app.screen.columns if c.stage.name == stage)
    height = column._card_height
    top = HEADER_HEIGHT + index * height
    return [column.render_line(y).text.strip(" ▌") for y in range(top, top + height - 1)]


async def test_card_fields_show_on_up_to_two_lines(db: Database, seeded) -> None:  # noqa: ANN001
    with db.session() as s:
        set_setting(s, "card-fields", "size,budget,expected close,services")
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = card_lines(app, "Proposal sent")
        assert lines[0] == "Website relaunch" and lines[1] == "Acme"
        assert lines[3].split() == ["Size", "Large", "Budget", "15k"]
        assert lines[4].split() == ["Close", "15", "Dec", "Website,", "SEO"]  # the label gives way
        assert lines[5] == "next 24 Nov"
        await pilot.press("dollar_sign")  # privacy masks custom amounts too
        await pilot.pause()
        assert "15k" not in card_lines(app, "Proposal sent")[3]


async def test_customer_focus_person_puts_the_contact_first(db: Database, fixed_clock) -> None:  # noqa: ANN001
    with db.session() as s:
        create_deal(s, "Coaching", company="Acme", contact="Jane Roe", amount="900")
        set_setting(s, "customer-focus", "person")
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert card_lines(app, "Unqualified")[1] == "Jane Roe · Acme"


async def test_hidden_fields_leave_the_cards(db: Database, seeded) -> None:  # noqa: ANN001
    with db.session() as s:
        for name in ("confidence", "company", "lost_reason"):
            hide_field(s, "deal", name)
        set_setting(s, "card-fields", "amount,cost")
        hide_field(s, "deal", "cost")
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = card_lines(app, "Proposal sent")
        assert lines[:2] == ["Website relaunch", "—"]  # the customer is the contact alone: none here
        assert lines[2].startswith("12,500") and "★" not in lines[2]
        assert lines[3:] == ["Amount 12.5k", "next 24 Nov"]  # no cost
        assert card_lines(app, "Qualification")[1] == "Jane Roe"
        assert card_lines(app, "Lost")[-1] == "lost"  # no reason
    with db.session() as s:
        hide_field(s, "deal", "contact")
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = card_lines(app, "Qualification")
        assert lines[0] == "Logo design" and lines[1].split() == ["1,800", "0d"]  # no customer line


# --- the board, from the keys ----------------------------------------------------------------------------


def open_titles(app) -> list[str]:  # noqa: ANN001
    board = app.screen
    assert isinstance(board, BoardScreen)
    return [c.title for col in board.columns if col.stage.is_open
            for c in board.board.cards(col.stage.id, 0, col.count)]


async def test_typing_a_field_filter_shows_its_deals(db: Database, seeded) -> None:  # noqa: ANN001
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"budget>=10000", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert open_titles(app) == ["Website relaunch", "Care plan"]
        assert "filter budget>=10000" in str(app.screen.query_one("#board-summary").render())
        # An unknown field: the message under the filter, the board as it was.
        await pilot.press("slash", "space", *"colour:red")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        message = app.screen.query_one("#board-filter-error")
        assert message.display and "no deal field called 'colour'" in str(message.render())
        assert open_titles(app) == ["Website relaunch", "Care plan"]
        assert app.screen.board.snapshot.filter.text == "budget>=10000"
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not message.display and len(open_titles(app)) == 6


async def test_sort_by_a_field_from_the_keys(db: Database, seeded) -> None:  # noqa: ANN001
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("S", *"budget", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        snapshot = app.screen.board.snapshot
        assert snapshot.sort_label == "Budget, highest first"
        assert open_titles(app)[-2:] == ["Care plan", "Team workshop"]
        # `s` goes on through the number, money, date and rating fields, then the built-in sorts.
        labels = []
        for _ in range(4):
            await pilot.press("s")
            await app.workers.wait_for_complete()
            labels.append(app.screen.board.snapshot.sort_label)
        assert labels == ["Decision, soonest first", "Fit, highest first", "Hours, highest first", "expected close"]
        await pilot.pause()
        assert "sort: expected close" in str(app.screen.query_one("#board-summary").render())


# --- breakdowns ---------------------------------------------------------------------------------------


def report(db: Database, *args: str):  # noqa: ANN201
    return runner.invoke(cli, ["--db", str(db.path), "report", "--period", "all", *args], catch_exceptions=False)


def rows(result) -> dict[str, tuple]:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    (breakdown,) = json.loads(result.stdout)["by_field"]
    return {r["value"]: (r["deals"], r["won_deals"], r["won"], r["lost_deals"], r["win_rate"])
            for r in breakdown["rows"]}


def test_report_by_a_choice_field(db: Database, seeded) -> None:  # noqa: ANN001
    # Large: Website relaunch, Retainer (won 9,000), Old shop (lost); Small: Brand refresh, Archive (won 7,000).
    assert rows(report(db, "--by", "size", "--json")) == {
        "Large": (3, 1, 9000, 1, 0.5), "Small": (2, 1, 7000, 0, 1.0), "Medium": (1, 0, 0, 0, None),
        "": (3, 0, 0, 0, None)}


def test_report_by_multichoice_yesno_and_lookup_fields(db: Database, seeded) -> None:  # noqa: ANN001
    # A deal counts under each of its options: Website relaunch under Website and SEO.
    assert rows(report(db, "--by", "Services", "--json")) == {
        "SEO": (2, 0, 0, 1, 0.0), "Branding": (1, 0, 0, 0, None), "Website": (1, 0, 0, 0, None),
        "": (6, 2, 16000, 0, 1.0)}
    assert rows(report(db, "--by", "urgent", "--json")) == {
        "yes": (1, 0, 0, 0, None), "no": (1, 0, 0, 0, None), "": (7, 2, 16000, 1, 2 / 3)}
    # By the company's size: Acme's deals (Website relaunch, Team workshop, Archive won 7,000).
    assert rows(report(db, "--by", "customer_size", "--json")) == {
        "enterprise": (3, 1, 7000, 0, 1.0), "": (6, 1, 9000, 1, 0.5)}


def test_report_by_prints_a_section_in_tables_and_markdown(db: Database, seeded) -> None:  # noqa: ANN001
    table = report(db, "--by", "size")
    assert table.exit_code == 0
    assert "By Size (deals created; won and lost in the period)" in table.stdout
    assert [w for w in table.stdout.rstrip().splitlines()[-1].split() if w != "│"][:2] == ["(none)", "3"]
    markdown = report(db, "--by", "size", "--by", "urgent", "--markdown").stdout
    assert "| Large | 3 | 1 | 9,000 | 1 | 50% |" in markdown and "### By Urgent" in markdown


def test_report_by_refuses_other_fields_naming_the_usable_ones(db: Database, seeded) -> None:  # noqa: ANN001
    before = snapshot_of(db.path)
    for name, message in [
        ("Budget", "Error: by: Budget is a money field; a breakdown takes a choice, multichoice, yes/no or lookup"
                   " field (Size, Services, Urgent, Customer size)"),
        ("colour", "Error: by: no deal field called 'colour' (fields to break down by: Size, Services, Urgent,"
                   " Customer size)"),
    ]:
        result = report(db, "--by", name)
        assert result.exit_code == 1 and message in " ".join(result.output.split())
    assert snapshot_of(db.path) == before


async def test_the_dashboard_breaks_deals_down_by_a_field(db: Database, seeded) -> None:  # noqa: ANN001
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        sources = app.screen.query_one("#table-sources", BreakdownTable)
        assert sources.border_subtitle == "g: by Size"
        await pilot.press("g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#table-field", BreakdownTable)
        assert table.display and not sources.display and table.border_title == "By Size"
        assert [str(c.label) for c in table.columns.values()] == ["Size", "Deals", "Won", "Win"]
        shown = [[str(cell) for cell in table.get_row_at(r)] for r in range(table.row_count)]
        assert shown[0] == ["Large", "3", "9k", "50%"]
        assert table.border_subtitle == "g: by Services"
        table.focus()
        await pilot.press("enter")  # the deals behind the row
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DealListScreen)
        assert str(app.screen.query_one("#deal-list-title").render()).startswith("Deals with Size: Large")
        assert app.screen.query_one(DataTable).row_count == 3
        await pilot.press("escape")
        for _ in range(4):  # Services, Urgent, Customer size, then lead sources again
            await pilot.press("g")
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert sources.display and not table.display


async def test_a_deleted_field_leaves_the_cards_and_the_sort(db: Database, seeded) -> None:  # noqa: ANN001
    from crmtui.store.field_setup import delete_field

    with db.session() as s:
        set_setting(s, "card-fields", "Budget")
    conn = db.raw()
    budget = find_sort(conn, "budget")
    conn.close()
    with db.session() as s:
        delete_field(s, "deal", "Budget")
    conn = db.raw()
    snapshot = load_board(conn, sort=budget)
    assert snapshot.sort == "close" and snapshot.layout.fields == ()
    conn.close()


def test_card_fields_make_the_cards_taller(db: Database, seeded) -> None:  # noqa: ANN001
    with db.session() as s:
        set_setting(s, "card-fields", "size,budget,fit")
    conn = db.raw()
    layout = load_board(conn).layout
    assert (layout.lines, [f.label for f in layout.fields]) == (6, ["Size", "Budget", "Fit"])
    conn.close()
