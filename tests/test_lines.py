"""A deal's line items, in the store and from the shell: the deal's amount and cost follow them,
one undo on the deal's page reverses each change, and bad input changes nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from crmtui.store import clock
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.store.editing import set_fields, undo_last_edit
from crmtui.store.errors import ValidationError
from crmtui.store.lines import add_line, move_line, remove_line, set_deal_discount, set_line_fields
from crmtui.store.models import Product
from tests.commands import ok, refused
from tests.conftest import fetch


@pytest.fixture
def crm(db_path: Path, fixed_clock) -> Path:
    """Deal #1 typed at 1,000 with a typed cost of 100; deal #2 in EUR; a catalogue of four."""
    db = open_database(db_path)
    with db.session() as s:
        create_deal(s, "Website", amount="1000", cost="100")
        create_deal(s, "Berlin shop", amount="500", currency="EUR")
        now = clock.utcnow()
        for values in (
            {"name": "Consulting day", "code": "CD", "unit": "day", "price_cents": 80000, "tax_bp": 2500,
             "cost_cents": 30000},
            {"name": "Hosting", "code": "HOST", "unit": "month", "price_cents": 2999, "tax_bp": 1200},
            {"name": "Old plan", "code": "OLD", "price_cents": 1000, "archived_at": now},
            {"name": "Euro workshop", "code": "EW", "price_cents": 50000, "currency": "EUR"},
        ):
            s.add(Product(**values, created_at=now, updated_at=now))
    db.close()
    return db_path


def deal_figures(db_path: Path, deal_id: int = 1) -> tuple:
    return fetch(db_path, "SELECT amount_cents, cost_cents FROM deal WHERE id = ?", deal_id)[0]


def live_lines(db_path: Path, deal_id: int = 1) -> list[tuple]:
    return fetch(db_path, "SELECT id, product_id, description, quantity, unit_price_cents, discount_bp, tax_bp,"
                 " net_cents, position FROM deal_line WHERE deal_id = ? AND deleted_at IS NULL"
                 " ORDER BY position", deal_id)


def test_the_amount_follows_the_lines(crm: Path) -> None:
    # 1.5 days at 800.00 = 1,200.00
    said = ok(crm, "lines", "add", "1", "CD", "--qty", "1.5").stdout
    assert said.strip() == "Added line #1; deal #1 'Website' amount now 1,200"
    assert live_lines(crm) == [(1, 1, "", "1.5", 80000, 0, 2500, 120000, 0)]
    # + 2 months of hosting at 29.99 = 59.98 -> 1,259.98
    ok(crm, "lines", "add", "#1", "host", "--qty", "2")
    assert deal_figures(crm)[0] == 125998
    # a line of free text at its price: + 120.50 -> 1,380.48
    ok(crm, "lines", "add", "1", "Travel", "--price", "120.50", "--description", "Train to the client")
    assert live_lines(crm)[2][1:5] == (None, "Train to the client", "1", 12050)
    assert deal_figures(crm)[0] == 138048
    # the consulting line at 10 % off: 1,200.00 -> 1,080.00; total 1,260.48
    said = ok(crm, "lines", "set", "1", "discount=10").stdout
    assert said.strip() == "Changed line #1; deal #1 'Website' amount now 1,260.48"
    # 5 % off the deal: 63.02 (63.024 rounded once) -> 1,197.46
    said = ok(crm, "deal", "discount", "1", "5%").stdout
    assert said.strip() == "Deal #1 'Website': discount 5%; amount now 1,197.46"
    # 100.00 off instead: 1,160.48
    ok(crm, "deal", "discount", "1", "100")
    assert fetch(crm, "SELECT amount_cents, discount_bp, discount_cents FROM deal WHERE id = 1") == [(116048, None, 10000)]
    ok(crm, "deal", "discount", "1", "none")
    # without the hosting: 1,260.48 - 59.98 = 1,200.50
    said = ok(crm, "lines", "remove", "2").stdout
    assert said.strip() == "Removed line #2; deal #1 'Website' amount now 1,200.50"
    ok(crm, "lines", "remove", "3")
    assert deal_figures(crm)[0] == 108000
    # the last line gone, the deal keeps the amount the lines gave it, and takes one typed by hand again
    ok(crm, "lines", "remove", "1")
    assert deal_figures(crm)[0] == 108000 and live_lines(crm) == []
    ok(crm, "set", "1", "amount=900")
    assert deal_figures(crm)[0] == 90000


