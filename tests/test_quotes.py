"""Quotes: `crmtui quote DEAL` numbers (from a pattern, without gaps, never twice, even from two
processes at once) and writes a quote from a snapshot of the deal's lines; its status (sent,
accepted, declined, expired) with the timeline notes, stage moves and undo; the business profile;
the user's templates; and every bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmtui.locations import config_dir
from crmtui.store import clock, lines, money, quotes, undo
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal, get_deal
from crmtui.store.errors import ValidationError
from crmtui.store.models import Quote, Stage
from crmtui.store.settings import set_setting
from tests.commands import ok, refused, run
from tests.conftest import fetch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def builtin_money() -> None:
    """A command sets the locale for the process: every test starts and ends with the built-in one."""
    money.use_locale(None)
    yield
    money.use_locale(None)


def seeded(db_path: Path, *, lines_of: tuple[tuple[str, str, str, str], ...] = (
        ("Brand workshop", "2", "1200.50", "25"), ("Logo design", "1", "800", "12"))) -> int:
    """A deal of Åkerlund & Søn with Ingrid Öberg as contact and some lines (text, qty, price, tax %)."""
    database = open_database(db_path)
    with database.session() as s:
        deal = create_deal(s, "Brand refresh", company="Åkerlund & Søn", contact="Ingrid Öberg", currency="EUR")
        s.execute("UPDATE company SET address = 'Storgatan 1, Malmö' WHERE id = :id", {"id": deal.company_id})
        for text, qty, price, tax in lines_of:
            lines.add_line(s, deal.id, text, quantity=qty, price=price, tax=tax)
        return deal.id


def numbers(db_path: Path) -> list[str]:
    return [row[0] for row in fetch(db_path, "SELECT number FROM quote ORDER BY id")]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def make(db_path: Path, deal_id: int, **kwargs: object) -> quotes.QuoteMade:
    with open_database(db_path).session() as s:
        return quotes.make_quote(s, deal_id, **kwargs)


# Numbering


def test_quotes_are_numbered_from_the_pattern_without_gaps(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    assert [make(db_path, deal, fmt="md").number for _ in range(3)] == ["Q-2026-0001", "Q-2026-0002", "Q-2026-0003"]
    ok(db_path, "settings", "set", "quote-number", "INV/{seq}")
    made = make(db_path, deal, fmt="md")
    assert made.number == "INV/1" and made.path.name == "INV-1.md"  # a number's slash is not a folder
    ok(db_path, "settings", "set", "quote-number", "Q-{year}-{seq:04}")
    assert make(db_path, deal, fmt="md").number == "Q-2026-0004"
    assert fetch(db_path, "SELECT scope, last FROM quote_counter ORDER BY scope") == [("2026", 4), ("all", 1)]


def test_numbering_restarts_each_year_when_the_pattern_has_one(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    clock.set_fixed_now(dt.datetime(2027, 1, 2, 9, 0))
    assert make(db_path, deal, fmt="md").number == "Q-2027-0001"


def test_a_number_is_never_used_twice_even_when_its_quote_is_undone(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    with open_database(db_path).session() as s:
        assert undo.undo_last(s, scope=f"deal:{deal}").label == "make quote Q-2026-0001"
        assert quotes.list_quotes(s) == []
    assert fetch(db_path, "SELECT count(*) FROM deal_link") == [(0,)]
    assert make(db_path, deal, fmt="md").number == "Q-2026-0002"


def test_a_pattern_without_seq_is_refused(db_path: Path) -> None:
    seeded(db_path)
    assert "must hold {seq}" in refused(db_path, "settings", "set", "quote-number", "Q-{year}")
    assert "must hold {seq}" in refused(db_path, "settings", "set", "quote-number", "Q-{seq}-{client}")
    assert "quote-number" in ok(db_path, "settings", "show").stdout


_QUOTER = """
import sys
from pathlib import Path
from crmtui.store.db import open_database
from crmtui.store.quotes import make_quote
database = open_database(Path(sys.argv[1]))
Path(sys.argv[2]).touch()
while not Path(sys.argv[3]).exists():  # both start together
    pass
