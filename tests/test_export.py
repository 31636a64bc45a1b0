"""`crmtui export`: the documented keys, safe CSV, and export -> import -> export gives the same data."""

from __future__ import annotations

import csv
import io
import json
from contextlib import nullcontext
from pathlib import Path

import pytest

from crmtui.store.db import open_database
from tests.commands import ok, run
from tests.conftest import snapshot_of

DATA = Path(__file__).parent / "data" / "import"


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> Path:
    from crmtui.store.contacts import create_contact
    from crmtui.store.deals import create_deal, mark_lost, mark_won
    from crmtui.store.companies import create_company

    db = open_database(db_path)
    with db.session() as s:
        acme = create_company(s, "Acme Inc.", website="https://www.acme.com", email="hello@acme.com",
                              phone="+1 555 0100", address="1 Main St", source="Referral", category="Software",
                              size="medium", notes="=HYPERLINK(\"http://evil\")", tags=["key account"])
        create_company(s, "Bolt GmbH", domain="bolt.de", tags=["prospect", "dach"])
        create_contact(s, "Jo Smith", email="jo@acme.com", phone="+1 555 0101", title="CEO", company_id=acme.id,
                       tags=["vip"], notes="@jo on chat")
        create_contact(s, "Freelance Fay", email="fay@mail.example")
        d1 = create_deal(s, "Website relaunch", company="Acme Inc.", contact="jo@acme.com", amount="12,500.50",
                         cost="4000", stage="Proposal sent", tags=["website", "seo"], source="Referral",
                         expected_close="2027-03-15", confidence=4)
        create_deal(s, "Brand refresh", company="Bolt GmbH", amount="EUR 4000", currency="EUR", tags=["branding"])
        d3 = create_deal(s, "Portrait shoot", contact="fay@mail.example", amount="900", external_id="X-9")
        d4 = create_deal(s, "-Minus title", company="Bolt GmbH", amount="100")
        mark_won(s, d1.id)
        mark_lost(s, d3.id, "Price too high")
        del d4
    db.close()
    return db_path


def test_deals_json_has_the_documented_keys(seeded: Path) -> None:
    rows = json.loads(ok(seeded, "export", "--format", "json").stdout)
    assert list(rows[0]) == ["id", "title", "company", "contact", "contact_email", "pipeline", "stage", "status",
                             "amount", "cost", "currency", "confidence", "expected_close", "closed_at", "source",
                             "tags", "lost_reason", "created_at", "stage_entered_at", "external_id",
                             "lines", "subtotal", "discount", "net", "tax", "total"]
    first = rows[0]
    assert first["amount"] == "12500.50" and first["cost"] == "4000.00" and first["status"] == "won"
    assert first["tags"] == ["seo", "website"] and first["contact_email"] == "jo@acme.com"
    assert first["created_at"] == "2026-11-23T09:30:00Z" and first["closed_at"] == "2026-11-23"
    assert first["expected_close"] == "2027-03-15" and first["currency"] == "USD"
    assert rows[1]["currency"] == "EUR"
    assert rows[2]["status"] == "lost" and rows[2]["lost_reason"] == "Price too high" and rows[2]["company"] is None
    companies = json.loads(ok(seeded, "export", "--type", "companies", "--format", "json").stdout)
    assert list(companies[0]) == ["id", "name", "domain", "website", "email", "phone", "address", "source",
                                  "category", "size", "tags", "notes"]
    assert companies[1]["tags"] == ["dach", "prospect"]
    contacts = json.loads(ok(seeded, "export", "--type", "contacts", "--format", "json").stdout)
    assert list(contacts[0]) == ["id", "name", "email", "phone", "title", "company", "tags", "notes"]
    assert contacts[0]["company"] == "Acme Inc."