def test_the_cost_follows_the_lines_that_have_one(crm: Path) -> None:
    ok(crm, "lines", "add", "1", "HOST")  # no cost in the catalogue: the typed cost stays
    assert deal_figures(crm) == (2999, 10000)
    ok(crm, "lines", "add", "1", "CD", "--qty", "2")  # 2 x 300.00
    assert deal_figures(crm) == (162999, 60000)
    ok(crm, "lines", "set", "2", "quantity=0.5")  # 0.5 x 300.00
    assert deal_figures(crm) == (42999, 15000)
    ok(crm, "lines", "set", "2", "cost=250")  # 0.5 x 250.00
    assert deal_figures(crm) == (42999, 12500)


def test_one_undo_on_the_deal_page_reverses_each_change(crm: Path) -> None:
    db = open_database(crm)
    with db.session() as s:
        first = add_line(s, 1, "CD")
        second = add_line(s, 1, "Setup", price="200")
        set_line_fields(s, first.id, {"quantity": "3", "discount": "50"})
        set_deal_discount(s, 1, "10%")
        assert move_line(s, second.id, -1) and not move_line(s, second.id, -1)
        remove_line(s, first.id)
    assert deal_figures(crm) == (18000, 90000) and [r[0] for r in live_lines(crm)] == [2]
    states = []
    with db.session() as s:
        for _ in range(6):
            states.append((undo_last_edit(s, "deal", 1), deal_figures_in(s), [r[0] for r in s.execute(
                "SELECT id FROM deal_line WHERE deal_id = 1 AND deleted_at IS NULL ORDER BY position, id")]))
        assert undo_last_edit(s, "deal", 1) is None
    # 3 days at 50 % off = 1,200.00, + 200.00 = 1,400.00; 10 % off the deal -> 1,260.00
    assert states == [
        ("remove line", (126000, 90000), [2, 1]),
        ("move line", (126000, 90000), [1, 2]),
        ("deal discount", (140000, 90000), [1, 2]),
        ("edit line", (100000, 30000), [1, 2]),
        ("add line", (80000, 30000), [1]),
        ("add line", (100000, 10000), []),  # the deal as it was typed, the lines gone for good
    ]
    assert fetch(crm, "SELECT count(*) FROM deal_line") == [(0,)]
    db.close()


def deal_figures_in(session) -> tuple:  # noqa: ANN001
    return tuple(session.execute("SELECT amount_cents, cost_cents FROM deal WHERE id = 1").fetchone())


def test_a_deal_with_lines_refuses_an_amount_typed_by_hand(crm: Path) -> None:
    ok(crm, "lines", "add", "1", "HOST")
    message = refused(crm, "set", "1", "amount=5000")
    assert "amount follows the line items: change the lines, or remove them to type an amount" in message
    ok(crm, "set", "1", "cost=50")  # no line has a cost: the cost is still typed
    ok(crm, "lines", "add", "1", "CD")
    assert "cost follows the line items' costs" in refused(crm, "set", "1", "cost=60")
    db = open_database(crm)
    with db.session() as s, pytest.raises(ValidationError, match="amount follows the line items"):
        set_fields(s, "deal", 1, {"amount": "1", "title": "Renamed"})
    db.close()
    ok(crm, "set", "1", "title=Renamed", "amount=829.99")  # the amount as it is: unchanged, so accepted
    assert fetch(crm, "SELECT title, amount_cents FROM deal WHERE id = 1") == [("Renamed", 82999)]


