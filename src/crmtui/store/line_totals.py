"""The arithmetic of line items: exact, in cents, with one rounding (half-up) per figure.

A line's amount before its discount is quantity x unit price, and its net amount is that less the
line's discount: each is rounded once, to the cent, half-up. A discount on the whole deal (a
percentage of the lines' net, rounded once, or an amount, at most that net) is shared among the
tax rates in proportion to their lines' net, so that the tax of each rate is taken on what the
customer pays at that rate. Percentages are kept in basis points (2500 = 25 %).

No database here: the store, the quotes and the tests call these with plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crmtui.store.errors import ValidationError

HUNDRED_PERCENT = 10000  # basis points
MAX_QUANTITY = Decimal(10) ** 9
QUANTITY_PLACES = 4
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def round_cents(value: Decimal) -> int:
    """A value in cents rounded to a whole cent, half-up (0.5 cent goes up)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_quantity(text: str | int | Decimal, *, field: str = "quantity") -> Decimal:
    """A quantity as people type it: 2, 1.5, 1,5, 0.25. Must be more than 0, at most four decimals."""
    raw = str(text).strip()
    if not _NUMBER.fullmatch(raw):
        raise ValidationError(f"{field}: {raw!r} is not a number (write it like 2 or 1.5)", field)
    value = Decimal(raw.replace(",", "."))
    if value <= 0:
        raise ValidationError(f"{field}: must be more than 0, not {raw}", field)
    if value >= MAX_QUANTITY:
        raise ValidationError(f"{field}: {raw} is too large", field)
    if -value.as_tuple().exponent > QUANTITY_PLACES:  # type: ignore[operator]
        raise ValidationError(f"{field}: {raw} has more than {QUANTITY_PLACES} decimals", field)
    return value


def quantity_text(value: Decimal | str) -> str:
    """How a quantity is stored and shown: 2, 1.5, 0.25 (no trailing zeros, no exponent)."""
    return format(Decimal(value).normalize(), "f")


def parse_percent(text: str | int | float | Decimal, *, field: str = "discount") -> int:
    """A percentage as people type it (10, 10%, 7.5, 12,5 %), in basis points; 0 to 100 %."""
    raw = str(text).strip()
    number = raw.removesuffix("%").strip()
    if not _NUMBER.fullmatch(number):
        raise ValidationError(f"{field}: {raw!r} is not a percentage (write it like 10 or 7.5%)", field)
    try:
        value = Decimal(number.replace(",", ".")) * 100
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValidationError(f"{field}: {raw!r} is not a percentage", field) from None
    if value < 0:
        raise ValidationError(f"{field}: must not be negative, not {raw}", field)
    if value > HUNDRED_PERCENT:
        raise ValidationError(f"{field}: {raw} is over 100 %", field)
    if value != value.to_integral_value():
        raise ValidationError(f"{field}: {raw} has more than two decimals", field)
    return int(value)


def percent_text(bp: int) -> str:
    """Basis points as a percentage without trailing zeros: 2500 -> "25", 750 -> "7.5"."""
    return format((Decimal(bp) / 100).normalize(), "f")


def line_amounts(quantity: Decimal | str, unit_price_cents: int, discount_bp: int = 0) -> tuple[int, int]:
    """A line's amount before its discount and its net amount, in cents, each rounded once."""
    exact = Decimal(quantity) * unit_price_cents
    gross = round_cents(exact)
    net = round_cents(exact * (HUNDRED_PERCENT - discount_bp) / HUNDRED_PERCENT)
    return gross, net


def line_cost(quantity: Decimal | str, unit_cost_cents: int | None) -> int | None:
    """What a line costs the consultant (quantity x cost per unit, rounded once), or None."""
    if unit_cost_cents is None:
        return None
    return round_cents(Decimal(quantity) * unit_cost_cents)