for _ in range(int(sys.argv[4])):
    with database.session() as s:
        print(make_quote(s, 1, fmt=sys.argv[5]).number, flush=True)
"""


def test_two_processes_quoting_at_once_get_every_number_once(db_path: Path, tmp_path: Path) -> None:
    seeded(db_path)
    env = {**os.environ, "CRMTUI_BUSY_TIMEOUT": "60", "PYTHONPATH": str(ROOT / "src")}
    go = tmp_path / "go"
    procs = []
    for i, fmt in enumerate(("md", "pdf")):
        procs.append(subprocess.Popen([sys.executable, "-c", _QUOTER, str(db_path), str(tmp_path / f"ready{i}"),
                                       str(go), "6", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env))
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
    go.touch()
    printed = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        printed += stdout.split()
    year = clock.today().year
    expected = [f"Q-{year}-{n:04d}" for n in range(1, 13)]
    assert sorted(printed) == expected
    assert sorted(numbers(db_path)) == expected
    assert len(files_in(db_path.parent / "quotes")) == 12


# What a quote holds


def test_a_quote_is_a_snapshot_a_later_edit_of_the_deal_does_not_change(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    first = make(db_path, deal, fmt="md")
    text = first.path.read_text()
    snapshot = fetch(db_path, "SELECT snapshot FROM quote")[0][0]
    with open_database(db_path).session() as s:
        line_ids = [r["id"] for r in lines.line_rows(s, deal)]
        lines.set_line_fields(s, line_ids[0], {"quantity": "5", "description": "Rebranded workshop"})
        lines.remove_line(s, line_ids[1])
        s.execute("UPDATE company SET name = 'Renamed AB' WHERE id = (SELECT company_id FROM deal WHERE id = :d)",
                  {"d": deal})
    assert first.path.read_text() == text
    assert fetch(db_path, "SELECT snapshot FROM quote")[0][0] == snapshot
    held = json.loads(snapshot)
    assert [line["description"] for line in held["lines"]] == ["Brand workshop", "Logo design"]
    assert held["customer"]["company"] == "Åkerlund & Søn" and held["customer"]["contact"] == "Ingrid Öberg"
    assert held["totals"]["total_cents"] == 2401_00 * 125 // 100 + 800_00 * 112 // 100
    second = make(db_path, deal, fmt="md").path.read_text()
    assert "Rebranded workshop" in second and "Logo design" not in second and "Renamed AB" in second
    assert "Brand workshop" in text and "Åkerlund & Søn" in text


def test_the_customer_block_comes_from_the_company_and_contact(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    ok(db_path, "fields", "add", "company", "VAT id", "--kind", "text")
    ok(db_path, "fields", "add", "contact", "Department", "--kind", "text")
    ok(db_path, "set", "C1", "vat id=SE556677889901")
    ok(db_path, "set", "P1", "department=Inköp", "email=ingrid@akerlund.example", "title=CFO")
    made = make(db_path, deal, fmt="md")
    customer = json.loads(fetch(db_path, "SELECT snapshot FROM quote")[0][0])["customer"]
    assert customer == {
        "company": "Åkerlund & Søn", "address": "Storgatan 1, Malmö", "email": "", "phone": "", "website": "",
        "vat": "SE556677889901", "contact": "Ingrid Öberg", "contact_email": "ingrid@akerlund.example",
        "contact_phone": "", "contact_title": "CFO", "company_fields": {"VAT id": "SE556677889901"},
        "contact_fields": {"Department": "Inköp"}, "company_id": 1, "contact_id": 1,
    }
    assert ("**To:** Åkerlund & Søn  \nIngrid Öberg, CFO  \nStorgatan 1, Malmö  \ningrid@akerlund.example  \n"
            "VAT / Org. no. SE556677889901\n") in made.path.read_text()


def test_a_quote_shows_totals_per_tax_rate(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    text = make(db_path, deal, fmt="md").path.read_text()
    assert "| Tax 12 % on EUR 800.00 | EUR 96.00 |" in text
    assert "| Tax 25 % on EUR 2,401.00 | EUR 600.25 |" in text
    assert "| **Total** | **EUR 3,897.25** |" in text
    assert "| Brand workshop | 2 | EUR 1,200.50 |  | 25 % | EUR 2,401.00 |" in text


def test_money_on_a_quote_is_written_in_the_database_locale(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    ok(db_path, "settings", "set", "locale", "de_DE")
    ok(db_path, "quote", str(deal), "--format", "md")
    text = (db_path.parent / "quotes" / "Q-2026-0001.md").read_text()
    assert "3.897,25\u00a0€" in text and "1.200,50\u00a0€" in text
    assert "23.11.2026" in text  # the issue date as de_DE writes it


# Status


def status_of(db_path: Path, quote_id: int = 1) -> str:
    return fetch(db_path, "SELECT status FROM quote WHERE id = ?", quote_id)[0][0]


def notes(db_path: Path) -> list[str]:
    return [r[0] for r in fetch(db_path, "SELECT body FROM activity WHERE kind = 'note' AND deleted_at IS NULL"
                                         " ORDER BY id")]


def stage_of(db_path: Path, deal_id: int) -> str:
    return fetch(db_path, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = ?", deal_id)[0][0]


def test_sent_then_accepted_moves_the_deal_and_each_step_undoes(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    before_stage = stage_of(db_path, deal)
    changes = fetch(db_path, "SELECT count(*) FROM stage_change")
    assert "Quote Q-2026-0001 sent." in ok(db_path, "quote", "sent", "Q-2026-0001", "--note", "by email").stdout
    assert status_of(db_path) == "sent" and notes(db_path)[-1] == "Quote Q-2026-0001 sent: by email"
    out = ok(db_path, "quote", "accept", "1").stdout
    assert "Quote Q-2026-0001 accepted; the deal moved to 'Contract out for signature'" in out
    assert status_of(db_path) == "accepted" and stage_of(db_path, deal) == "Contract out for signature"
    assert notes(db_path)[-1] == "Quote Q-2026-0001 accepted"
    with open_database(db_path).session() as s:
        assert undo.undo_last(s, scope=f"deal:{deal}").label == "quote Q-2026-0001 accepted"
    assert status_of(db_path) == "sent" and stage_of(db_path, deal) == before_stage
    assert fetch(db_path, "SELECT count(*) FROM stage_change") == changes
    assert notes(db_path)[-1] == "Quote Q-2026-0001 sent: by email"
    with open_database(db_path).session() as s:
        undo.undo_last(s, scope=f"deal:{deal}")
    assert status_of(db_path) == "draft" and notes(db_path)[-1].startswith("Quote Q-2026-0001 made, valid until")


def test_accepting_leaves_the_deal_when_the_stage_is_not_in_its_pipeline(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    ok(db_path, "settings", "set", "quote-accept-stage", "Signed somewhere")
    before = stage_of(db_path, deal)
    assert ok(db_path, "quote", "accept", "1").stdout.startswith("Quote Q-2026-0001 accepted. ")
    assert stage_of(db_path, deal) == before


def test_declining_can_mark_the_deal_lost_and_undo_takes_both_back(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    make(db_path, deal, fmt="md")
    assert "the deal is lost (Chose a competitor)" in ok(
        db_path, "quote", "decline", "Q-2026-0001", "--lost", "Chose a competitor").stdout
    assert status_of(db_path) == "declined"
    assert fetch(db_path, "SELECT s.kind, d.lost_reason FROM deal d JOIN stage s ON s.id = d.stage_id") == [
        ("lost", "Chose a competitor")]
    with open_database(db_path).session() as s:
        undo.undo_last(s, scope=f"deal:{deal}")
    assert status_of(db_path) == "draft"
    assert fetch(db_path, "SELECT s.kind, d.lost_reason FROM deal d JOIN stage s ON s.id = d.stage_id") == [("open", None)]
    ok(db_path, "quote", "decline", "2", "--not-lost")
    assert status_of(db_path, 2) == "declined" and stage_of(db_path, deal) != "Lost"


def test_decline_asks_whether_the_deal_is_lost(db_path: Path, fixed_clock: dt.datetime,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.cli import quotes as quotes_cli

    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    monkeypatch.setattr(quotes_cli, "interactive", lambda: True)
    ok(db_path, "quote", "decline", "1", input="y\nNo budget\n")
    assert fetch(db_path, "SELECT lost_reason FROM deal") == [("No budget",)]


def test_a_quote_past_its_date_shows_as_expired(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md", valid_until="+3d")
    make(db_path, deal, fmt="md", valid_until="2026-12-31")
    ok(db_path, "quote", "accept", "2")
    clock.set_fixed_now(dt.datetime(2027, 1, 5, 9, 0))
    shown = json.loads(ok(db_path, "quotes", "list", "--json").stdout)
    assert [(q["number"], q["status"]) for q in shown] == [("Q-2026-0002", "accepted"), ("Q-2026-0001", "expired")]
    assert fetch(db_path, "SELECT status FROM quote ORDER BY id") == [("draft",), ("accepted",)]
    assert "expired" in ok(db_path, "quotes", "list", str(deal)).stdout
    assert "Q-2026-0001,1,Brand refresh,expired,2026-11-23,2026-11-26,3897.25,EUR," in ok(
        db_path, "quotes", "list", "--csv").stdout


def test_a_status_that_does_not_follow_is_refused(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    make(db_path, deal, fmt="md")
    ok(db_path, "quote", "accept", "1")
    assert refused(db_path, "quote", "decline", "1", "--not-lost") == (
        "Error: quote Q-2026-0001 is accepted; it cannot be marked declined\n")
    assert "no quote 'Q-2026-0099'" in refused(db_path, "quote", "sent", "Q-2026-0099")
    assert "choose one of --lost and --not-lost" in refused(db_path, "quote", "decline", "1", "--lost", "x",
                                                            "--not-lost")


# The command, its file and the deal page


def test_quote_command_writes_beside_the_database_and_links_the_file(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    result = ok(db_path, "quote", str(deal), "--valid-until", "+14d")
    path = db_path.parent / "quotes" / "Q-2026-0001.pdf"
    assert result.stdout == (f"Made quote Q-2026-0001 for deal #{deal} 'Brand refresh': EUR 3,897.25, valid until"
                             f" 2026-12-07\nFile: {path}\n")
    assert path.read_bytes().startswith(b"%PDF")
    assert "crmtui profile set name" in result.stderr  # no business profile yet: says which keys to set
    assert fetch(db_path, "SELECT kind, target, label FROM deal_link") == [("file", str(path), "Quote Q-2026-0001")]
    assert fetch(db_path, "SELECT valid_until, format, currency, total_cents FROM quote") == [
        ("2026-12-07", "pdf", "EUR", 3897_25)]
    html = db_path.parent / "out" / "offer.html"
    html.parent.mkdir()
    ok(db_path, "quote", str(deal), "-o", str(html))  # the format follows the suffix
    assert html.read_text().startswith("<!DOCTYPE html>") and files_in(html.parent) == ["offer.html"]
    ok(db_path, "profile", "set", "name", "Studio Nord")
    said = ok(db_path, "quote", str(deal), "-o", str(html)).stderr
    assert "has no address, email yet" in said and "crmtui profile set address" in said  # the first key missing
    ok(db_path, "profile", "set", "address", "Storgatan 1\\n111 22 Stockholm")
    ok(db_path, "profile", "set", "email", "hej@studionord.se")
    assert ok(db_path, "quote", str(deal), "-o", str(html.parent), "--format", "md").stderr == ""
    assert (html.parent / "Q-2026-0004.md").read_text().count("Studio Nord") == 1


def test_profile_show_and_set(db_path: Path, tmp_path: Path) -> None:
    from PIL import Image

    seeded(db_path)
    assert "A quote needs name, address, email" in ok(db_path, "profile", "show").stdout
    assert ok(db_path, "profile", "set", "Payment terms", "30 days net").stdout == "profile payment-terms = 30 days net\n"
    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), "navy").save(logo)
    ok(db_path, "profile", "set", "logo", str(logo))
    shown = json.loads(ok(db_path, "profile", "show", "--json").stdout)
    assert shown["payment-terms"] == "30 days net" and shown["logo"] == str(logo)
    not_image = tmp_path / "logo.txt"
    not_image.write_text("not a picture")
    assert refused(db_path, "profile", "set", "logo", str(not_image)) == (
        f"Error: logo: {str(not_image)!r} is not an image crmtui can read (use a PNG or JPEG)\n")
    assert "unknown profile key 'colour'" in refused(db_path, "profile", "set", "colour", "blue")
    assert ok(db_path, "profile", "set", "payment-terms", "").stdout == "profile payment-terms cleared\n"


def test_the_logo_is_in_the_html_and_the_pdf(db_path: Path, tmp_path: Path) -> None:
    from PIL import Image
    from pypdf import PdfReader

    deal = seeded(db_path)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), "navy").save(logo)
    ok(db_path, "profile", "set", "logo", str(logo))
    html = make(db_path, deal, fmt="html").path.read_text()
    assert '<img src="data:image/png;base64,' in html
    page = PdfReader(make(db_path, deal, fmt="pdf").path).pages[0]
    assert len(page.images) == 1


# Bad input: one line, exit 1, nothing written, no file, no number used


def user_template(name: str, text: str, suffix: str = ".md.j2") -> Path:
    folder = config_dir() / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{suffix}"
    path.write_text(text)
    return path


def assert_nothing_made(db_path: Path, *, folder: bool = False) -> None:
    """No quote, no number used, no file (the quotes folder not even made, unless the failure
    came when writing the file into it)."""
    assert fetch(db_path, "SELECT count(*) FROM quote") == [(0,)]
    assert fetch(db_path, "SELECT count(*) FROM quote_counter") == [(0,)]
    assert files_in(db_path.parent / "quotes") == [] and (db_path.parent / "quotes").exists() == folder
    assert [p.name for p in db_path.parent.iterdir() if p.name.startswith(".")] == []


def test_bad_input_is_refused_with_nothing_written(db_path: Path, tmp_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    with open_database(db_path).session() as s:
        empty = create_deal(s, "Nothing yet").id
    cases = {
        (str(empty),): f"Error: deal #{empty} has no line items to quote: add some with crmtui lines add\n",
        (str(deal), "--template", "mine"): f"Error: no template 'mine' for pdf (looked in {config_dir() / 'templates'}"
                                           " for mine.html.j2)\n",
        (str(deal), "-o", str(tmp_path / "no" / "such" / "q.pdf")): f"Error: output: no folder"
                                                                    f" {str(tmp_path / 'no' / 'such')!r} to write 'q.pdf' in\n",
        (str(deal), "--format", "docx"): "Error: --format: 'docx' is not one of pdf, html, md\n",
        (str(deal), "--valid-until", "2026-01-01"): "Error: valid until: 2026-01-01 is before today (2026-11-23)\n",
        ("99",): "Error: no deal with id 99\n",
    }
    for args, message in cases.items():
        assert refused(db_path, "quote", *args) == message
        assert_nothing_made(db_path)


def test_a_template_with_an_error_names_its_file_and_line(db_path: Path) -> None:
    deal = seeded(db_path)
    broken = user_template("broken", "# {{ number }}\n{% for line in lines %}\n{{ line.description }\n")
    assert refused(db_path, "quote", str(deal), "--template", "broken", "--format", "md").startswith(
        f"Error: template {broken}, line 3: unexpected '}}'")
    typo = user_template("typo", "# {{ number }}\n\n{{ customer.compnay }}\n")
    assert refused(db_path, "quote", str(deal), "--template", "typo", "--format", "md") == (
        f"Error: template {typo}, line 3: 'dict object' has no attribute 'compnay'\n")
    unsafe = user_template("unsafe", "{{ number.__class__.__mro__[1].__subclasses__() }}\n")
    assert "access to attribute '__class__'" in refused(db_path, "quote", str(deal), "--template", "unsafe",
                                                        "--format", "md")
    undrawable = user_template("ragged", "<table><tr><th width=\"60%\">one</th><th>two</th></tr></table>",
                               ".html.j2")
    assert refused(db_path, "quote", str(deal), "--template", "ragged").startswith(
        f"Error: template {undrawable}: the PDF cannot be drawn from its HTML (")
    assert_nothing_made(db_path)


def test_a_logo_that_is_no_longer_an_image_is_refused(db_path: Path, tmp_path: Path) -> None:
    from PIL import Image

    deal = seeded(db_path)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (4, 4)).save(logo)
    ok(db_path, "profile", "set", "logo", str(logo))
    logo.write_text("overwritten by something else")
    assert "is not an image crmtui can read" in refused(db_path, "quote", str(deal))
    assert_nothing_made(db_path)


def test_a_failed_write_rolls_back_its_number_and_leaves_no_file(db_path: Path, fixed_clock: dt.datetime,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    deal = seeded(db_path)

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(quotes.os, "replace", disk_full)
    message = refused(db_path, "quote", str(deal))
    assert message.startswith("Error: output: cannot write") and message.endswith("No space left on device\n")
    assert_nothing_made(db_path, folder=True)
    monkeypatch.undo()
    assert make(db_path, deal).number == "Q-2026-0001"


def test_a_user_template_is_used_for_html_md_and_pdf(db_path: Path) -> None:
    from pypdf import PdfReader

    deal = seeded(db_path)
    user_template("brand", "<h1>Acme offer {{ number }}</h1><p>{{ customer.company }}: {{ totals.total }}</p>\n",
                  ".html.j2")
    user_template("brand", "ACME {{ number }} for {{ customer.contact }}\n")
    html = make(db_path, deal, fmt="html", template="brand").path.read_text()
    assert html == "<h1>Acme offer Q-2026-0001</h1><p>Åkerlund &amp; Søn: EUR 3,897.25</p>\n"
    assert make(db_path, deal, fmt="md", template="brand").path.read_text() == "ACME Q-2026-0002 for Ingrid Öberg\n"
    text = PdfReader(make(db_path, deal, fmt="pdf", template="brand").path).pages[0].extract_text()
    assert "Acme offer Q-2026-0003" in text and "Åkerlund & Søn: EUR 3,897.25" in text
    assert fetch(db_path, "SELECT template FROM quote ORDER BY id") == [("brand",)] * 3
    user_template("quote", "My own default: {{ number }}\n")  # a user's quote.*.j2 replaces the built-in one
    assert make(db_path, deal, fmt="md").path.read_text() == "My own default: Q-2026-0004\n"


def test_store_api_for_the_deal_page(db_path: Path, fixed_clock: dt.datetime) -> None:
    deal = seeded(db_path)
    made = make(db_path, deal, fmt="html")
    with open_database(db_path).session() as s:
        listed = quotes.list_quotes(s, deal)
        assert listed == [{
            "id": made.id, "number": "Q-2026-0001", "deal_id": deal, "deal": "Brand refresh", "status": "draft",
            "issued_on": "2026-11-23", "valid_until": "2026-12-23", "total": "EUR 3,897.25", "total_cents": 3897_25,
            "currency": "EUR", "format": "html", "path": str(made.path),
        }]
        change = quotes.set_status(s, made.id, "accepted", note="signed")
        assert (change.number, change.status, change.stage) == ("Q-2026-0001", "accepted", "Contract out for signature")
        with pytest.raises(ValidationError, match="not one of sent, accepted, declined"):
            quotes.set_status(s, made.id, "expired")
        assert s.get(Stage, get_deal(s, deal).stage_id).name == "Contract out for signature"
        assert s.get(Quote, made.id).status == "accepted"
