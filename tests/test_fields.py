"""Custom fields and `crmtui set`, as a user meets them: `crmtui fields ...`, the trash, lookups,
hidden built-in fields, values in JSON and exports, and editing any field from the shell."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from crmtui.store import undo
from crmtui.store.db import open_database
from tests.commands import ok, run
from tests.conftest import fetch, snapshot_of

def refused(db: Path, *args: str) -> str:
    """Run a command that must fail: one error line, exit 1, the database as it was."""
    before = snapshot_of(db)
    result = run(db, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    assert snapshot_of(db) == before
    return result.stderr


def settings_undo(db_path: Path) -> str | None:
    db = open_database(db_path)
    try:
        with db.session() as s:
            entry = undo.undo_last(s, scope="settings")
            return entry.label if entry else None
    finally:
        db.close()


def undo_entries(db_path: Path, scope: str = "settings") -> list[str]:
    return [label for (label,) in fetch(db_path, "SELECT label FROM undo_entry WHERE scope = ? ORDER BY id", scope)]


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> Path:
    ok(db_path, "add", "deal", "Website relaunch", "--company", "Acme", "--contact", "jo@acme.com", "--amount", "12500")
    ok(db_path, "add", "deal", "Brand refresh", "--company", "Bolt", "--amount", "4000")
    ok(db_path, "set", "C1", "size=enterprise")
    return db_path


# --- defining fields ---------------------------------------------------------------------------


def test_fields_are_added_listed_in_order_and_each_is_one_undo_entry(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money", "--required")
    ok(seeded, "fields", "add", "deal", "Services", "--kind", "multichoice", "--options", "SEO, Ads,Web")
    ok(seeded, "fields", "add", "company", "VAT id", "--kind", "text")
    result = ok(seeded, "fields", "add", "deal", "Customer size", "--kind", "lookup", "--from", "company.size")
    assert "Added deal field 'Customer size' (lookup, from company.size)" in result.stdout
    listed = ok(seeded, "fields", "list").stdout
    assert "Budget" in listed and "SEO, Ads, Web" in listed and "company.size" in listed and "VAT id" in listed
    data = json.loads(ok(seeded, "fields", "list", "--entity", "deal", "--json").stdout)
    assert [(f["name"], f["kind"], f["position"]) for f in data["fields"]] == [
        ("Budget", "money", 1), ("Services", "multichoice", 2), ("Customer size", "lookup", 3)]
    assert data["fields"][0]["required"] is True and data["fields"][1]["options"] == ["SEO", "Ads", "Web"]
    assert data["fields"][2]["lookup"] == "company.size" and data["hidden"] == {"deal": []}
    assert fetch(seeded, "SELECT name, options, lookup FROM custom_field WHERE id = 2") == [
        ("Services", '["SEO", "Ads", "Web"]', None)]
    assert undo_entries(seeded) == ["add deal field Budget", "add deal field Services", "add company field VAT id",
                                    "add deal field Customer size"]
    assert settings_undo(seeded) == "add deal field Customer size"
    assert [n for (n,) in fetch(seeded, "SELECT name FROM custom_field WHERE deleted_at IS NULL ORDER BY id")] == [
        "Budget", "Services", "VAT id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deal", "Size", "--kind", "colour"], "kind: 'colour' is not one of text, number, money, date, choice, "
                                               "multichoice, url, email, phone, rating, yesno, lookup"),
        (["deal", "budget", "--kind", "text"], "there is a deal field called 'Budget' already"),
        (["deal", "Source", "--kind", "text"], "deals have a built-in field called 'Source'"),
        (["deal", "Expected-close", "--kind", "date"], "deals have a built-in field called 'Expected-close'"),
        (["deal", "Tier", "--kind", "choice"], "a choice field needs its options"),
        (["deal", "Seats", "--kind", "number", "--options", "a,b"], "only choice and multichoice fields have options"),
        (["deal", "Tier", "--kind", "choice", "--options", "A,B,a"], "options: 'a' is given twice"),
        (["deal", "Size", "--kind", "text", "--from", "company.size"], "only lookup fields look up a value"),
        (["deal", "Size", "--kind", "lookup"], "a lookup field needs its source"),
        (["deal", "Size", "--kind", "lookup", "--from", "company.shoe"], "a company has no field 'shoe' (fields: name"),
        (["deal", "Size", "--kind", "lookup", "--from", "pipeline.name"], "is not a field of the company or contact"),
        (["company", "Tier size", "--kind", "lookup", "--from", "company.size"], "a company has nothing to look up"),
        (["deal", "Size", "--kind", "lookup", "--from", "company.size", "--required"], "never typed in"),
        (["deal", "a=b", "--kind", "text"], "has an '='"),
        (["deal", "  ", "--kind", "text"], "name: required"),
        (["invoice", "X", "--kind", "text"], "record type: 'invoice' is not deal, company or contact"),
    ],
)
def test_adding_a_field_is_refused_with_what_is_accepted(seeded: Path, args: list[str], message: str) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money")
    assert message in refused(seeded, "fields", "add", *args)


def test_rename_and_move_keep_values_and_are_undone(seeded: Path) -> None:
    for name in ("Budget", "Seats", "Kick-off"):
        ok(seeded, "fields", "add", "deal", name, "--kind", "text")
    ok(seeded, "set", "1", "Budget=big")
    assert "Renamed the deal field to 'Spend'" in ok(seeded, "fields", "rename", "deal", "budget", "Spend").stdout
    assert json.loads(ok(seeded, "deal", "show", "1", "--json").stdout)["fields"]["Spend"] == "big"
    assert "Order: Kick-off, Spend, Seats" in ok(seeded, "fields", "move", "deal", "kick off", "--first").stdout
    assert "Order: Kick-off, Seats, Spend" in ok(seeded, "fields", "move", "deal", "Spend", "--after", "Seats").stdout
    assert "Order: Seats, Spend, Kick-off" in ok(seeded, "fields", "move", "deal", "Kick-off", "--last").stdout
    assert "there is a deal field called 'Seats' already" in refused(seeded, "fields", "rename", "deal", "Spend",
                                                                     "seats")
    assert "give one of --after FIELD, --first or --last" in refused(seeded, "fields", "move", "deal", "Spend")
    assert "no deal field called 'Nope' (fields: Seats, Spend, Kick-off)" in refused(
        seeded, "fields", "move", "deal", "Spend", "--after", "Nope")
    assert settings_undo(seeded) == "move deal field Kick-off"
    assert settings_undo(seeded) == "move deal field Spend"
    assert settings_undo(seeded) == "move deal field Kick-off"
    assert settings_undo(seeded) == "rename deal field Budget to Spend"
    assert fetch(seeded, "SELECT name FROM custom_field ORDER BY position") == [("Budget",), ("Seats",), ("Kick-off",)]


def test_a_deleted_field_waits_in_the_trash_with_its_values(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money")
    ok(seeded, "set", "1", "budget=2,500")
    result = ok(seeded, "fields", "delete", "deal", "Budget")
    assert "crmtui trash restore F1 brings them back" in result.stdout
    assert "fields" not in json.loads(ok(seeded, "deal", "show", "1", "--json").stdout)
    assert fetch(seeded, "SELECT value FROM custom_value") == [("250000",)]
    trash = json.loads(ok(seeded, "trash", "list", "--json").stdout)
    assert [(t["ref"], t["kind"], t["label"]) for t in trash] == [("F1", "field", "Budget (deal field)")]
    assert "F1" in ok(seeded, "trash", "list").stdout
    # the name is free again while the field is in the trash; restoring then asks for a rename
    ok(seeded, "fields", "add", "deal", "budget", "--kind", "text")
    assert "there is a deal field called 'budget' now" in refused(seeded, "trash", "restore", "F1")
    ok(seeded, "fields", "delete", "deal", "budget")
    assert "Restored field F1 'Budget'" in ok(seeded, "trash", "restore", "F1").stdout
    assert json.loads(ok(seeded, "deal", "show", "1", "--json").stdout)["fields"] == {"Budget": "2500.00"}
    assert "F1 (deal field 'Budget') is not in the trash" in refused(seeded, "trash", "restore", "f1")
    assert "no field with id 9" in refused(seeded, "trash", "restore", "F9")
    assert settings_undo(seeded) == "restore deal field Budget"
    assert fetch(seeded, "SELECT deleted_at IS NOT NULL FROM custom_field WHERE id = 1") == [(1,)]


def test_a_field_a_lookup_shows_cannot_be_deleted(seeded: Path) -> None:
    ok(seeded, "fields", "add", "company", "Tier", "--kind", "choice", "--options", "A,B")
    ok(seeded, "fields", "add", "deal", "Customer tier", "--kind", "lookup", "--from", "company.tier")
    assert "deal field 'Customer tier' looks it up" in refused(seeded, "fields", "delete", "company", "Tier")


# --- options -----------------------------------------------------------------------------------


def test_renaming_an_option_rewrites_the_records_that_have_it_in_one_undo_entry(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Type", "--kind", "choice", "--options", "New,Upsell")
    ok(seeded, "fields", "add", "deal", "Services", "--kind", "multichoice", "--options", "SEO,Ads,Web")
    ok(seeded, "set", "1", "type=new", "services=web; seo")
    ok(seeded, "set", "2", "type=Upsell", "services=Ads")
    result = ok(seeded, "fields", "options", "deal", "Type", "--rename", "new=New business")
    assert "Options: New business, Upsell; 1 deal rewritten" in result.stdout
    ok(seeded, "fields", "options", "deal", "Services", "--rename", "SEO=Search")
    assert fetch(seeded, "SELECT entity_id, field_id, value FROM custom_value ORDER BY 1, 2") == [
        (1, 1, "New business"), (1, 2, '["Search", "Web"]'), (2, 1, "Upsell"), (2, 2, '["Ads"]')]
    assert "'Upsell' is an option already" in refused(seeded, "fields", "options", "deal", "Type", "--rename",
                                                      "New business=upsell")
    assert settings_undo(seeded) == "rename option SEO of Services to Search"
    assert settings_undo(seeded) == "rename option New of Type to New business"
    assert fetch(seeded, "SELECT value FROM custom_value ORDER BY entity_id, field_id") == [
        ("New",), ('["SEO", "Web"]',), ("Upsell",), ('["Ads"]',)]
    assert fetch(seeded, "SELECT options FROM custom_field WHERE id = 1") == [('["New", "Upsell"]',)]


def test_add_deal_takes_custom_fields_and_needs_the_required_ones(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money", "--required")
    ok(seeded, "fields", "add", "deal", "Type", "--kind", "choice", "--options", "New,Upsell")
    before = snapshot_of(seeded)
    result = run(seeded, "add", "deal", "Audit")  # a script: nobody to ask
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == "Error: Budget: required for a new deal; give it with --field 'Budget=VALUE'\n"
    for bad, message in ((["--field", "budget=lots"], "'lots' is not an amount"),
                         (["--field", "Budgett=1"], "no deal field called 'Budgett' (fields: Budget, Type)"),
                         (["--field", "budget=1", "--field", "type=Renewal"], "Type")):
        result = run(seeded, "add", "deal", "Audit", *bad)
        assert result.exit_code == 1 and message in result.stderr, result.output
    assert snapshot_of(seeded) == before
    added = json.loads(ok(seeded, "add", "deal", "Audit", "--field", "budget=2,500", "--field", "type=new",
                          "--json").stdout)
    assert added["fields"] == {"Budget": "2500.00", "Type": "New"}


def test_add_deal_asks_a_person_for_the_required_fields(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.cli import records

    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money", "--required")
    monkeypatch.setattr(records, "interactive", lambda: True)
    printed = ok(seeded, "add", "deal", "Audit", "--json", input="3000\n").stdout
    added = json.loads(printed[printed.index("{"):])  # (after the typed answer, which the test runner echoes)
    assert added["fields"] == {"Budget": "3000.00"}


def test_deal_show_lists_the_custom_fields_as_written(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Services", "--kind", "multichoice", "--options", "SEO,Ads,Web")
    ok(seeded, "fields", "add", "deal", "Signed", "--kind", "yesno")
    ok(seeded, "fields", "add", "deal", "Owner", "--kind", "text")
    ok(seeded, "set", "1", "services=web; seo", "signed=yes", "owner=[b]Ana")
    lines = [" ".join(line.split()) for line in ok(seeded, "deal", "show", "1").stdout.splitlines()]
    assert {"Services SEO, Web", "Signed yes", "Owner [b]Ana"} <= set(lines)


def test_a_removed_option_is_no_longer_offered_but_records_keep_it(seeded: Path) -> None:
    from crmtui.store.custom_fields import custom_rows, custom_text
    from crmtui.store.editing import update_record

    ok(seeded, "fields", "add", "deal", "Type", "--kind", "choice", "--options", "New,Upsell")
    ok(seeded, "set", "1", "type=Upsell")
    assert "Options: New; 1 deal keep 'upsell'" in ok(seeded, "fields", "options", "deal", "Type",
                                                      "--remove", "upsell").stdout
    assert json.loads(ok(seeded, "deal", "show", "1", "--json").stdout)["fields"] == {"Type": "Upsell"}
    assert "Type: 'Upsell' is not one of New" in refused(seeded, "set", "2", "type=Upsell")
    assert "'New' is its last option" in refused(seeded, "fields", "options", "deal", "Type", "--remove", "New")
    assert "is not one of New" in refused(seeded, "fields", "options", "deal", "Type", "--remove", "Gone")
    assert "give one of --add X, --rename X=Y or --remove X" in refused(seeded, "fields", "options", "deal", "Type")
    # the app's form sends every field: the kept value, untouched, does not stop a save
    db = open_database(seeded)
    with db.session() as s:
        ((field, stored),) = custom_rows(s, "deal", 1)
        form = {"title": "Relaunch", "cf_1": custom_text(field, stored, for_form=True)}
        assert update_record(s, "deal", 1, form) == ["title"]
    db.close()
    ok(seeded, "fields", "options", "deal", "Type", "--add", "Renewal")
    assert "'Renewal' is an option already" in refused(seeded, "fields", "options", "deal", "Type", "--add", "renewal")
    assert "no deal field called 'Tier' (fields: Type)" in refused(seeded, "fields", "options", "deal", "Tier",
                                                                   "--add", "x")
    ok(seeded, "fields", "add", "deal", "Seats", "--kind", "number")
    assert "Seats is a number field: only choice and multichoice fields have options" in refused(
        seeded, "fields", "options", "deal", "Seats", "--add", "x")
    assert fetch(seeded, "SELECT options FROM custom_field WHERE id = 1") == [('["New", "Renewal"]',)]


# --- lookups -----------------------------------------------------------------------------------


def test_lookup_fields_follow_the_customer_and_are_read_only(seeded: Path) -> None:
    ok(seeded, "fields", "add", "company", "VAT id", "--kind", "text")
    ok(seeded, "fields", "add", "company", "Credit", "--kind", "money")
    ok(seeded, "fields", "add", "contact", "Birthday", "--kind", "date")
    ok(seeded, "fields", "add", "deal", "Customer size", "--kind", "lookup", "--from", "company.size")
    ok(seeded, "fields", "add", "deal", "VAT", "--kind", "lookup", "--from", "Company.vat_id")
    ok(seeded, "fields", "add", "deal", "Credit line", "--kind", "lookup", "--from", "company.Credit")
    ok(seeded, "fields", "add", "deal", "Birthday", "--kind", "lookup", "--from", "contact.birthday")
    ok(seeded, "fields", "add", "contact", "Employer size", "--kind", "lookup", "--from", "company.size")
    ok(seeded, "set", "C1", "vat id=SE-1", "credit=1000")
    ok(seeded, "set", "P1", "birthday=2026-05-01")
    shown = json.loads(ok(seeded, "deal", "show", "1", "--json").stdout)["fields"]
    assert shown == {"Customer size": "enterprise", "VAT": "SE-1", "Credit line": "1000.00", "Birthday": "2026-05-01"}
    ok(seeded, "set", "C1", "size=small", "vat id=")
    deals = json.loads(ok(seeded, "deals", "list", "--json").stdout)
    assert [(d["title"], d["fields"]["Customer size"], d["fields"]["VAT"]) for d in deals] == [
        ("Brand refresh", None, None), ("Website relaunch", "small", None)]
    contacts = json.loads(ok(seeded, "contacts", "list", "--json").stdout)
    assert contacts[0]["fields"] == {"Birthday": "2026-05-01", "Employer size": "small"}
    assert fetch(seeded, "SELECT count(*) FROM custom_value WHERE field_id IN (4, 5, 6, 7, 8)") == [(0,)]
    message = refused(seeded, "set", "1", "customer size=large")
    assert "Customer size: read-only, looked up from company.size; change it on the company" in message
    assert "read-only, looked up from company.VAT id" in refused(seeded, "set", "1", "VAT=")


def test_a_page_shows_a_lookup_as_its_source_kind(seeded: Path) -> None:
    from crmtui.store.custom_fields import custom_rows, custom_text

    ok(seeded, "fields", "add", "company", "Credit", "--kind", "money")
    ok(seeded, "fields", "add", "deal", "Credit line", "--kind", "lookup", "--from", "company.credit")
    ok(seeded, "set", "C1", "credit=1000")
    db = open_database(seeded)
    with db.session() as s:
        ((field, stored),) = custom_rows(s, "deal", 1)
        assert (field["source"], field["value_kind"], stored) == ("company.Credit", "money", "100000")
        assert "1,000" in custom_text(field, stored)
    db.close()


# --- hidden built-in fields ----------------------------------------------------------------------


def test_built_in_fields_are_hidden_and_shown_again(seeded: Path) -> None:
    from crmtui.store.field_setup import hidden_fields

    assert "Hid cost" in ok(seeded, "fields", "hide", "deal", "Cost").stdout
    ok(seeded, "fields", "hide", "deal", "expected close")
    ok(seeded, "fields", "hide", "company", "phone")
    assert "Already hidden: cost" in ok(seeded, "fields", "hide", "deal", "cost").stdout
    assert json.loads(fetch(seeded, "SELECT value FROM setting WHERE key = 'hidden-fields'")[0][0]) == {
        "company": ["phone"], "deal": ["cost", "expected_close"]}
    db = open_database(seeded)
    with db.session() as s:
        assert hidden_fields(s, "deal") == {"cost", "expected_close"} and hidden_fields(s, "contact") == set()
    db.close()
    assert "Hidden deal fields: cost, expected_close" in ok(seeded, "fields", "list").stdout
    assert json.loads(ok(seeded, "fields", "list", "--json").stdout)["hidden"] == {
        "deal": ["cost", "expected_close"], "company": ["phone"], "contact": []}
    # hidden fields stay in the data, the export and `crmtui set`
    ok(seeded, "set", "1", "cost=100")
    assert json.loads(ok(seeded, "export", "--format", "json").stdout)[0]["cost"] == "100.00"
    assert ok(seeded, "rules", "show").exit_code == 0  # the settings ignore the key
    assert "title: every deal shows it; it cannot be hidden" in refused(seeded, "fields", "hide", "deal", "Title")
    assert "name: every company shows it" in refused(seeded, "fields", "hide", "company", "name")
    assert "deals have no built-in field 'shoe size' (fields: title, company" in refused(
        seeded, "fields", "hide", "deal", "shoe size")
    assert "Showing cost" in ok(seeded, "fields", "show", "deal", "cost").stdout
    assert "Not hidden: cost" in ok(seeded, "fields", "show", "deal", "cost").stdout
    assert undo_entries(seeded) == ["hide deal field cost", "hide deal field expected_close",
                                    "hide company field phone", "show deal field cost"]
    assert settings_undo(seeded) == "show deal field cost"
    assert settings_undo(seeded) == "hide company field phone"
    assert json.loads(fetch(seeded, "SELECT value FROM setting WHERE key = 'hidden-fields'")[0][0]) == {
        "deal": ["cost", "expected_close"]}


# --- values ------------------------------------------------------------------------------------


def test_values_are_cleaned_by_kind() -> None:
    from crmtui.store.custom_fields import clean_custom
    from crmtui.store.errors import ValidationError

    services = {"name": "Services", "kind": "multichoice", "choices": ["SEO", "Ads", "Web"]}
    assert clean_custom(services, "web, seo;SEO") == '["SEO", "Web"]'
    assert clean_custom(services, " , ") is None
    assert clean_custom({"name": "Mail", "kind": "email", "choices": []}, "mailto:jo@acme.com") == "jo@acme.com"
    phone = {"name": "Tel", "kind": "phone", "choices": []}
    assert clean_custom(phone, "+46 (0)8  123-45 ext. 9") == "+46 (0)8 123-45 ext. 9"
    assert clean_custom({"name": "Seats", "kind": "number", "choices": []}, "1 200") == "1200"
    for field, value, message in (
        (services, "Fax", "Services: 'Fax' is not one of SEO, Ads, Web"),
        ({"name": "Mail", "kind": "email", "choices": []}, "jo(at)acme", "Mail: 'jo(at)acme' is not an email address"),
        ({"name": "Tel", "kind": "phone", "choices": []}, "call me", "Tel: 'call me' is not a phone number"),
        ({"name": "Tel", "kind": "phone", "choices": []}, "12", "Tel: '12' is not a phone number"),
        ({"name": "Seats", "kind": "number", "choices": []}, "nan", "Seats: 'nan' is not a number"),
    ):
        with pytest.raises(ValidationError, match=re.escape(message)):
            clean_custom(field, value)


def test_set_edits_built_in_and_custom_fields_as_the_app_does(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money")
    ok(seeded, "fields", "add", "deal", "NDA", "--kind", "yesno")
    result = ok(seeded, "set", "D1", "amount=15,000", "Budget=$2,500", "nda=y", "Expected close=2027-01-31",
                "stage=Proposal sent")
    assert result.stdout.strip() == "Updated deal D1: amount, expected_close, stage, Budget, NDA"
    assert fetch(seeded, "SELECT amount_cents, expected_close, s.name FROM deal d JOIN stage s ON s.id = d.stage_id"
                         " WHERE d.id = 1") == [(1500000, "2027-01-31", "Proposal sent")]
    assert fetch(seeded, "SELECT count(*) FROM stage_change WHERE deal_id = 1") == [(2,)]
    assert undo_entries(seeded, "deal:1") == ["edit amount, expected close, stage, Budget, NDA"]
    data = json.loads(ok(seeded, "set", "1", "budget=", "--json").stdout)
    assert data["id"] == 1 and data["fields"] == {"Budget": None, "NDA": True}
    assert ok(seeded, "set", "1", "NDA=yes").stdout.strip() == "Nothing to change on deal D1"
    company = json.loads(ok(seeded, "set", "c2", "Domain=https://www.bolt.de", "--json").stdout)
    assert company["name"] == "Bolt" and company["domain"] == "bolt.de"
    assert "Updated contact P1: title" in ok(seeded, "set", "contact:1", "title=CEO").stdout
    db = open_database(seeded)
    with db.session() as s:
        from crmtui.store.editing import undo_last_edit

        assert undo_last_edit(s, "deal", 1) == "edit Budget"
        assert undo_last_edit(s, "deal", 1) == "edit amount, expected close, stage, Budget, NDA"
    db.close()
    assert fetch(seeded, "SELECT amount_cents, stage_id FROM deal WHERE id = 1") == [(1250000, 1)]
    assert fetch(seeded, "SELECT count(*) FROM custom_value") == [(0,)]
    assert fetch(seeded, "SELECT count(*) FROM stage_change WHERE deal_id = 1") == [(1,)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "shoe=9"], "deals have no field 'shoe' (fields: title, company, contact, pipeline, stage, amount,"),
        (["1", "Type=Fax"], "Type: 'Fax' is not one of New, Upsell"),
        (["1", "amount=lots"], "amount: 'lots' is not an amount"),
        (["1", "confidence=9"], "confidence: '9' is not 1 to 5 stars"),
        (["1", "stage=Nowhere"], "unknown stage 'Nowhere' in pipeline 'Sales' (stages: Unqualified"),
        (["1", "title="], "title: required"),
        (["1", "amount=5", "Amount=6"], "Amount: given twice"),
        (["1", "amount"], "'amount' is not FIELD=VALUE"),
        (["1", "title=X", "Type=Fax"], "Type: 'Fax'"),
        (["C1", "size=huge"], "size: 'huge' is not"),
        (["C1", "Type=New"], "companies have no field 'Type' (fields: name, website"),
        (["F1", "x=1"], "is not a record id"),
        (["99", "title=X"], "no deal with id 99"),
    ],
)
def test_set_refuses_bad_input_naming_the_field_and_what_it_accepts(seeded: Path, args: list[str],
                                                                   message: str) -> None:
    ok(seeded, "fields", "add", "deal", "Type", "--kind", "choice", "--options", "New,Upsell")
    assert message in refused(seeded, "set", *args)


# --- JSON and exports --------------------------------------------------------------------------


def test_lists_and_exports_carry_the_fields(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money")
    ok(seeded, "fields", "add", "deal", "Services", "--kind", "multichoice", "--options", "SEO,Ads")
    ok(seeded, "fields", "add", "deal", "Fit", "--kind", "rating")
    ok(seeded, "fields", "add", "deal", "Customer size", "--kind", "lookup", "--from", "company.size")
    ok(seeded, "fields", "add", "company", "Notes 2", "--kind", "text")
    ok(seeded, "set", "1", "budget=2500.5", "services=ads,seo", "fit=4")
    ok(seeded, "set", "C1", "notes 2==SUM(A1)")
    deals = json.loads(ok(seeded, "export", "--format", "json").stdout)
    assert deals[0]["fields"] == {"Budget": "2500.50", "Services": ["SEO", "Ads"], "Fit": 4,
                                  "Customer size": "enterprise"}
    assert deals[1]["fields"] == {"Budget": None, "Services": None, "Fit": None, "Customer size": None}
    rows = list(csv.DictReader(io.StringIO(ok(seeded, "export").stdout)))
    assert list(rows[0])[-4:] == ["Budget", "Services", "Fit", "Customer size"]
    assert [rows[0][k] for k in ("Budget", "Services", "Fit", "Customer size")] == ["2500.50", "SEO; Ads", "4",
                                                                                  "enterprise"]
    companies = list(csv.DictReader(io.StringIO(ok(seeded, "export", "--type", "companies").stdout)))
    assert companies[0]["Notes 2"] == "'=SUM(A1)"  # a custom text cell is neutralised like the others
    assert json.loads(ok(seeded, "companies", "list", "--json").stdout)[0]["fields"] == {"Notes 2": "=SUM(A1)"}
    everything = json.loads(ok(seeded, "export", "--type", "all", "--format", "json").stdout)
    assert not any("fields" in row for kind in ("contacts", "activities") for row in everything[kind])


def test_a_csv_column_of_a_field_named_like_a_built_in_one_is_prefixed(seeded: Path) -> None:
    """Names like the built-in ones are refused now; a database that has one still exports."""
    import sqlite3

    conn = sqlite3.connect(seeded)
    conn.execute("INSERT INTO custom_field (entity, name, kind, position) VALUES ('deal', 'Status', 'text', 0)")
    conn.execute("INSERT INTO custom_value (field_id, entity_id, value) VALUES (1, 1, 'hot')")
    conn.commit()
    conn.close()
    rows = list(csv.DictReader(io.StringIO(ok(seeded, "export").stdout)))
    assert rows[0]["status"] == "open" and rows[0]["field:Status"] == "hot"
    assert "Updated deal D1: Status" in ok(seeded, "set", "1", "field:status=cold").stdout
    assert fetch(seeded, "SELECT value FROM custom_value") == [("cold",)]


def test_a_field_changes_kind_with_its_values_read_again_and_back_with_undo(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Budget", "--kind", "money")
    ok(seeded, "fields", "add", "deal", "Tier", "--kind", "text")
    ok(seeded, "set", "1", "Budget=2,500.50", "Tier=Gold")
    ok(seeded, "set", "2", "Budget=900", "Tier=silver")
    assert "Deal field 'Budget' is number, required" in ok(seeded, "fields", "set", "deal", "Budget", "--kind",
                                                            "number", "--required").stdout
    assert fetch(seeded, "SELECT v.entity_id, v.value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
                         " WHERE f.name = 'Budget' ORDER BY 1") == [(1, "2500.50"), (2, "900")]
    assert fetch(seeded, "SELECT kind, required FROM custom_field WHERE name = 'Budget'") == [("number", 1)]
    # a text field becomes a choice of its values; a value outside the options refuses the change
    message = refused(seeded, "fields", "set", "deal", "Tier", "--kind", "choice", "--options", "Gold,Bronze")
    assert "deal 2 has Tier = 'silver', which a choice field cannot hold" in message
    ok(seeded, "fields", "set", "deal", "Tier", "--kind", "choice", "--options", "Gold,Silver")
    assert fetch(seeded, "SELECT value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
                         " WHERE f.name = 'Tier' ORDER BY entity_id") == [("Gold",), ("Silver",)]
    assert "change deal field Tier" == settings_undo(seeded)
    assert fetch(seeded, "SELECT kind, options FROM custom_field WHERE name = 'Tier'") == [("text", None)]
    assert fetch(seeded, "SELECT value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
                         " WHERE f.name = 'Tier' ORDER BY entity_id") == [("Gold",), ("silver",)]
    assert "change deal field Budget" == settings_undo(seeded)
    assert fetch(seeded, "SELECT kind, required FROM custom_field WHERE name = 'Budget'") == [("money", 0)]
    assert fetch(seeded, "SELECT v.value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
                         " WHERE f.name = 'Budget' ORDER BY entity_id") == [("250050",), ("90000",)]


def test_a_lookup_stays_a_lookup(seeded: Path) -> None:
    ok(seeded, "fields", "add", "deal", "Customer size", "--kind", "lookup", "--from", "company.size")
    ok(seeded, "fields", "add", "deal", "Note", "--kind", "text")
    assert "a lookup field cannot become another kind" in refused(seeded, "fields", "set", "deal", "Customer size",
                                                                   "--kind", "text")
    assert "a lookup field cannot become another kind" in refused(seeded, "fields", "set", "deal", "Note",
                                                                   "--kind", "lookup")
    assert "'colour' is not one of text, number" in refused(seeded, "fields", "set", "deal", "Note", "--kind", "colour")