@dataclass(frozen=True)
class Line:
    """What the totals need of a line."""

    quantity: Decimal | str
    unit_price_cents: int
    discount_bp: int = 0
    tax_bp: int = 0
    unit_cost_cents: int | None = None


@dataclass(frozen=True)
class TaxRate:
    rate_bp: int
    base_cents: int  # the net at this rate, after its share of the deal discount
    tax_cents: int


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int  # the lines before any discount
    line_discount_cents: int  # the lines' own discounts
    deal_discount_cents: int  # the discount on the whole deal
    net_cents: int  # what the deal is worth before tax: the deal's amount
    taxes: list[TaxRate] = field(default_factory=list)  # one per rate, lowest rate first
    tax_cents: int = 0
    total_cents: int = 0
    cost_cents: int | None = None  # None when no line has a cost

    def as_dict(self) -> dict[str, Any]:
        """The totals as `deal show --json`, exports and quotes print them: cents and units."""
        out: dict[str, Any] = {}
        for name in ("subtotal", "line_discount", "deal_discount", "net", "tax", "total", "cost"):
            cents = getattr(self, f"{name}_cents")
            out[f"{name}_cents"] = cents
            out[name] = None if cents is None else cents / 100
        out["taxes"] = [
            {"rate": percent_text(t.rate_bp), "base_cents": t.base_cents, "tax_cents": t.tax_cents,
             "base": t.base_cents / 100, "tax": t.tax_cents / 100}
            for t in self.taxes
        ]
        return out


def deal_discount(lines_net_cents: int, discount_bp: int | None, discount_cents: int | None) -> int:
    """The discount on the whole deal in cents: a percentage of the lines' net (rounded once) or
    an amount, never more than the net."""
    if discount_bp:
        return round_cents(Decimal(lines_net_cents) * discount_bp / HUNDRED_PERCENT)
    if discount_cents:
        return min(discount_cents, lines_net_cents)
    return 0


def _share(total: int, weights: dict[int, int]) -> dict[int, int]:
    """`total` split in proportion to `weights`, in whole cents that add up to it exactly (the
    largest remainders get the odd cents; ties to the higher rate)."""
    whole = sum(weights.values())
    if not total or not whole:
        return dict.fromkeys(weights, 0)
    exact = {key: Decimal(total) * w / whole for key, w in weights.items()}
    shares = {key: int(value) for key, value in exact.items()}
    left = total - sum(shares.values())
    for key in sorted(exact, key=lambda k: (exact[k] - shares[k], k), reverse=True)[:left]:
        shares[key] += 1
    return shares


def totals(lines: Iterable[Line], *, discount_bp: int | None = None, discount_cents: int | None = None) -> Totals:
    """The totals of a deal's lines with its discount: subtotal, discounts, net, tax per rate, total."""
    subtotal = lines_net = 0
    net_by_rate: dict[int, int] = {}
    costs: list[int] = []
    for line in lines:
        gross, net = line_amounts(line.quantity, line.unit_price_cents, line.discount_bp)
        subtotal += gross
        lines_net += net
        net_by_rate[line.tax_bp] = net_by_rate.get(line.tax_bp, 0) + net
        cost = line_cost(line.quantity, line.unit_cost_cents)
        if cost is not None:
            costs.append(cost)
    off = deal_discount(lines_net, discount_bp, discount_cents)
    shares = _share(off, net_by_rate)
    taxes = []
    for rate in sorted(net_by_rate):
        base = net_by_rate[rate] - shares[rate]
        taxes.append(TaxRate(rate, base, round_cents(Decimal(base) * rate / HUNDRED_PERCENT)))
    net = lines_net - off
    tax = sum(t.tax_cents for t in taxes)
    return Totals(
        subtotal_cents=subtotal,
        line_discount_cents=subtotal - lines_net,
        deal_discount_cents=off,
        net_cents=net,
        taxes=taxes,
        tax_cents=tax,
        total_cents=net + tax,
        cost_cents=sum(costs) if costs else None,
    )
