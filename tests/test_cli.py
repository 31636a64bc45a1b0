"""The scripting commands, as a user meets them: output, exit codes, and nothing written on errors."""

from __future__ import annotations

import io

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtui import __version__
from crmtui.cli import app
from tests.conftest import fetch, snapshot_of

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def seeded(db_path: Path) -> Path:
    assert run("--db", str(db_path), "add", "deal", "Website relaunch", "--company", "Acme", "--amount", "$12,500",
               "--tag", "website", "--close-date", "15 Mar 2027", "--contact", "jo@acme.com").exit_code == 0
    assert run("--db", str(db_path), "add", "deal", "Brand refresh", "--company", "Bolt", "--amount", "4000",
               "--stage", "Negotiation", "--tag", "branding", "--source", "Referral").exit_code == 0
    return db_path


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"crmtui {__version__}"


def test_add_deal_writes_what_was_asked(seeded: Path) -> None:
    rows = fetch(seeded, "SELECT d.title, c.name, d.amount_cents, d.expected_close, s.name, d.source FROM deal d "
                 "JOIN company c ON c.id = d.company_id JOIN stage s ON s.id = d.stage_id ORDER BY d.id")
    assert rows == [
        ("Website relaunch", "Acme", 1250000, "2027-03-15", "Unqualified", None),
        ("Brand refresh", "Bolt", 400000, None, "Negotiation", "Referral"),
    ]


