import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmtui.store.dates import AmbiguousDate, numeric_date_order_hint, parse_date
from crmtui.store.errors import ValidationError
from crmtui.store.money import format_money, format_money_short, parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12500", 1250000),
        ("12500.5", 1250050),
        ("$12,500.00", 1250000),
        ("USD 4,000", 400000),
        ("1.234,56 €", 123456),
        ("7 500", 750000),
        ("7\u00a0500,25", 750025),
        ("12,5", 1250),
        ("0.99", 99),
        ("1,234,567", 123456700),
        ("1.234.567", 123456700),
        ("€ 1.500", 150000),
        ("-250", -25000),
        ("(250)", -25000),
        ("CHF 1'250.50", 125050),
    ],
)
def test_amounts_as_people_write_them(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["12,5x", "abc", "1.2.3,4,5", "12..5", "$", "1,23,456"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_amount(text)


def test_empty_amount_is_none() -> None:
    assert parse_amount("  ") is None
    assert parse_amount(None) is None


@given(st.integers(min_value=0, max_value=10**12))
def test_formatted_money_parses_back(cents: int) -> None:
    assert parse_amount(format_money(cents)) == cents


@pytest.mark.parametrize(
    ("cents", "currency", "short"),
    [(95000, "", "950"), (300000, "", "3k"), (1250000, "", "12.5k"), (98765432, "", "988k"),
     (99960000, "", "1M"), (999960000, "", "10M"), (-1250000, "", "-12.5k"), (999999999999, "EUR", "EUR 10B")],
)
def test_compact_money_reads_at_a_glance(cents: int, currency: str, short: str) -> None:
    """Never "1000k": just under a step it rounds up to the next one."""
    assert format_money_short(cents, currency) == short
    assert format_money_short(cents, currency, masked=True) == "•••"


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_plain_decimal_strings_parse_exactly(value: Decimal) -> None:
    assert parse_amount(f"{value:.2f}") == int(value * 100)


TODAY = dt.date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-15", dt.date(2026, 3, 15)),
        ("2026-03-15T10:00:00Z", dt.date(2026, 3, 15)),
        ("15 Mar 2026", dt.date(2026, 3, 15)),
        ("Mar 15, 2026", dt.date(2026, 3, 15)),
        ("15.03.2026", dt.date(2026, 3, 15)),
        ("03/15/2026", dt.date(2026, 3, 15)),
        ("15/03/26", dt.date(2026, 3, 15)),
        ("tomorrow", dt.date(2026, 11, 24)),
        ("today", TODAY),
        ("fri", dt.date(2026, 11, 27)),
        ("mon", dt.date(2026, 11, 30)),
        ("+3d", dt.date(2026, 11, 26)),
        ("+1w", dt.date(2026, 11, 30)),
        ("+3m", dt.date(2027, 2, 23)),
    ],
)
def test_dates_as_people_write_them(text: str, expected: dt.date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_ambiguous_dates_need_an_order() -> None:
    with pytest.raises(AmbiguousDate, match="dmy or mdy"):
        parse_date("03/04/2026", today=TODAY)
    assert parse_date("03/04/2026", date_order="dmy") == dt.date(2026, 4, 3)
    assert parse_date("03/04/2026", date_order="mdy") == dt.date(2026, 3, 4)
    assert numeric_date_order_hint("15/03/2026") == "dmy"
    assert numeric_date_order_hint("03/15/2026") == "mdy"
    assert numeric_date_order_hint("03/04/2026") is None


def test_year_first_with_two_digits_needs_ymd() -> None:
    """`26-12-09` reads as 26 Dec 2009 (the day proves itself); with ymd it is 9 Dec 2026."""
    assert parse_date("26-12-09", today=TODAY) == dt.date(2009, 12, 26)
    assert parse_date("26-12-09", date_order="ymd") == dt.date(2026, 12, 9)
    assert parse_date("99/01/31", date_order="ymd") == dt.date(1999, 1, 31)
    assert parse_date("2026-12-09", date_order="ymd") == dt.date(2026, 12, 9)
    assert parse_date("15/03/2026", date_order="ymd") == dt.date(2026, 3, 15)  # a year last proves itself
    with pytest.raises(AmbiguousDate):
        parse_date("03/04/2026", date_order="ymd")
    for bad in ("26-13-01", "6-1-2", "126-01-02"):
        with pytest.raises(ValidationError, match="is not a date"):
            parse_date(bad, date_order="ymd")


@pytest.mark.parametrize("text", ["32.01.2026", "2026-02-30", "someday", "15 Foo 2026", "1/2"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_date(text, today=TODAY)
