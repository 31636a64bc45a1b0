"""The catalogue: `crmtui products list|add|set|archive|restore`, the store functions behind them
(each write one undo entry), every bad input refused in one line with the database unchanged,
and `crmtui export --type products`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmtui.store import undo
from crmtui.store.db import open_database
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.products import (add_product, archive_product, find_product, list_products, restore_product,
                                   set_product_fields)
from tests.commands import ok, refused
from tests.conftest import fetch


def products(db_path: Path) -> list[tuple]:
    return fetch(db_path, "SELECT name, code, unit, price_cents, currency, tax_bp, cost_cents, description,"
                          " archived_at IS NULL FROM product WHERE deleted_at IS NULL ORDER BY id")


@pytest.fixture
def catalogue(db_path: Path) -> Path:
    """Consulting day (#1, CD, 1,200 a day, 25 %, cost 700) and Workshop (#2, 2,500.50 a piece)."""
    ok(db_path, "products", "add", "Consulting day", "--price", "1200", "--unit", "day", "--tax", "25",
       "--cost", "700", "--code", "CD")
    ok(db_path, "products", "add", "Workshop", "--price", "2 500,50")
    return db_path


def test_add_list_and_show_money_in_the_database_currency(catalogue: Path) -> None:
    assert products(catalogue) == [("Consulting day", "CD", "day", 120000, None, 2500, 70000, None, 1),
                                   ("Workshop", None, "piece", 250050, None, 0, None, None, 1)]
    listed = ok(catalogue, "products", "list").stdout
    assert "Consulting day" in listed and "USD 1,200" in listed and "USD 2,500.50" in listed and "25 %" in listed
    assert json.loads(ok(catalogue, "products", "list", "--json").stdout)[0] == {
        "id": 1, "name": "Consulting day", "code": "CD", "unit": "day", "price": "1200.00", "currency": "USD",
        "tax": "25", "cost": "700.00", "description": None, "active": True}
    assert ok(catalogue, "products", "list", "--csv").stdout.splitlines() == [
        "id,name,code,unit,price,currency,tax,cost,description,active",
        "1,Consulting day,CD,day,1200.00,USD,25,700.00,,true",
        "2,Workshop,,piece,2500.50,USD,0,,,true"]


def test_set_changes_fields_by_name_and_says_which(catalogue: Path) -> None:
    result = ok(catalogue, "products", "set", "cd", "price=1500", "VAT=12.5", "description=On site", "cost=")
    assert "Updated product #1 'Consulting day': price, tax, description, cost" in result.stdout
    assert products(catalogue)[0] == ("Consulting day", "CD", "day", 150000, None, 1250, None, "On site", 1)
    assert "Nothing to change" in ok(catalogue, "products", "set", "#1", "price=1500").stdout
    ok(catalogue, "products", "set", "workshop", "code=WS", "unit=", "currency=eur")
    assert products(catalogue)[1][:5] == ("Workshop", "WS", "piece", 250050, "EUR")
    assert "EUR 2,500.50" in ok(catalogue, "products", "list").stdout


def test_archive_hides_a_product_until_it_is_restored(catalogue: Path) -> None:
    ok(catalogue, "products", "archive", "Workshop")
    assert "Workshop" not in ok(catalogue, "products", "list").stdout
    listed = ok(catalogue, "products", "list", "--all").stdout
    assert "Workshop" in listed and "archived" in listed
    assert "already archived" in refused(catalogue, "products", "archive", "2")
    ok(catalogue, "products", "restore", "2")
    assert "Workshop" in ok(catalogue, "products", "list").stdout
    ok(catalogue, "products", "set", "2", "active=no")
    assert products(catalogue)[1][-1] == 0
    assert "is not archived" in refused(catalogue, "products", "restore", "CD")


@pytest.mark.parametrize(("args", "message"), [
    (("add", "X", "--price", "12,5x"), "price: '12,5x' is not an amount"),
    (("add", "X", "--price", "-5"), "price: must not be negative"),
    (("add", "X", "--price", "10", "--tax", "120"), "tax: 120 is over 100 %"),
    (("add", "X", "--price", "10", "--tax", "lots"), "tax: 'lots' is not a percentage"),
    (("add", "X", "--price", "10", "--code", "cd"), "code: 'cd' is already the code of product #1 'Consulting day'"),
    (("add", "X", "--price", "10", "--currency", "euro"), "currency: 'euro' is not a three-letter ISO code"),
    (("add", " ", "--price", "10"), "name: required"),
    (("set", "nothing", "price=1"), "no product 'nothing'"),
    (("set", "CD", "colour=red"), "products have no field 'colour'"),
    (("set", "CD", "price"), "'price' is not FIELD=VALUE"),
    (("set", "CD", "price="), "price: required"),
    (("set", "Workshop", "code=CD"), "code: 'CD' is already the code of product #1"),
    (("set", "CD", "active=maybe"), "active: 'maybe' is not yes or no"),
    (("set", "CD", "tax=101%"), "tax: 101% is over 100 %"),
    (("archive", "#99"), "no product '#99'"),
])
def test_bad_input_is_refused_in_one_line_and_writes_nothing(catalogue: Path, args: tuple[str, ...],
                                                             message: str) -> None:
    stderr = refused(catalogue, "products", *args)
    assert message in stderr and len(stderr.strip().splitlines()) == 1


def test_each_write_is_one_undo_entry_that_puts_it_back(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        add_product(s, "Licence", price="300", unit="month", code="LIC")
    with db.session() as s:
        product, changed = set_product_fields(s, "lic", {"price": "350", "tax": "25"})
        assert changed == ["price", "tax"]
    with db.session() as s:
        archive_product(s, "LIC")
    with db.session() as s:
        assert list_products(s) == [] and [p.name for p in list_products(s, include_archived=True)] == ["Licence"]
        assert undo.undo_last(s, scope="products").label == "archive product Licence"
    assert products(db_path) == [("Licence", "LIC", "month", 35000, None, 2500, None, None, 1)]
    with db.session() as s:
        undo.undo_last(s, scope="products")
    assert products(db_path) == [("Licence", "LIC", "month", 30000, None, 0, None, None, 1)]
    with db.session() as s:
        undo.undo_last(s, scope="products")
        assert find_product(s, "LIC") is None
    assert products(db_path) == []


def test_a_code_is_free_again_once_its_product_is_trashed_and_the_unique_index_speaks_in_words(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        add_product(s, "Licence", price="300", code="LIC")
        with pytest.raises(ValidationError, match="already the code"):
            add_product(s, "Other", price="1", code="lic")
        s.execute("UPDATE product SET deleted_at = '2026-01-01 00:00:00.000000'")
        add_product(s, "Other", price="1", code="lic")
        with pytest.raises(NotFound):
            restore_product(s, "#1")
    assert products(db_path) == [("Other", "lic", "piece", 100, None, 0, None, None, 1)]


def test_export_products_as_csv_and_json(catalogue: Path) -> None:
    ok(catalogue, "products", "archive", "Workshop")
    assert ok(catalogue, "export", "--type", "products").stdout.splitlines() == [
        "id,name,code,unit,price,currency,tax,cost,description,active",
        "1,Consulting day,CD,day,1200.00,USD,25,700.00,,yes",
        "2,Workshop,,piece,2500.50,USD,0,,,no"]
    exported = json.loads(ok(catalogue, "export", "--type", "products", "--format", "json").stdout)
    assert [(p["name"], p["tax"], p["active"]) for p in exported] == [("Consulting day", "25", True),
                                                                       ("Workshop", "0", False)]


def test_the_demo_brings_a_small_catalogue_once(db_path: Path) -> None:
    from crmtui.store.demo import generate_demo

    db = open_database(db_path)
    generate_demo(db, deals=20, seed=1)
    generate_demo(db, deals=5, seed=2, force=True)
    assert fetch(db_path, "SELECT count(*), sum(archived_at IS NULL) FROM product") == [(8, 7)]
    assert "Consulting day" in ok(db_path, "products", "list").stdout
