"""The arithmetic of line items, each figure worked out by hand in the comments: cents, one
half-up rounding per figure, a deal discount shared across the tax rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmtui.store.errors import ValidationError
from crmtui.store.line_totals import Line, TaxRate, line_amounts, parse_percent, parse_quantity, totals


def test_half_a_cent_goes_up() -> None:
    # 0.5 x 0.01 = 0.5 cent -> 1 cent
    assert line_amounts("0.5", 1) == (1, 1)
    # 1 x 0.05 less 10 %: 5 x 0.9 = 4.5 cents -> 5 (the net rounded once, up)
    assert line_amounts("1", 5, 1000) == (5, 5)
    # 0.5 x 0.03 = 1.5 cents -> 2; less 50 %: 1.5 x 0.5 = 0.75 -> 1 (from the exact 1.5, not from 2)
    assert line_amounts("0.5", 3, 5000) == (2, 1)


def test_one_and_a_half_at_ninety_nine_cents() -> None:
    # 1.5 x 99 cents = 148.5 cents -> 149 (1.49)
    assert line_amounts(Decimal("1.5"), 99) == (149, 149)


def test_a_third_of_a_unit() -> None:
    # 0.333 x 10.00 = 333 cents exactly
    assert line_amounts("0.333", 1000) == (333, 333)
    # 0.333 x 99.99 = 0.333 x 9999 = 3329.667 cents -> 3330 (33.30)
    assert line_amounts("0.333", 9999) == (3330, 3330)


def test_a_line_discount_is_rounded_once_from_the_exact_amount() -> None:
    # 3 x 3.33 = 999 cents; less 10 %: 999 x 0.9 = 899.1 -> 899
    assert line_amounts("3", 333, 1000) == (999, 899)
    # 100 % off: nothing to pay
    assert line_amounts("2", 5000, 10000) == (10000, 0)


def test_several_tax_rates() -> None:
    # 25 %: 2 x 100.00 = 200.00 -> tax 50.00
    # 12 %: 1 x 50.00            -> tax  6.00
    #  0 %: 1 x 10.00            -> tax  0
    # net 260.00, tax 56.00, total 316.00
    result = totals([Line("2", 10000, 0, 2500), Line("1", 5000, 0, 1200), Line("1", 1000, 0, 0)])
    assert result.subtotal_cents == 26000 and result.line_discount_cents == 0 and result.deal_discount_cents == 0
    assert result.net_cents == 26000
    assert result.taxes == [TaxRate(0, 1000, 0), TaxRate(1200, 5000, 600), TaxRate(2500, 20000, 5000)]
    assert result.tax_cents == 5600 and result.total_cents == 31600


def test_a_percentage_deal_discount_is_shared_across_the_rates() -> None:
    # lines as above, net 260.00 (200.00 at 25 %, 50.00 at 12 %, 10.00 at 0 %); 10 % off the deal:
    # 26.00, shared 20.00 / 5.00 / 1.00 -> bases 180.00, 45.00, 9.00
    # tax 180 x 25 % = 45.00, 45 x 12 % = 5.40, 0 -> 50.40; net 234.00; total 284.40
    result = totals([Line("2", 10000, 0, 2500), Line("1", 5000, 0, 1200), Line("1", 1000, 0, 0)], discount_bp=1000)
    assert result.deal_discount_cents == 2600 and result.net_cents == 23400
    assert result.taxes == [TaxRate(0, 900, 0), TaxRate(1200, 4500, 540), TaxRate(2500, 18000, 4500)]
    assert result.tax_cents == 5040 and result.total_cents == 28440


def test_a_percentage_deal_discount_is_rounded_once() -> None:
    # 3 x 3.33 = 9.99; 5 % off: 49.95 cents -> 50; net 9.49
    result = totals([Line("3", 333)], discount_bp=500)
    assert (result.subtotal_cents, result.deal_discount_cents, result.net_cents) == (999, 50, 949)


def test_an_amount_deal_discount_is_shared_in_whole_cents_that_add_up() -> None:
    # 25 %: 100.00 (10000 cents); 12 %: 33.33 (3333 cents); net 133.33 (13333); 10.00 off the deal:
    #   25 %: 1000 x 10000 / 13333 = 750.01875 -> 750
    #   12 %: 1000 x  3333 / 13333 = 249.98125 -> 249, and the odd cent (largest remainder) -> 250
    # bases 9250 and 3083; tax 9250 x 25 % = 2312.5 -> 2313 (half-up), 3083 x 12 % = 369.96 -> 370
    # net 13333 - 1000 = 12333; tax 2683; total 15016
    result = totals([Line("1", 10000, 0, 2500), Line("1", 3333, 0, 1200)], discount_cents=1000)
    assert result.deal_discount_cents == 1000 and result.net_cents == 12333
    assert result.taxes == [TaxRate(1200, 3083, 370), TaxRate(2500, 9250, 2313)]
    assert result.tax_cents == 2683 and result.total_cents == 15016


def test_an_amount_discount_larger_than_the_net_takes_it_to_nothing() -> None:
    # net 2 x 25.00 = 50.00 at 25 %; 80.00 off: only 50.00 can go -> net 0, tax 0, total 0
    result = totals([Line("2", 2500, 0, 2500)], discount_cents=8000)
    assert result.deal_discount_cents == 5000 and result.net_cents == 0
    assert result.taxes == [TaxRate(2500, 0, 0)] and result.total_cents == 0


def test_line_discounts_and_costs_add_up() -> None:
    # 1.5 x 800.00 = 1200.00, 10 % off -> 1080.00; cost 1.5 x 300.00 = 450.00
    # 1 x 120.50 without cost; subtotal 1320.50, line discounts 120.00, net 1200.50; tax 25 % of 1080 = 270
    result = totals([Line("1.5", 80000, 1000, 2500, 30000), Line("1", 12050)])
    assert (result.subtotal_cents, result.line_discount_cents, result.net_cents) == (132050, 12000, 120050)
    assert result.cost_cents == 45000 and result.tax_cents == 27000 and result.total_cents == 147050
    figures = result.as_dict()
    assert figures["net"] == 1200.5 and figures["taxes"][1] == {
        "rate": "25", "base_cents": 108000, "tax_cents": 27000, "base": 1080.0, "tax": 270.0}
    assert totals([Line("1", 100)]).cost_cents is None


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.23456"])
def test_quantities_that_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_quantity(text)


def test_percentages() -> None:
    assert parse_percent("7.5%") == 750 and parse_percent("12,5 %") == 1250 and parse_percent("100") == 10000
    with pytest.raises(ValidationError, match="over 100 %"):
        parse_percent("101")