def test_csv_neutralises_formulas(seeded: Path) -> None:
    text = ok(seeded, "export", "--type", "companies").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["notes"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["phone"] == "'+1 555 0100"
    deals = list(csv.DictReader(io.StringIO(ok(seeded, "export").stdout)))
    assert deals[3]["title"] == "'-Minus title" and deals[0]["tags"] == "seo; website"
    contacts = list(csv.DictReader(io.StringIO(ok(seeded, "export", "--type", "contacts").stdout)))
    assert contacts[0]["notes"] == "'@jo on chat"


def test_every_cell_that_starts_like_a_formula_is_neutralised_and_only_those(seeded: Path) -> None:
    """Checked row by row, a row's text cells at once: any column may be the risky one, a tab or
    CR counts, a negative number stays a number, and CSV and JSON hold the same values."""
    import sqlite3

    conn = sqlite3.connect(seeded, isolation_level=None)
    # one risky cell in each row, so that no other cell of it triggers the check
    conn.execute("UPDATE deal SET lost_reason = char(9) || 'tabbed' WHERE id = 3")
    conn.execute("UPDATE deal SET source = char(13) || 'cr', cost_cents = NULL WHERE id = 2")
    conn.execute("UPDATE deal SET cost_cents = -1250, external_id = '-7' WHERE id = 1")
    conn.execute("UPDATE contact SET title = '+CEO' WHERE id = 2")
    conn.close()
    deals = list(csv.DictReader(io.StringIO(ok(seeded, "export").stdout)))
    assert [d["lost_reason"] for d in deals] == ["", "", "'\ttabbed", ""]
    assert [d["source"] for d in deals] == ["Referral", "'\rcr", "", ""]
    assert deals[0]["cost"] == "-12.50" and deals[0]["external_id"] == "-7" and deals[1]["cost"] == ""
    assert deals[3]["title"] == "'-Minus title" and deals[0]["title"] == "Website relaunch"
    contacts = list(csv.DictReader(io.StringIO(ok(seeded, "export", "--type", "contacts").stdout)))
    assert [c["title"] for c in contacts] == ["CEO", "'+CEO"]
    # the same values as JSON, where nothing is neutralised
    for kind in ("deals", "companies", "contacts", "activities"):
        rows = list(csv.DictReader(io.StringIO(ok(seeded, "export", "--type", kind).stdout)))
        for row, item in zip(rows, json.loads(ok(seeded, "export", "--type", kind, "--format", "json").stdout),
                             strict=True):
            for key, value in item.items():
                text = "; ".join(value) if isinstance(value, list) else "" if value is None else str(value)
                assert row[key] in (text, "'" + text), (kind, key, row[key], value)
                assert row[key].startswith("'") == (text[:1] in "=+-@\t\r" and text not in ("", "-12.50", "-7")), key


def test_export_to_files_and_all(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "deals.json"
    result = ok(seeded, "export", "--format", "json", "-o", str(out))
    assert "4 deals written to" in result.stderr
    assert len(json.loads(out.read_text())) == 4
    everything = json.loads(ok(seeded, "export", "--type", "all", "--format", "json").stdout)
    assert set(everything) == {"deals", "companies", "contacts", "activities", "products"}
    folder = tmp_path / "out"
    ok(seeded, "export", "--type", "all", "-o", str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["activities.csv", "companies.csv", "contacts.csv", "deals.csv",
                                                         "products.csv"]


def test_the_spinner_in_a_terminal_leaves_the_exported_text_on_standard_output(
        seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import crmtui.cli.data
    from crmtui.cli.common import err

    monkeypatch.setattr(err, "_force_terminal", True)  # stderr a terminal,
    monkeypatch.setattr(crmtui.cli.data, "_stdout_is_a_file", lambda: True)  # stdout `> out.csv`
    result = ok(seeded, "export", "--type", "companies")
    assert result.stdout.startswith("id,name,domain,") and len(result.stdout.splitlines()) == 3
    assert "id,name" not in result.stderr
    # no spinner when the export prints to the terminal, `-o -` included
    wanted: list[bool] = []
    monkeypatch.setattr(crmtui.cli.data, "_working", lambda _text, want=True: wanted.append(want) or nullcontext())
    monkeypatch.setattr(crmtui.cli.data, "_stdout_is_a_file", lambda: False)
    dash = ok(seeded, "export", "--type", "companies", "-o", "-")
    assert dash.stdout.startswith("id,name,domain,") and "written to" not in dash.stderr  # not "written to -"
    ok(seeded, "export", "--type", "companies")
    assert wanted == [False, False]


def test_json_has_one_record_per_line(seeded: Path, tmp_path: Path) -> None:
    lines = ok(seeded, "export", "--format", "json").stdout.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 4 + 2
    assert [json.loads(line.strip().rstrip(","))["id"] for line in lines[1:-1]] == [1, 2, 3, 4]
    everything = ok(seeded, "export", "--type", "all", "--format", "json").stdout.splitlines()
    assert everything[:2] == ["{", '  "deals": ['] and everything[-1] == "}"
    assert json.loads(everything[2].strip().rstrip(","))["id"] == 1
    empty = tmp_path / "empty.db"
    open_database(empty).close()
    assert ok(empty, "export", "--format", "json").stdout == "[]\n"
    assert json.loads(ok(empty, "export", "--type", "all", "--format", "json").stdout) == {
        "deals": [], "companies": [], "contacts": [], "activities": [], "products": []}


def test_export_errors(seeded: Path) -> None:
    before = snapshot_of(seeded)
    for args, message in ((("--type", "leads"), "--type: 'leads'"), (("--format", "xml"), "--format: 'xml'"),
                          (("--type", "all"), "give -o DIRECTORY")):
        result = run(seeded, "export", *args)
        assert result.exit_code == 1 and message in result.stderr
    assert snapshot_of(seeded) == before


def _without_ids(data: dict) -> dict:
    return {k: [{key: v for key, v in row.items() if key not in ("id", "deal_id")} for row in rows]
            for k, rows in data.items()}


def test_export_import_export_gives_the_same_data(seeded: Path, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    ok(seeded, "export", "--type", "all", "-o", str(folder))
    first = json.loads(ok(seeded, "export", "--type", "all", "--format", "json").stdout)
    fresh = tmp_path / "fresh.db"
    for kind in ("companies", "contacts", "deals"):
        ok(fresh, "import", str(folder / f"{kind}.csv"), "--type", kind)
    second = json.loads(ok(fresh, "export", "--type", "all", "--format", "json").stdout)
    assert _without_ids(second) == _without_ids(first)
    # and importing the export again changes nothing
    again = ok(fresh, "import", str(folder / "deals.csv"))
    assert "Nothing changed" in again.stdout


def test_export_of_an_imported_sample(db_path: Path) -> None:
    ok(db_path, "import", str(DATA / "hubspot_deals.csv"))
    rows = json.loads(ok(db_path, "export", "--format", "json").stdout)
    assert [r["external_id"] for r in rows] == ["9001", "9002", "9003", "9004"]
    assert rows[3]["currency"] == "EUR" and rows[3]["amount"] == "1234.56"


def test_reimporting_an_export_of_demo_data_changes_nothing(db_path: Path, tmp_path: Path) -> None:
    """Demo data repeats deal titles per customer and company names up to their legal form."""
    ok(db_path, "demo", "--deals", "400")
    export = tmp_path / "deals.csv"
    ok(db_path, "export", "-o", str(export))
    before = snapshot_of(db_path)
    assert "Nothing changed" in ok(db_path, "import", str(export)).stdout
    assert snapshot_of(db_path) == before