def test_deal_show_json_has_the_lines_totals_and_discount(crm: Path) -> None:
    ok(crm, "lines", "add", "1", "CD", "--qty", "1.5", "--discount", "10")
    ok(crm, "lines", "add", "1", "HOST", "--qty", "2")
    ok(crm, "deal", "discount", "1", "50")
    row = json.loads(ok(crm, "deal", "show", "1", "--json").stdout)
    assert row["discount"] == "50.00" and row["discount_cents"] == 5000 and row["discount_bp"] is None
    assert row["lines"][0] == {
        "id": 1, "position": 0, "product_id": 1, "product": "Consulting day", "code": "CD", "description": "",
        "quantity": "1.5", "unit": "day", "unit_price": 800.0, "unit_price_cents": 80000, "discount": "10",
        "tax": "25", "net": 1080.0, "net_cents": 108000, "cost": 450.0}
    # 1,080.00 at 25 % and 59.98 at 12 %: 1,139.98; 50.00 off shared 47.37 / 2.63
    # (5000 x 108000 / 113998 = 4736.9 -> 4736 + the odd cent; 5000 x 5998 / 113998 = 263.07 -> 263)
    totals = row["totals"]
    assert (totals["subtotal_cents"], totals["line_discount_cents"], totals["deal_discount_cents"],
            totals["net_cents"]) == (125998, 12000, 5000, 108998)
    assert [(t["rate"], t["base_cents"], t["tax_cents"]) for t in totals["taxes"]] == [
        ("12", 5735, 688), ("25", 103263, 25816)]
    assert totals["total_cents"] == 108998 + 688 + 25816 and row["amount_cents"] == 108998
    shown = json.loads(ok(crm, "lines", "1", "--json").stdout)
    assert shown["lines"] == row["lines"] and shown["totals"] == totals
    # without --json: how many lines, their total with tax, and where they are listed
    assert "Line items      2, 1,355.02 with tax (crmtui lines 1)" in ok(crm, "deal", "show", "1").stdout
    assert "Line items" not in ok(crm, "deal", "show", "2").stdout


def test_lines_shows_a_table_and_the_totals_under_it(crm: Path) -> None:
    assert "has no line items" in ok(crm, "lines", "1").stdout
    ok(crm, "lines", "add", "1", "CD", "--qty", "2")
    ok(crm, "lines", "add", "1", "Travel", "--price", "99.99", "--tax", "0", "--qty", "0.333")
    text = ok(crm, "lines", "1").stdout
    for words in ("Consulting day", "Travel", "0.333", "33.30", "Subtotal", "1,633.30", "Tax 25% on 1,600",
                  "400", "Total", "2,033.30"):
        assert words in text
    rows = list(csv.reader(io.StringIO(ok(crm, "lines", "1", "--csv").stdout)))
    assert rows[0] == ["id", "position", "product", "code", "description", "quantity", "unit", "unit_price",
                       "discount", "tax", "net"]
    assert rows[2] == ["2", "1", "", "", "Travel", "0.333", "", "99.99", "0", "0", "33.30"]


def test_the_deals_export_has_the_lines_and_totals(crm: Path) -> None:
    ok(crm, "lines", "add", "1", "CD", "--qty", "2")
    ok(crm, "deal", "discount", "1", "10%")
    rows = list(csv.DictReader(io.StringIO(ok(crm, "export").stdout)))
    # 2 x 800.00 = 1,600.00; 10 % off: 1,440.00; tax 25 %: 360.00
    first = rows[0]
    assert (first["amount"], first["subtotal"], first["discount"], first["net"], first["tax"], first["total"]) == (
        "1440.00", "1600.00", "160.00", "1440.00", "360.00", "1800.00")
    assert [(line["product"], line["quantity"], line["net"]) for line in json.loads(first["lines"])] == [
        ("Consulting day", "2", "1600.00")]
    assert (rows[1]["lines"], rows[1]["total"], rows[1]["amount"]) == ("", "", "500.00")
    data = json.loads(ok(crm, "export", "--format", "json").stdout)
    assert data[0]["total"] == "1800.00" and data[0]["lines"][0]["unit_price"] == "800.00"
    assert data[1]["lines"] == [] and data[1]["net"] is None


