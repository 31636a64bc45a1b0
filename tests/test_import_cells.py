"""A row's cells parsed by field (`importer.cells`), on their own: the values a deal row gives, the
field each error names, and the day/month order the file's dates tell."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmtui.store.errors import ValidationError
from crmtui.store.importer import values as V
from crmtui.store.importer.cells import Cells, DealCells, RowError, unguard
from crmtui.store.importer.mapping import build_mapping
from crmtui.store.money import parse_amount

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


@given(st.text(st.sampled_from(["a", "É", "山", " ", "\t", "\n", "\xa0", "\u2009", "\u3000", "\x1f", "\x85",
                                 "\u200b", "-"]), min_size=1, max_size=12))
@example(" Website   relaunch ")
def test_a_title_is_read_as_one_line_with_single_spaces(title: str) -> None:
    expected = " ".join(title.split())
    if expected:
        assert cells().parsed(row(title))[0] == expected


@pytest.mark.parametrize(("cells_of_row", "field", "value", "reason"), [
    (row(""), "title", "", "the deal title is empty"),
    (row("T" * 201), "title", "T" * 20 + "…", "longer than 200 characters"),
    (row("A", "12x"), "amount", "12x", "'12x' is not an amount (try 12500 or 12,500.00)"),
    (row("A", "", "", "", "bad@"), "contact_email", "bad@", "'bad@' is not an email address"),
])
def test_a_bad_cell_is_a_row_error_naming_its_field(cells_of_row: list[str], field: str, value: str,
                                                       reason: str) -> None:
    c = cells()
    with pytest.raises(RowError) as caught:
        # (the email is read when the row's customer is looked up: `email`)
        c.email(c.parsed(cells_of_row)[10])
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


def general_amount(value: str) -> tuple[int | None, str | None] | str:
    """What the general parser makes of an amount (its complaint, as text)."""
    try:
        return parse_amount(value), V.currency_in(value)
    except ValidationError as exc:
        return exc.message


# Amounts of the shapes the fast path reads, and near misses: digits and marks in any order, a
# currency before, spaces, other scripts' digits.
_AMOUNT_PARTS = st.sampled_from(["0", "1", "5", "9", "00", "12", "123", "500", "999", "1234", "000", ",", ".",
                                 ",000", ".500", ",5", ".05", "$", "€", " ", "-", "٣", "1\u00a0000"])


@given(st.lists(_AMOUNT_PARTS, max_size=8).map("".join) | st.text("0123456789,.$ ", max_size=16))
@example("0,500")  # half a unit, not five hundred
@example("1,234,56")  # a grouping mark where the cents go: not an amount
@example("1.500")  # fifteen hundred
@example("9999999999999")  # beyond the fast path's twelve digits
@example("12.5")  # one digit after the decimal mark: ten cents each
@example("1,234.5")  # grouped, then one digit of cents
@example("$5")  # a dollar sign and no mark
@example("١٢٣")  # Arabic-Indic digits: not an amount
def test_common_amounts_read_as_the_general_parser_reads_them(value: str) -> None:
    expected = general_amount(value)
    fast = V.common_amount(value)
    if fast is not None:
        assert fast == expected
    if isinstance(expected, tuple) and (expected[0] or 0) < 0:
        expected = f"{value.strip()!r}: an amount must not be negative"
    V._read_amounts.clear()
    try:
        got: tuple[int | None, str | None] | str = V.amount(value)
    except ValidationError as exc:
        got = exc.message
    assert got == expected


@pytest.mark.parametrize(("value", "cents", "currency"), [
    ("12500", 1250000, None), ("12,500.00", 1250000, None), ("$12,500.50", 1250050, "USD"),
    ("9.000,00", 900000, None), ("1234,5", 123450, None), ("1.500", 150000, None), ("1,234,567.89", 123456789, None),
    ("$5", 500, "USD"), ("12.5", 1250, None), ("7,50", 750, None), ("1.234,5", 123450, None),
])
def test_common_amount_shapes_take_the_fast_path(value: str, cents: int, currency: str | None) -> None:
    assert V.common_amount(value) == (cents, currency)
