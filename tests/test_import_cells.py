"""A row's cells parsed by field (`importer.cells`), on their own: the values a deal row gives, the
field each error names, and the day/month order the file's dates tell."""

from __future__ import annotations

import pytest

from crmtui.store.importer.cells import Cells, DealCells, RowError, unguard
from crmtui.store.importer.mapping import build_mapping

HEADER = ("Deal Name", "Amount", "Close Date", "Create Date", "Contact Email", "Tags", "Lead Source")


def cells(order: str | None = None) -> DealCells:
    return DealCells(build_mapping(HEADER, "deals"), order, "USD")


def row(*values: str) -> list[str]:
    return [*values, *[""] * (len(HEADER) - len(values)), ""]  # (padded with the empty cell unmapped fields read)


def test_a_deal_rows_cells_parse_into_its_values() -> None:
    c = cells()
    (title, cents, cost, currency, expected, closed_on, created_at, entered_at, confidence, proposal, email, website,
     tags) = c.parsed(row("  Website   relaunch ", "€1.234,50", "2027-01-15", "2026-03-01", "ANA@acme.example",
                          "seo; web"))
    assert (title, cents, cost, currency) == ("Website relaunch", 123450, None, "EUR")
    assert (expected, closed_on, created_at, entered_at) == ("2027-01-15", None, "2026-03-01 00:00:00.000000", None)
    assert (confidence, proposal, email, website, tags) == (None, None, "ANA@acme.example", None, ("seo", "web"))
    assert c.plain(row("A", "", "", "", "", "", " Referral "))[3] == " Referral "  # (source: taken as written)
    # an amount in the database's own currency is stored without one
    assert c.parsed(row("A", "$12,500.00"))[1:4] == (1250000, None, None)


@pytest.mark.parametrize(("cells_of_row", "field", "value", "reason"), [
    (row(""), "title", "", "the deal title is empty"),
    (row("T" * 201), "title", "T" * 20 + "…", "longer than 200 characters"),
    (row("A", "12x"), "amount", "12x", "'12x' is not an amount (try 12500 or 12,500.00)"),
    (row("A", "", "", "", "bad@"), "contact_email", "bad@", "'bad@' is not an email address"),
])
def test_a_bad_cell_is_a_row_error_naming_its_field(cells_of_row: list[str], field: str, value: str,
                                                       reason: str) -> None:
    with pytest.raises(RowError) as caught:
        cells().parsed(cells_of_row)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (field, value, reason)


def test_the_first_date_that_tells_the_day_month_order_sets_it_for_the_rows_after() -> None:
    c = cells()
    with pytest.raises(RowError) as caught:
        c.parsed(row("A", "", "03/04/2026"))  # either order
    assert caught.value.field == "close_date" and c.order is None
    assert c.parsed(row("A", "", "25/12/2026"))[4] == "2026-12-25"
    assert c.order == "dmy"
    assert c.parsed(row("A", "", "03/04/2026"))[4] == "2026-04-03"
    assert cells("mdy").parsed(row("A", "", "03/04/2026"))[4] == "2026-03-04"


def test_plain_cells_and_formula_guards() -> None:
    c = Cells(build_mapping(("Company name", "Phone"), "companies"), None)
    assert c.text(["  Acme  ", "", ""], "name") == "Acme"
    assert c.text(["Acme", "", ""], "notes") is None  # not in the file: the empty cell
    with pytest.raises(RowError, match="longer than 5 characters"):
        c.text(["Acme Inc", "", ""], "name", 5)
    assert [unguard(v) for v in ("'=SUM(A1)", "'-5", "'quoted", "=x")] == ["=SUM(A1)", "-5", "'quoted", "=x"]