def test_db_option_after_the_subcommand_and_env_var(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert run("add", "company", "Acme", "--db", str(a)).exit_code == 0
    assert run("add", "company", "Bolt", env={"CRMTUI_DB": str(b)}).exit_code == 0
    assert fetch(a, "SELECT name FROM company") == [("Acme",)]
    assert fetch(b, "SELECT name FROM company") == [("Bolt",)]


def test_default_database_lives_in_the_user_data_dir(isolated_home: Path) -> None:
    assert run("add", "company", "Acme").exit_code == 0
    path = isolated_home / ".local" / "share" / "crmtui" / "crmtui.db"
    assert fetch(path, "SELECT name FROM company") == [("Acme",)]


def test_deals_list_table_and_json(seeded: Path) -> None:
    result = run("--db", str(seeded), "deals", "list")
    assert result.exit_code == 0
    assert "Website relaunch" in result.stdout and "12,500" in result.stdout and "Negotiation" in result.stdout
    data = json.loads(run("--db", str(seeded), "deals", "list", "--json").stdout)
    assert [d["title"] for d in data] == ["Brand refresh", "Website relaunch"]
    assert data[1]["amount"] == 12500 and data[1]["amount_cents"] == 1250000
    assert data[1]["company"] == "Acme" and data[1]["contact_email"] == "jo@acme.com"
    assert data[1]["tags"] == ["website"]


def test_record_lists_fit_an_80_column_terminal_one_line_each() -> None:
    """Titles and names are cut with an ellipsis, the title twice as wide as the others; amounts,
    ids and dates are never cut."""
    from crmtui.cli.common import out, record_table

    columns = [("ID", "figure"), ("Title", "text"), ("Customer", "text"), ("Stage", "text"), ("Amount", "figure"),
               ("Close", "fixed"), ("Tags", "text")]
    rows = [[str(8392 + i), f"Case studies – Pioneerwave number {i}", "Pioneerwave Studio International",
             "Contract out for signature", "1,281,250", "2027-02-03", "copywriting, social media"] for i in range(3)]
    width = out.width
    try:
        for columns_wide in (80, 60):
            out.width = columns_wide
            with out.capture() as capture:
                out.print(record_table(columns, rows, main="Title"))
            lines = capture.get().splitlines()
            assert len(lines) == 2 + len(rows)  # header, rule, one line per record
            assert all(len(line) <= columns_wide for line in lines)
            for row, line in zip(rows, lines[2:]):
                assert row[0] in line and "1,281,250" in line and "2027-02-03" in line and "…" in line
            cells = [cell.strip() for cell in lines[2].split("│")]
            if columns_wide == 80:  # the title's share is twice the customer's
                assert len(cells[1]) >= 2 * len(cells[2]) - 1, cells
        out.width = 200
        with out.capture() as capture:
            out.print(record_table(columns, rows, main="Title"))
        assert "Case studies – Pioneerwave number 0" in capture.get() and "…" not in capture.get()
    finally:
        out.width = width


@pytest.mark.parametrize("width", [None, 200, 80, 60])
def test_record_lists_are_drawn_as_a_rich_table_would_draw_them(width: int | None) -> None:
    """The listing's own line drawing gives the text of the Rich table it stands for: wide (CJK)
    and accented names, emoji, empty cells, values cut at every width where the figures fit."""
    from rich.table import Table
    from rich.text import Text

    from crmtui.cli.common import Output, record_table

    columns = [("ID", "figure"), ("Title", "text"), ("Customer", "text"), ("Amount", "figure"),
               ("Close", "fixed"), ("Tags", "text")]
    names = ["Łódź Åkerö Straße", "株式会社 山田デザイン事務所", "Café 🚀 launch", "", "x", "A" * 70, "[b]not markup"]
    rows = [[str(7 ** i), names[i % len(names)], names[(i * 3) % len(names)], f"{i * 12_345:,}", "2027-02-03",
             ", ".join(names[: i % 3])] for i in range(14)]
    rows[3][2], rows[4][3] = Text(names[5], style="red"), Text("1,234", style="bold")  # styled cells (a due date)
    console = Output(width=width, highlight=False) if width else Output(highlight=False, file=io.StringIO())
    import crmtui.cli.common as common

    saved, common.out = common.out, console
    try:
        lines = record_table(columns, rows, main="Title")
    finally:
        common.out = saved
    reference = Table(show_edge=False, header_style="bold")
    for (name, kind), w in zip(columns, lines.widths):
        reference.add_column(name, justify="right" if kind == "figure" else "left", no_wrap=True,
                             overflow="ellipsis", width=w)
    for row in rows:
        reference.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
    with console.capture() as ours:
        console.print(lines)
    with console.capture() as theirs:
        console.print(reference)
    assert ours.get() == theirs.get()


def test_long_listings_go_through_a_pager_in_a_terminal(seeded: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.cli import common

    paged = tmp_path / "paged.txt"
    monkeypatch.setattr(common.out, "_force_terminal", True)
    monkeypatch.setenv("CRMTUI_PAGER", f"sh -c 'cat > {paged}'")
    result = run("--db", str(seeded), "deals", "list")
    assert result.exit_code == 0 and "Website relaunch" not in result.stdout
    assert "Website relaunch" in paged.read_text() and "Brand refresh" in paged.read_text()
    paged.unlink()
    result = run("--db", str(seeded), "--no-pager", "companies", "list")
    assert "Acme" in result.stdout and not paged.exists()
    assert run("--db", str(seeded), "settings", "set", "pager", "off").exit_code == 0
    result = run("--db", str(seeded), "contacts", "list")
    assert "jo@acme.com" in result.stdout and not paged.exists()
    assert run("--db", str(seeded), "settings", "set", "pager", "on").exit_code == 0
    for broken in ("no-such-pager-here", "less 'unclosed"):  # a pager that cannot start: the text as it is
        monkeypatch.setenv("CRMTUI_PAGER", broken)
        assert "Website relaunch" in run("--db", str(seeded), "deals", "list").stdout


def test_fit_widths() -> None:
    from crmtui.cli.common import fit_widths

    # Fits: natural widths.
    assert fit_widths([4, 10, 6], [False, True, True], [1, 2, 1], 30) == [4, 10, 6]
    # Title (weight 2) and Tags share 20 cells: 2:1, each up to its natural width.
    assert fit_widths([4, 40, 40], [False, True, True], [1, 2, 1], 24) == [4, 13, 6]
    assert fit_widths([4, 40, 8], [False, True, True], [1, 2, 1], 30) == [4, 18, 8]  # Tags full, Title the rest
    # Too narrow for 6 cells each: the widest give way, down to 3; figures never.
    assert fit_widths([9, 30, 30, 30], [False, True, True, True], [1, 1, 1, 1], 21) == [9, 4, 4, 4]


def test_deals_list_filters(seeded: Path) -> None:
    def titles(*args: str) -> list[str]:
        result = run("--db", str(seeded), "deals", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [d["title"] for d in json.loads(result.stdout)]

    assert titles("--stage", "negotiation") == ["Brand refresh"]
    assert titles("--tag", "website") == ["Website relaunch"]
    assert titles("--open") == ["Brand refresh", "Website relaunch"]
    assert titles("--won") == []
    run("--db", str(seeded), "won", "2")
    assert titles("--won") == ["Brand refresh"]
    run("--db", str(seeded), "lost", "1", "--reason", "No budget")
    assert titles("--lost") == ["Website relaunch"]


def test_empty_lists_say_how_to_add(db_path: Path) -> None:
    result = run("--db", str(db_path), "deals", "list")
    assert result.exit_code == 0 and "crmtui add deal" in result.stderr
    assert json.loads(run("--db", str(db_path), "deals", "list", "--json").stdout) == []


def test_companies_and_contacts(seeded: Path) -> None:
    assert run("--db", str(seeded), "add", "company", "Cato", "--domain", "https://www.Cato.io/x").exit_code == 0
    assert run("--db", str(seeded), "add", "contact", "Max Cato", "--email", "max@cato.io", "--company", "Cato").exit_code == 0
    companies = json.loads(run("--db", str(seeded), "companies", "list", "--json").stdout)
    assert [(c["name"], c["domain"], c["open_deals"]) for c in companies] == [
        ("Acme", None, 1), ("Bolt", None, 1), ("Cato", "cato.io", 0)
    ]
    contacts = json.loads(run("--db", str(seeded), "contacts", "list", "--json", "--company", "Cato").stdout)
    assert [(c["name"], c["email"], c["company"]) for c in contacts] == [("Max Cato", "max@cato.io", "Cato")]
    assert "Max Cato" in run("--db", str(seeded), "contacts", "list").stdout
    assert "cato.io" in run("--db", str(seeded), "companies", "list").stdout


def test_deal_show_and_moves(seeded: Path) -> None:
    result = run("--db", str(seeded), "move", "1", "Proposal sent")
    assert result.exit_code == 0 and "Unqualified to Proposal sent" in result.stdout
    assert run("--db", str(seeded), "won", "1").exit_code == 0
    shown = run("--db", str(seeded), "deal", "show", "1")
    assert "Website relaunch" in shown.stdout and "Won" in shown.stdout and "Proposal sent → Won" in shown.stdout
    data = json.loads(run("--db", str(seeded), "deal", "show", "1", "--json").stdout)
    assert data["stage"] == "Won" and data["closed_on"] is not None
    assert [h["to"] for h in data["stage_history"]] == ["Unqualified", "Proposal sent", "Won"]
    assert fetch(seeded, "SELECT count(*) FROM stage_change WHERE deal_id = 1") == [(3,)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "deal", "X", "--amount", "12,5x"], "amount: '12,5x' is not an amount"),
        (["add", "deal", "X", "--stage", "Nowhere"], "unknown stage 'Nowhere'"),
        (["add", "deal", "X", "--close-date", "someday"], "close date: 'someday' is not a date"),
        (["add", "deal", "X", "--close-date", "03/04/2027"], "could be day/month or month/day"),
        (["add", "deal", "X", "--confidence", "9"], "confidence"),
        (["add", "deal", "  "], "title: required"),
        (["add", "contact", "Jo", "--email", "jo(at)acme"], "not an email address"),
        (["add", "company", "Acme", "--domain", "nodots"], "not a domain name"),
        (["move", "99", "Won"], "no deal with id 99"),
        (["move", "1", "Nowhere"], "unknown stage 'Nowhere'"),
        (["move", "abc", "Won"], "is not a number"),
        (["won", "99"], "no deal with id 99"),
        (["lost", "1", "--reason", " "], "reason: required"),
        (["deal", "show", "42"], "no deal with id 42"),
        (["deals", "list", "--stage", "Nowhere"], "unknown stage"),
        (["deals", "list", "--won", "--lost"], "choose one of"),
        (["contacts", "list", "--company", "Nobody"], "no company called 'Nobody'"),
        (["deals", "list", "--pipeline", "Nope"], "unknown pipeline 'Nope'"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(seeded: Path, args: list[str], message: str) -> None:
    before = snapshot_of(seeded)
    result = run("--db", str(seeded), *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.startswith("Error:")
    assert "Traceback" not in result.output
    assert snapshot_of(seeded) == before


def test_missing_reason_is_a_usage_error(seeded: Path) -> None:
    result = run("--db", str(seeded), "lost", "1")
    assert result.exit_code == 2 and "--reason" in result.output


def test_a_locked_database_is_reported(seeded: Path) -> None:
    before = snapshot_of(seeded)
    locker = sqlite3.connect(seeded, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        result = run("--db", str(seeded), "add", "deal", "Blocked")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.exit_code == 1
    assert "another crmtui is writing to this database" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot_of(seeded) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,email\nAnn,ann@x.com\n", "not a crmtui database"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "damaged or not a database"),
    ],
)
def test_a_file_that_is_not_a_crmtui_database(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "other.db"
    path.write_bytes(content)
    result = run("--db", str(path), "deals", "list")
    assert result.exit_code == 1 and message in result.stderr
    assert path.read_bytes() == content


def test_demo_fills_and_refuses_to_fill_twice(db_path: Path) -> None:
    result = run("demo", "--deals", "120", "--db", str(db_path))
    assert result.exit_code == 0, result.output
    assert "Added 120 deals" in result.stderr
    assert fetch(db_path, "SELECT count(*) FROM deal") == [(120,)]
    again = run("demo", "--deals", "5", "--db", str(db_path))
    assert again.exit_code == 1 and "already has 120 deals" in again.stderr
    assert fetch(db_path, "SELECT count(*) FROM deal") == [(120,)]
    bad = run("demo", "--deals", "0", "--db", str(db_path))
    assert bad.exit_code == 2


def test_stages_command(db_path: Path) -> None:
    data = json.loads(run("--db", str(db_path), "stages", "--json").stdout)
    assert data["pipeline"] == "Sales" and data["stages"][0]["name"] == "Unqualified"


def test_the_installed_command_has_no_traceback_on_a_bad_db(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "x.db"
    path.write_text("hello")
    proc = subprocess.run(
        [sys.executable, "-m", "crmtui.cli", "--db", str(path), "deals", "list"], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "not a crmtui database" in proc.stderr and "Traceback" not in proc.stderr


def test_a_reason_or_stage_in_brackets_is_printed_as_written(tmp_path: Path) -> None:
    from tests.commands import ok

    db = tmp_path / "crm.db"
    ok(db, "add", "deal", "Logo refresh")
    assert "Marked deal #1 lost ([budget] cut)" in ok(db, "lost", "1", "--reason", "[budget] cut").stdout
    ok(db, "stages", "add", "[draft]")
    assert "to [draft]" in ok(db, "move", "1", "[draft]").stdout
