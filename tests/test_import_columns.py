"""`crmtui import` of files it has never seen: headers read by their words, a companies file told
by its columns, titles made for a deals file without them, close dates by the deal's outcome,
and the columns that match no field: listed with what to do, or made custom fields
(--create-fields) of the kind their values show, undone with the import."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store.db import open_database
from tests.commands import ok, refused, run
from tests.conftest import fetch, snapshot_of

def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def empty_db(db_path: Path) -> Iterator[Path]:
    open_database(db_path).close()
    yield db_path
    assert fetch(db_path, "PRAGMA foreign_key_check") == []


def deals(db: Path) -> list[tuple]:
    return fetch(db, "SELECT d.title, c.name, s.name, d.amount_cents, d.expected_close, d.closed_on, d.external_id"
                     " FROM deal d JOIN stage s ON s.id = d.stage_id LEFT JOIN company c ON c.id = d.company_id"
                     " ORDER BY d.id")


# --- headers by their words ------------------------------------------------------------------


def test_headers_are_read_by_their_words(empty_db: Path, tmp_path: Path, fixed_clock) -> None:
    f = write_csv(tmp_path / "export.csv",
                  ["Project name", "Client name", "close_value", "Date Added", "Target close date", "Sales stage",
                   "Account owner", "Weighted amount"],
                  [["Shop build", "Acme", "1,200", "2026-05-04", "2027-02-01", "Negotiation", "Sam", "840"]])
    result = ok(empty_db, "import", "--json", f)
    data = json.loads(result.stdout)
    assert data["type"] == "deals"  # told by words: no header is one of the known synonyms of a deals file
    assert data["mapping"] == {"Project name": "title", "Client name": "company", "close_value": "amount",
                               "Date Added": "created_at", "Target close date": "expected_close",
                               "Sales stage": "stage"}
    # the salesperson and a weighted amount are no field of ours
    assert data["ignored"] == ["Account owner", "Weighted amount"]
    assert deals(empty_db) == [("Shop build", "Acme", "Negotiation", 120000, "2027-02-01", None, None)]
    assert fetch(empty_db, "SELECT created_at FROM deal") == [("2026-05-04 00:00:00.000000",)]


@pytest.mark.parametrize(("header", "field"), [
    ("Total contract value", "amount"), ("Opportunity Amount", "amount"), ("closeValue", "amount"),
    ("engage_date", "created_at"), ("Opened On", "created_at"), ("Date engaged", "created_at"),
    ("client_name", "company"), ("Org name", "company"), ("Customer company", "company"),
    ("Date lost", "closed_on"), ("Date won", "closed_on"), ("Estimated closing date", "expected_close"),
    ("Confidence level", "confidence"), ("Reason for loss", "lost_reason"), ("Opp ID", "external_id"),
])
def test_a_header_names_the_field_its_words_say(empty_db: Path, tmp_path: Path, header: str, field: str) -> None:
    f = write_csv(tmp_path / "d.csv", ["Deal Name", header], [["A", ""]])
    data = json.loads(ok(empty_db, "import", "--dry-run", "--json", f).stdout)
    assert data["mapping"] == {"Deal Name": "title", header: field}


def test_a_synonym_keeps_its_field_over_a_word_match(empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "d.csv", ["Opportunity Amount", "Deal Name", "Amount", "Client name", "Account Name"],
                  [["900", "A", "100", "Word Ltd", "Exact Ltd"]])
    result = ok(empty_db, "import", f)
    assert "'Opportunity Amount' (amount comes from 'Amount')" in result.stderr
    assert "'Client name' (company comes from 'Account Name')" in result.stderr
    assert deals(empty_db) == [("A", "Exact Ltd", "Unqualified", 10000, None, None, None)]


# --- a companies file ------------------------------------------------------------------------


ACCOUNTS = ["account", "sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of"]


@pytest.mark.parametrize("header", [
    ACCOUNTS,
    ["Organisation", "Headcount", "Turnover"],
    ["Client name", "Vertical", "Founded"],
])
def test_a_file_of_accounts_is_told_to_hold_companies(empty_db: Path, tmp_path: Path, header: list[str]) -> None:
    f = write_csv(tmp_path / "accounts.csv", header, [["Acme Corp", "software", "1998", "412.5", "1850",
                                                       "United States", ""][:len(header)]])
    result = ok(empty_db, "import", f)
    assert "as companies" in result.stderr
    assert fetch(empty_db, "SELECT name FROM company") == [("Acme Corp",)]
    assert fetch(empty_db, "SELECT count(*) FROM deal") == [(0,)]


def test_an_accounts_file_maps_what_it_can_and_says_how_to_keep_the_rest(empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "accounts.csv", ACCOUNTS, [["Acme Corp", "software", "1998", "412.5", "1850",
                                                         "United States", ""]])
    result = ok(empty_db, "import", f)
    assert "'account' → name, 'sector' → category, 'office_location' → address" in result.stderr
    assert ("To keep a column that matches no field: --create-fields makes it a custom field, or --map "
            "year_established=FIELD maps it to one") in result.stderr
    assert fetch(empty_db, "SELECT name, category, address FROM company") == [("Acme Corp", "software",
                                                                               "United States")]
    data = json.loads(ok(empty_db, "import", "--json", f).stdout)
    assert data["unmatched"] == [
        {"column": c, "to_keep": f"--create-fields makes it a custom field, or --map {c}=FIELD maps it to one"}
        for c in ("year_established", "revenue", "employees", "subsidiary_of")]


# --- titles made for a file without them -----------------------------------------------------


OPPORTUNITIES = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_value"]


def test_a_deals_file_without_titles_gets_them_of_product_and_customer(empty_db: Path, tmp_path: Path,
                                                                         fixed_clock) -> None:
    rows = [["OP1", "Moses", "Website redesign", "Acme", "Prospecting", "2026-06-01", ""],
            ["OP2", "Zane", "Website redesign", "Acme", "Won", "2026-06-02", "5400"],  # the same, another id
            ["OP3", "Zane", "", "Acme", "Lost", "2026-06-03", "0"],
            ["OP4", "Vicki", "SEO audit", "", "Prospecting", "2026-06-04", ""]]
    f = write_csv(tmp_path / "opps.csv", OPPORTUNITIES, rows)
    result = run(empty_db, "import", "--map-stage", "Prospecting=Qualification", "--json", f)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["titles_made_from"] == ["product", "account"]
    assert data["merged_rows"] == 0
    assert deals(empty_db) == [
        ("Website redesign – Acme", "Acme", "Qualification", 0, None, None, "OP1"),
        ("Website redesign – Acme", "Acme", "Won", 540000, None, "2026-06-02", "OP2"),  # (no close date)
        ("Acme deal", "Acme", "Lost", 0, None, "2026-06-03", "OP3"),
        ("SEO audit", None, "Qualification", 0, None, None, "OP4")]
    text = ok(empty_db, "import", "--map-stage", "Prospecting=Qualification", f).stdout
    assert ("The file has no title column: titles made of 'product' and 'account': \"<product> – <account>\", "
            "or \"<account> deal\" when a row has no product.") in " ".join(text.split())
    # the same file again updates what changed, and makes no deal twice
    rows[0][6] = "700"
    write_csv(tmp_path / "opps.csv", OPPORTUNITIES, rows)
    data = json.loads(ok(empty_db, "import", "--map-stage", "Prospecting=Qualification", "--json", f).stdout)
    assert data["counts"]["deal"] == {"created": 0, "updated": 1, "unchanged": 3, "rejected": 0}
    assert fetch(empty_db, "SELECT title, amount_cents FROM deal WHERE external_id = 'OP1'") == [
        ("Website redesign – Acme", 70000)]


def test_rows_without_ids_whose_titles_are_made_stay_apart_and_import_again_unchanged(
        empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "sold.csv", ["Service", "Customer", "Deal value"],
                  [["Logo", "Acme", "100"], ["Logo", "Acme", "100"], ["Logo", "Bolt", "200"]])
    ok(empty_db, "import", f)
    assert fetch(empty_db, "SELECT title, amount_cents FROM deal ORDER BY id") == [
        ("Logo – Acme", 10000), ("Logo – Acme", 10000), ("Logo – Bolt", 20000)]
    before = snapshot_of(empty_db)
    assert "Nothing changed" in ok(empty_db, "import", f).stdout
    assert snapshot_of(empty_db) == before


def test_a_file_with_a_title_column_left_out_makes_no_titles(empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "d.csv", ["Deal Name", "product", "account"], [["A", "Logo", "Acme"]])
    assert "no column gives the deal title" in refused(empty_db, "import", "--map", "Deal Name=", f)


def test_a_row_with_nothing_to_make_a_title_of_is_rejected(empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "d.csv", ["product", "account", "Amount"], [["Logo", "Acme", "1"], ["", "", "2"]])
    message = refused(empty_db, "import", f)
    assert "line 3: no title, and none to make: 'product' and 'account' are empty" in message


# --- close dates -----------------------------------------------------------------------------


def test_a_close_date_is_when_a_closed_deal_closed_and_when_an_open_one_should(empty_db: Path, tmp_path: Path,
                                                                               fixed_clock) -> None:
    f = write_csv(tmp_path / "d.csv", ["Deal Name", "Deal Stage", "close_date"],
                  [["Won it", "Closed Won", "2026-10-01"], ["Lost it", "Closed Lost", "2026-09-15"],
                   ["Open", "Negotiation", "2027-01-31"], ["Early win", "Closed Won", "2027-03-01"]])
    result = ok(empty_db, "import", f)
    assert "'close_date' → close_date" in result.stderr
    assert fetch(empty_db, "SELECT title, expected_close, closed_on FROM deal ORDER BY id") == [
        ("Won it", None, "2026-10-01"), ("Lost it", None, "2026-09-15"), ("Open", "2027-01-31", None),
        ("Early win", None, "2026-11-23")]  # a close date still ahead: it closed early, by today
    before = snapshot_of(empty_db)
    assert "Nothing changed" in ok(empty_db, "import", f).stdout
    assert snapshot_of(empty_db) == before


def test_next_to_an_expected_close_column_a_close_date_is_the_day_deals_closed(empty_db: Path, tmp_path: Path,
                                                                               fixed_clock) -> None:
    f = write_csv(tmp_path / "d.csv", ["Deal Name", "Deal Stage", "Expected close date", "Close Date"],
                  [["Won it", "Closed Won", "2026-12-01", "2026-10-01"], ["Open", "Negotiation", "2027-01-31", ""]])
    result = ok(empty_db, "import", f)
    assert "'Expected close date' → expected_close" in result.stderr and "'Close Date' → closed_on" in result.stderr
    assert fetch(empty_db, "SELECT title, expected_close, closed_on FROM deal ORDER BY id") == [
        ("Won it", "2026-12-01", "2026-10-01"), ("Open", "2027-01-31", None)]


# --- --create-fields -------------------------------------------------------------------------


KINDS_HEADER = ["Deal Name", "Paid", "Budget", "Seats", "Kickoff", "Region", "Ref", "Empty"]
KINDS_ROWS = [["A", "yes", "$1,200", "3", "2026-03-01", "North", "x-1", ""],
              ["B", "No", "€50", "1,000", "15/03/2026", "South", "x-2", ""],
              ["C", "TRUE", "", "12.5", "", "north", "x-3", ""],
              ["D", "", "USD 7", "", "2026-04-02", "South", "", ""]]


def fields(db: Path) -> list[tuple]:
    return fetch(db, "SELECT entity, name, kind, options FROM custom_field ORDER BY position")


def test_create_fields_makes_each_unknown_column_a_field_of_the_kind_its_values_show(
        empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "d.csv", KINDS_HEADER, KINDS_ROWS)
    before = snapshot_of(empty_db)
    dry = ok(empty_db, "import", "--dry-run", "--create-fields", f)
    assert ("New fields: 'Paid' → yesno, 'Budget' → money, 'Seats' → number, 'Kickoff' → date, "
            "'Region' → choice (North, South), 'Ref' → text") in dry.stderr
    assert "Dry run: nothing was written." in dry.stdout
    assert snapshot_of(empty_db) == before  # no field either
    data = json.loads(ok(empty_db, "import", "--dry-run", "--create-fields", "--json", f).stdout)
    assert data["new_fields"] == [
        {"name": "Paid", "kind": "yesno", "options": []}, {"name": "Budget", "kind": "money", "options": []},
        {"name": "Seats", "kind": "number", "options": []}, {"name": "Kickoff", "kind": "date", "options": []},
        {"name": "Region", "kind": "choice", "options": ["North", "South"]},
        {"name": "Ref", "kind": "text", "options": []}]
    assert snapshot_of(empty_db) == before

    result = ok(empty_db, "import", "--create-fields", f)
    assert "New deal fields: Paid: yesno; Budget: money; Seats: number; Kickoff: date; Region: choice (North, " \
           "South); Ref: text" in result.stdout
    assert "'Empty' (not a known field)" in result.stderr  # no values: nothing to keep
    assert fields(empty_db) == [("deal", "Paid", "yesno", None), ("deal", "Budget", "money", None),
                                ("deal", "Seats", "number", None), ("deal", "Kickoff", "date", None),
                                ("deal", "Region", "choice", '["North", "South"]'), ("deal", "Ref", "text", None)]
    stored = fetch(empty_db, "SELECT d.title, f.name, v.value FROM custom_value v JOIN custom_field f ON f.id ="
                             " v.field_id JOIN deal d ON d.id = v.entity_id ORDER BY d.id, f.position")
    assert stored == [
        ("A", "Paid", "yes"), ("A", "Budget", "120000"), ("A", "Seats", "3"), ("A", "Kickoff", "2026-03-01"),
        ("A", "Region", "North"), ("A", "Ref", "x-1"),
        ("B", "Paid", "no"), ("B", "Budget", "5000"), ("B", "Seats", "1000"), ("B", "Kickoff", "2026-03-15"),
        ("B", "Region", "South"), ("B", "Ref", "x-2"),
        ("C", "Paid", "yes"), ("C", "Seats", "12.5"), ("C", "Region", "North"), ("C", "Ref", "x-3"),
        ("D", "Budget", "700"), ("D", "Kickoff", "2026-04-02"), ("D", "Region", "South")]
    # imported again: the columns feed the fields made, nothing is made twice
    before = snapshot_of(empty_db)
    assert "Nothing changed" in ok(empty_db, "import", "--create-fields", f).stdout
    assert snapshot_of(empty_db) == before


def test_undo_removes_the_fields_an_import_made_but_those_used_since(empty_db: Path, tmp_path: Path) -> None:
    before = snapshot_of(empty_db)
    f = write_csv(tmp_path / "d.csv", KINDS_HEADER, KINDS_ROWS)
    ok(empty_db, "import", "--create-fields", f)
    g = write_csv(tmp_path / "more.csv", ["Deal Name", "Region"], [["E", "North"]])
    ok(empty_db, "import", g)  # a later import gives Region a value on a deal of its own
    result = ok(empty_db, "imports", "undo", "1", "--yes")
    assert "removed 4 deals, 0 companies, 0 contacts and 5 fields" in result.stdout
    assert "field #5 'Region': 1 value stays" in result.stdout
    assert fields(empty_db) == [("deal", "Region", "choice", '["North", "South"]')]
    ok(empty_db, "imports", "undo", "2", "--yes")
    assert snapshot_of(empty_db) != before  # Region stays: made by import 1, which is undone
    assert fetch(empty_db, "SELECT count(*) FROM custom_value") == [(0,)]


def test_undo_removes_every_field_an_import_made(empty_db: Path, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "accounts.csv", ACCOUNTS,
                  [["Acme Corp", "software", "1998", "412.5", "1850", "United States", ""],
                   ["Bolt", "retail", "2004", "1211.73", "4120", "France", "Acme Corp"]])
    ok(empty_db, "import", "--create-fields", f)
    assert fields(empty_db) == [("company", "year_established", "number", None),
                                ("company", "revenue", "money", None),  # the header says money
                                ("company", "employees", "number", None),
                                ("company", "subsidiary_of", "text", None)]
    assert fetch(empty_db, "SELECT value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
                           " WHERE f.name = 'revenue' ORDER BY entity_id") == [("41250",), ("121173",)]
    ok(empty_db, "imports", "undo", "1", "--yes")
    assert fields(empty_db) == [] and fetch(empty_db, "SELECT count(*) FROM company") == [(0,)]


def test_a_column_named_like_a_field_feeds_it_and_makes_none(empty_db: Path, tmp_path: Path) -> None:
    ok(empty_db, "fields", "add", "deal", "Region", "--kind", "text")
    f = write_csv(tmp_path / "d.csv", ["Deal Name", "region", "Seats"], [["A", "North", "3"]])
    result = ok(empty_db, "import", "--create-fields", f)
    assert "New fields: 'Seats' → number" in result.stderr
    assert fields(empty_db) == [("deal", "Region", "text", None), ("deal", "Seats", "number", None)]
    assert fetch(empty_db, "SELECT value FROM custom_value ORDER BY field_id") == [("North",), ("3",)]


@pytest.mark.parametrize(("header", "message"), [
    ("", "d.csv: a column with no header has values; --create-fields cannot name a field after it: give it a "
         "header in the file"),
    ("x" * 61, f"d.csv: column '{'x' * 61}' cannot be a custom field (longer than 60 characters); map it with "
               f"--map {'x' * 61}=FIELD, or leave it out with --map {'x' * 61}="),
    ("a=b", "column 'a=b' cannot be a custom field ('a=b' has an '='"),
])
def test_a_column_that_cannot_name_a_field_stops_create_fields(empty_db: Path, tmp_path: Path, header: str,
                                                                message: str) -> None:
    f = write_csv(tmp_path / "d.csv", ["Deal Name", header, "Seats"], [["A", "1", "2"]])
    assert message in " ".join(refused(empty_db, "import", "--create-fields", f).split())
    assert fields(empty_db) == []


def test_an_empty_column_without_a_header_is_no_trouble(empty_db: Path, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("Deal Name,,Seats\nA,,3\nB,,4\n")
    ok(empty_db, "import", "--create-fields", str(tmp_path / "d.csv"))
    assert fields(empty_db) == [("deal", "Seats", "number", None)]
