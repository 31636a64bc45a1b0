"""`crmtui import FILE --type products`: columns known by their usual names, products matched by
code then name (updated, not doubled), a dry run, `crmtui imports` listing and undoing it, and a
broken file refused with every bad row named and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands import ok, refused, run
from tests.conftest import fetch, snapshot_of

CATALOGUE = """Product;SKU;Unit;Unit Price;VAT %;Cost per unit;Description;Colour
Consulting day;CD;day;1.200,00;25;700;A day on site;red
Workshop;WS;;2.500,50;25;;Half a day;blue
Retainer;;month;4000;12,5;;;
"""


def products(db_path: Path) -> list[tuple]:
    return fetch(db_path, "SELECT name, code, unit, price_cents, tax_bp, cost_cents, description,"
                          " archived_at IS NULL FROM product WHERE deleted_at IS NULL ORDER BY id")


def write(tmp_path: Path, text: str, name: str = "catalogue.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


IMPORTED = [("Consulting day", "CD", "day", 120000, 2500, 70000, "A day on site", 1),
            ("Workshop", "WS", "piece", 250050, 2500, None, "Half a day", 1),
            ("Retainer", None, "month", 400000, 1250, None, None, 1)]


def test_a_catalogue_is_read_by_its_usual_column_names(db_path: Path, tmp_path: Path) -> None:
    result = ok(db_path, "import", str(write(tmp_path, CATALOGUE, encoding="cp1252")), "--type", "products")
    assert "3 created, 0 updated, 0 unchanged" in result.stdout and "Import #1 done" in result.stdout
    assert "'Unit Price' → price" in result.stderr and "semicolon-delimited" in result.stderr
    assert "Ignored: 'Colour'" in result.stderr
    assert products(db_path) == IMPORTED


def test_importing_again_updates_by_code_then_name_and_a_dry_run_writes_nothing(db_path: Path,
                                                                                 tmp_path: Path) -> None:
    ok(db_path, "import", str(write(tmp_path, CATALOGUE)), "--type", "products")
    assert "3 unchanged" in ok(db_path, "import", str(write(tmp_path, CATALOGUE)), "--type", "products").stdout
    changed = ("code,name,price,archived\n"
               "cd,Consulting day (on site),1300,\n"  # by code: renamed
               ",retainer,,yes\n"  # by name, any case: archived, its price kept
               "NEW,Licence,99,no\n")
    before = snapshot_of(db_path)
    dry = ok(db_path, "import", str(write(tmp_path, changed, "changed.csv")), "--type", "products", "--dry-run")
    assert "1 created, 2 updated, 0 unchanged" in dry.stdout and "Dry run: nothing was written." in dry.stdout
    assert snapshot_of(db_path) == before
    result = json.loads(ok(db_path, "import", str(tmp_path / "changed.csv"), "--type", "products", "--json").stdout)
    assert result["counts"] == {"product": {"created": 1, "updated": 2, "unchanged": 0}}
    assert result["import_id"] == 2 and result["columns"]["archived"] == "archived"
    assert products(db_path) == [("Consulting day (on site)", "CD", "day", 130000, 2500, 70000, "A day on site", 1),
                                 IMPORTED[1], ("Retainer", None, "month", 400000, 1250, None, None, 0),
                                 ("Licence", "NEW", "piece", 9900, 0, None, None, 1)]


def test_imports_lists_and_undoes_a_catalogue_import(db_path: Path, tmp_path: Path) -> None:
    ok(db_path, "import", str(write(tmp_path, CATALOGUE)), "--type", "products")
    ok(db_path, "products", "add", "Kept", "--price", "5")
    ok(db_path, "import", str(write(tmp_path, "name,price\nWorkshop,99\nTravel day,800\n", "second.csv")),
       "--type", "products")
    listed = json.loads(ok(db_path, "imports", "list", "--json").stdout)
    assert [(r["id"], r["type"], r["counts"]) for r in listed] == [
        (2, "products", {"product": {"created": 1, "updated": 1, "unchanged": 0}}),
        (1, "products", {"product": {"created": 3, "updated": 0, "unchanged": 0}})]
    undone = ok(db_path, "imports", "undo", "2", "--yes").stdout
    assert "removed 1 product; restored 1 changed record" in undone
    assert products(db_path) == IMPORTED + [("Kept", None, "piece", 500, 0, None, None, 1)]
    assert "removed 3 products" in ok(db_path, "imports", "undo", "1", "--yes").stdout
    assert products(db_path) == [("Kept", None, "piece", 500, 0, None, None, 1)]
    assert "already undone" in refused(db_path, "imports", "undo", "1", "--yes")


def test_undo_keeps_a_product_edited_since_and_its_later_edit(db_path: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMTUI_NOW", "2026-11-23T09:00:00")
    ok(db_path, "import", str(write(tmp_path, CATALOGUE)), "--type", "products")
    monkeypatch.setenv("CRMTUI_NOW", "2026-11-23T10:00:00")
    ok(db_path, "products", "set", "WS", "price=3000")
    undone = ok(db_path, "imports", "undo", "1", "--yes").stdout
    assert "removed 2 products" in undone and "product #2 'Workshop': edited since" in undone
    assert [p[:4] for p in products(db_path)] == [("Workshop", "WS", "piece", 300000)]


def test_a_broken_file_names_every_bad_row_and_column_and_writes_nothing(db_path: Path, tmp_path: Path) -> None:
    ok(db_path, "products", "add", "Licence", "--price", "300", "--code", "LIC")  # (refused checks it stays)
    bad = write(tmp_path, "name,code,price,tax\n"
                          "Fine,F1,10,25\n"
                          "Odd price,F2,\"12,5x\",25\n"
                          "Too taxed,F3,10,120\n"
                          ",F4,10,0\n"
                          "New without price,F5,,0\n", "bad.csv")
    stderr = refused(db_path, "import", str(bad), "--type", "products")
    assert "line 3, column 'price': price: '12,5x' is not an amount" in stderr
    assert "line 4, column 'tax': tax: 120 is over 100 %" in stderr
    assert "line 5, column 'name': name: required" in stderr
    assert "line 6, column 'price': price: required for a new product" in stderr
    assert f"{bad}: 4 of 5 rows have errors; nothing was imported" in stderr


def test_files_that_cannot_be_a_catalogue_are_refused(db_path: Path, tmp_path: Path) -> None:
    ok(db_path, "products", "add", "Licence", "--price", "300")
    assert "no column gives the product name" in refused(
        db_path, "import", str(write(tmp_path, "sku,price\nA,1\n")), "--type", "products")
    assert "the quote that opens this value is never closed" in refused(
        db_path, "import", str(write(tmp_path, 'name,price\nA,1\n"B,2\nC,3\n')), "--type", "products")
    assert "the file is empty" in refused(db_path, "import", str(write(tmp_path, "")), "--type", "products")
    assert "--type: 'widgets' is not one of deals, companies, contacts, products" in refused(
        db_path, "import", str(write(tmp_path, "name,price\nA,1\n")), "--type", "widgets")
    assert "products have no field 'colour'" in refused(
        db_path, "import", str(write(tmp_path, "name,price,x\nA,1,2\n")), "--type", "products", "--map", "x=colour")


def test_map_names_a_column_the_usual_names_miss(db_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "Artikel,Preis,Steuer,ignored name\nBeratung,100,19,x\n")
    result = run(db_path, "import", str(path), "--type", "products", "--map", "Artikel=name", "--map", "Preis=price",
                 "--map", "Steuer=tax", "--map", "ignored name=")
    assert result.exit_code == 0, result.output
    assert products(db_path) == [("Beratung", None, "piece", 10000, 1900, None, None, 1)]


def test_a_hubspot_products_export_maps_sku_unit_price_and_cost_of_goods_sold(db_path: Path, tmp_path: Path) -> None:
    export = ("Name,SKU,Unit price,Description,Product Type,Recurring billing frequency,Cost of goods sold\n"
              "Strategy Retainer,RET-M,4000.00,Monthly strategy retainer,Service,Monthly,1500.00\n"
              'Design sprint,DS-5,"12,500.00",Five-day sprint,Service,,\n')
    result = ok(db_path, "import", str(write(tmp_path, export, "hubspot-products.csv")), "--type", "products")
    assert "'Cost of goods sold' → cost" in result.stderr and "'SKU' → code" in result.stderr
    assert fetch(db_path, "SELECT code, price_cents, cost_cents FROM product ORDER BY id") == [
        ("RET-M", 400000, 150000), ("DS-5", 1250000, None)]