@pytest.mark.parametrize(("args", "message"), [
    (("lines", "add", "1", "Nothing like it"), "no product 'Nothing like it' (give its #id, code or name: crmtui"
                                               " products list); for a line of free text give --price"),
    (("lines", "add", "1", "#99", "--price", "5"), "no product #99"),
    (("lines", "add", "1", "OLD"), "product 'Old plan' is archived"),
    (("lines", "add", "1", "CD", "--qty", "0"), "quantity: must be more than 0, not 0"),
    (("lines", "add", "1", "CD", "--qty", "-2"), "quantity: must be more than 0, not -2"),
    (("lines", "add", "1", "CD", "--discount", "101"), "discount: 101 is over 100 %"),
    (("lines", "add", "1", "Travel", "--price", "12,5x"), "price: '12,5x' is not an amount"),
    (("lines", "add", "1", "CD", "--price", "-5"), "price: must not be negative"),
    (("lines", "add", "1", "EW"), "product 'Euro workshop' is priced in EUR, the deal is in USD: give the price"),
    (("lines", "add", "2", "CD"), "product 'Consulting day' is priced in USD, the deal is in EUR"),
    (("lines", "add", "9", "CD"), "no deal with id 9"),
    (("lines", "set", "1", "quantity=0"), "quantity: must be more than 0"),
    (("lines", "set", "1", "discount=150"), "discount: 150 is over 100 %"),
    (("lines", "set", "1", "price=12,5x"), "price: '12,5x' is not an amount"),
    (("lines", "set", "1", "price="), "price: required"),
    (("lines", "set", "1", "colour=red"), "lines have no field 'colour'"),
    (("lines", "set", "1", "quantity"), "'quantity' is not FIELD=VALUE"),
    (("lines", "set", "7", "quantity=2"), "no line #7"),
    (("lines", "remove", "7"), "no line #7"),
    (("deal", "discount", "1", "12,5x"), "discount: '12,5x' is not an amount"),
    (("deal", "discount", "1", "101%"), "discount: 101% is over 100 %"),
    (("deal", "discount", "1", "--", "-5"), "discount: must not be negative"),
])
def test_bad_input_is_one_line_and_changes_nothing(crm: Path, args: tuple[str, ...], message: str) -> None:
    ok(crm, "lines", "add", "1", "HOST")
    error = refused(crm, *args)
    assert message in error and len(error.strip().splitlines()) == 1


def test_a_product_in_another_currency_takes_a_price_and_no_cost(crm: Path) -> None:
    ok(crm, "lines", "add", "2", "CD", "--price", "700")
    assert live_lines(crm, 2)[0][4] == 70000 and deal_figures(crm, 2) == (70000, None)


def test_an_import_does_not_change_the_amount_of_a_deal_with_lines(crm: Path, tmp_path: Path) -> None:
    ok(crm, "lines", "add", "1", "CD", "--qty", "2")  # 1,600.00, cost 600.00 from the line
    exported = tmp_path / "deals.csv"
    ok(crm, "export", "-o", str(exported))
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    for row in rows:
        row["amount"], row["cost"] = "99999", "12"
        row["source"] = "Referral"
    with exported.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ok(crm, "import", str(exported))
    # the lines decide deal #1's amount and cost; the deal without lines takes the file's
    assert deal_figures(crm, 1) == (160000, 60000) and deal_figures(crm, 2) == (9999900, 1200)
    assert fetch(crm, "SELECT source FROM deal ORDER BY id") == [("Referral",), ("Referral",)]
