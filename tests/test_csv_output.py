"""`--csv` on the commands that print a table: the table's columns, a header row first, values as a
script reads them (ids as numbers, ISO dates, plain decimal money, tags joined with "; ")."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from crmtui.cli import common
from crmtui.store.db import open_database
from crmtui.store.editing import trash_record
from tests.commands import ok, refused, run


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    db = tmp_path / "crm.db"
    ok(db, "add", "deal", 'Logo, "refresh"', "--company", "Acme", "--contact", "ann@acme.com", "--amount",
       "1,234,567.5", "--tag", "web", "--tag", "print", "--close-date", "2026-12-31")
    ok(db, "add", "contact", "Bo Berg", "--email", "bo@acme.com", "--title", "CTO", "--company", "Acme")
    ok(db, "add", "deal", "Spare deal", "--company", "Globex", "--no-follow-up")
    ok(db, "task", "add", "1", 'Ring "Bo", then\nmail the deck', "--due", "2026-12-09")
    ok(db, "fields", "add", "deal", "Budget code", "--kind", "choice", "--options", "A1,B2")
    ok(db, "choices", "add", "source", "Trade fair, Berlin")
    sample = tmp_path / "companies.csv"
    sample.write_text("Name,Domain\nInitech,initech.com\n", encoding="utf-8")
    ok(db, "import", str(sample))
    ok(db, "backup")
    database = open_database(db)
    with database.session() as s:
        trash_record(s, "deal", 2)
    database.close()
    return db


def _csv(db: Path, *args: str) -> list[dict[str, str]]:
    result = ok(db, *args, "--csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows, result.stdout
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _header(db: Path, *args: str) -> list[str]:
    return next(csv.reader(io.StringIO(ok(db, *args, "--csv").stdout)))


LISTINGS = [
    (["deals", "list"], ["id", "title", "customer", "stage", "amount", "close", "tags"]),
    (["companies", "list"], ["id", "name", "domain", "open_deals", "won", "tags"]),
    (["contacts", "list"], ["id", "name", "email", "company", "title", "tags"]),
    (["tasks"], ["id", "due", "task", "about"]),
    (["pipelines"], ["position", "pipeline", "default", "stages", "open_deals", "deals"]),
    (["pipelines", "list"], ["position", "pipeline", "default", "stages", "open_deals", "deals"]),
    (["stages"], ["pipeline", "position", "stage", "kind", "probability", "expected_days", "color"]),
    (["fields", "list"], ["record", "position", "field", "kind", "options_or_source", "required"]),
    (["choices", "list"], ["list", "position", "value"]),
    (["settings", "show"], ["setting", "value", "default", "meaning"]),
    (["rules", "show"], ["rule", "value", "default", "meaning"]),
    (["imports", "list"], ["id", "when", "file", "type", "rows", "created", "updated", "undone"]),
    (["trash", "list"], ["id", "kind", "what", "deleted"]),
    (["backups", "list"], ["taken", "why", "size", "deals", "file"]),
]


@pytest.mark.parametrize(("args", "header"), LISTINGS, ids=[" ".join(a) for a, _h in LISTINGS])
def test_each_listing_prints_its_table_as_csv(crm: Path, args: list[str], header: list[str]) -> None:
    assert _header(crm, *args) == header
    assert _csv(crm, *args), "a header and at least one row"


def test_deals_come_out_as_a_script_reads_them(crm: Path) -> None:
    deal = next(r for r in _csv(crm, "deals", "list") if r["id"] == "1")
    assert deal == {"id": "1", "title": 'Logo, "refresh"', "customer": "Acme", "stage": "Unqualified",
                    "amount": "1234567.50", "close": "2026-12-31", "tags": "print; web"}
    acme = next(r for r in _csv(crm, "companies", "list") if r["name"] == "Acme")
    assert (acme["id"], acme["open_deals"], acme["won"]) == ("1", "1", "0.00")
    assert {"name": "Bo Berg", "email": "bo@acme.com", "company": "Acme", "title": "CTO"}.items() <= \
        next(r for r in _csv(crm, "contacts", "list") if r["name"] == "Bo Berg").items()


def test_the_other_listings_hold_the_values_of_their_json(crm: Path) -> None:
    (sales,) = _csv(crm, "pipelines")
    assert (sales["position"], sales["pipeline"], sales["default"], sales["open_deals"]) == ("1", "Sales", "true", "1")
    assert sales["stages"].isdigit()
    first = _csv(crm, "stages")[0]
    assert (first["probability"], first["expected_days"]) == ("10", "7")  # numbers, not "10%"
    assert _csv(crm, "fields", "list") == [{"record": "deal", "position": "1", "field": "Budget code",
                                           "kind": "choice", "options_or_source": "A1; B2", "required": "false"}]
    assert {"list": "source", "value": "Trade fair, Berlin"}.items() <= _csv(crm, "choices", "list", "source")[-1].items()
    (past,) = _csv(crm, "imports", "list")
    assert (past["type"], past["rows"], past["created"], past["undone"]) == ("companies", "1", "1", "")
    (gone,) = _csv(crm, "trash", "list")
    assert (gone["id"], gone["what"]) == ("D2", "Spare deal")
    (backup,) = _csv(crm, "backups", "list")
    assert backup["size"].isdigit() and Path(backup["file"]).is_file()
    assert json.loads(ok(crm, "backups", "list", "--json").stdout)[0]["path"] == backup["file"]


def test_a_value_with_a_comma_a_quote_and_a_line_break_round_trips(crm: Path) -> None:
    bodies = [r["task"] for r in _csv(crm, "tasks")]
    assert 'Ring "Bo", then\nmail the deck' in bodies
    assert {r["about"] for r in _csv(crm, "tasks")} == {'D1 Logo, "refresh"'}


def test_an_empty_listing_is_its_header_alone(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    assert ok(db, "deals", "list", "--csv").stdout == "id,title,customer,stage,amount,close,tags\n"
    assert ok(db, "trash", "list", "--csv").stdout == "id,kind,what,deleted\n"


@pytest.mark.parametrize("args", [a for a, _h in LISTINGS], ids=[" ".join(a) for a, _h in LISTINGS])
def test_json_and_csv_together_are_refused(crm: Path, args: list[str]) -> None:
    assert "choose one of --json and --csv" in refused(crm, *args, "--json", "--csv")


def test_csv_never_goes_through_the_pager(crm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.Output, "is_terminal", property(lambda self: True))
    monkeypatch.setattr(common, "_page", lambda text: pytest.fail("paged"))
    result = run(crm, "deals", "list", "--csv")
    assert result.exit_code == 0
    assert result.stdout.startswith("id,title,")


def test_playbook_and_hooks_lists_print_csv(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CRMTUI_CONFIG_DIR", str(tmp_path / "config"))
    db = tmp_path / "crm.db"
    ok(db, "playbook", "add", "Proposal sent", "Chase the proposal, politely", "--due", "+5d")
    rows = list(csv.DictReader(io.StringIO(ok(db, "playbook", "list", "--csv").stdout)))
    assert rows == [{"id": "1", "stage": "Proposal sent", "task": "Chase the proposal, politely", "due": "+5d"}]
    hooks = list(csv.DictReader(io.StringIO(ok(db, "hooks", "list", "--csv").stdout)))
    assert [h["event"] for h in hooks][:2] == ["deal-created", "stage-changed"]
    assert {h["runnable"] for h in hooks} == {"false"}


def test_the_reports_print_every_figure_as_a_csv_row(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "deal", "Logo, refresh", "--company", "Acme", "--amount", "1200", "--tag", "branding")
    ok(db, "add", "deal", "Site", "--company", "Beta", "--amount", "800")
    ok(db, "won", "1")
    ok(db, "log", "2", "--call", "Talked")
    figures = json.loads(ok(db, "report", "--json").stdout)
    rows = list(csv.DictReader(io.StringIO(ok(db, "report", "--csv").stdout)))
    cell = {(r["section"], r["row"], r["column"]): r["value"] for r in rows}
    assert cell[("cards", "", "open_pipeline")] == str(figures["cards"]["open_pipeline"])
    assert cell[("by_tag", "branding", "won")] == str(next(t["won"] for t in figures["by_tag"] if t["tag"] == "branding"))
    assert cell[("funnel.stages", "Won", "reached")] == "1"
    activity = list(csv.DictReader(io.StringIO(ok(db, "report", "--activities", "--csv").stdout)))
    assert ("totals", "", "calls", "1") in {(r["section"], r["row"], r["column"], r["value"]) for r in activity}
    assert "choose one of" in refused(db, "report", "--csv", "--markdown")
