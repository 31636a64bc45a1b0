"""A deal's line items: what it sells, at what quantity, price, discount and tax.

A deal with line items takes its amount from them (the net total, after the lines' and the deal's
discounts, before tax) and its cost from the lines' costs when any line has one; a deal without
lines keeps the amount typed by hand. The arithmetic is in `line_totals`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crmtui.store import clock, line_totals, undo
from crmtui.store.activities import get_record, undo_scope
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.line_totals import parse_percent, parse_quantity, quantity_text
from crmtui.store.models import Deal, DealLine, Product
from crmtui.store.money import parse_amount, plain_decimal
from crmtui.store.products import find_product
from crmtui.store.sql import Session
from crmtui.store.validate import clean_text, require_text


def line_rows(session: Session, deal_id: int) -> list[Any]:
    """A deal's live lines in order, with the product's name and code."""
    return session.execute(
        "SELECT l.id, l.deal_id, l.product_id, p.name AS product, p.code, l.description, l.quantity, l.unit,"
        " l.unit_price_cents, l.discount_bp, l.tax_bp, l.unit_cost_cents, l.position, l.net_cents"
        " FROM deal_line l LEFT JOIN product p ON p.id = l.product_id"
        " WHERE l.deal_id = :deal AND l.deleted_at IS NULL ORDER BY l.position, l.id",
        {"deal": deal_id},
    ).fetchall()


def has_lines(session: Session, deal_id: int) -> bool:
    return session.execute(
        "SELECT 1 FROM deal_line WHERE deal_id = :deal AND deleted_at IS NULL LIMIT 1", {"deal": deal_id}
    ).fetchone() is not None


def totals_of(session: Session, deal_id: int, rows: list[Any] | None = None) -> line_totals.Totals:
    """The totals of a deal's lines with the deal's discount."""
    rows = line_rows(session, deal_id) if rows is None else rows
    discount = session.execute(
        "SELECT discount_bp, discount_cents FROM deal WHERE id = :id", {"id": deal_id}).fetchone()
    return _totals(rows, discount["discount_bp"] if discount else None,
                   discount["discount_cents"] if discount else None)


def _totals(rows: list[Any], discount_bp: int | None, discount_cents: int | None) -> line_totals.Totals:
    return line_totals.totals(
        (line_totals.Line(r["quantity"], r["unit_price_cents"], r["discount_bp"], r["tax_bp"], r["unit_cost_cents"])
         for r in rows),
        discount_bp=discount_bp, discount_cents=discount_cents)


# --- writes ------------------------------------------------------------------------------------
# Each write keeps the line's net_cents, makes the deal's amount (and cost) follow its lines, and
# records one undo entry on the deal's page (`u` there reverses the line and the deal together).

_DEAL_COLUMNS = ["amount_cents", "cost_cents", "discount_bp", "discount_cents", "updated_at"]
_LINE_COLUMNS = ["product_id", "description", "quantity", "unit", "unit_price_cents", "discount_bp", "tax_bp",
                 "unit_cost_cents", "position", "net_cents", "updated_at", "deleted_at"]
LINE_FIELDS = ("quantity", "price", "discount", "description", "tax", "unit", "cost")


def get_line(session: Session, line_id: int | str) -> DealLine:
    """A live line of a live deal by id (`12` or `#12`); NotFound otherwise."""
    try:
        key = int(str(line_id).strip().lstrip("#"))
    except ValueError:
        raise ValidationError(f"line id: {str(line_id)!r} is not a number", "id") from None
    line = session.get(DealLine, key)
    if line is None or line.deleted_at is not None or session.get(Deal, line.deal_id).deleted_at is not None:
        raise NotFound(f"no line #{key} (crmtui lines DEAL lists a deal's lines)")
    return line


def add_line(
    session: Session,
    deal: int | str,
    product_or_text: str,
    *,
    quantity: str | Decimal | None = None,
    price: str | None = None,
    discount: str | None = None,
    description: str | None = None,
    tax: str | None = None,
) -> DealLine:
    """Add a line to a deal, last: a product by `#id`, code or name (its unit, price, tax rate,
    cost and description copied; `price`, `tax` and `description` override them), or else a line
    of free text, which needs a price. A product priced in another currency than the deal's needs
    `price` too (and its cost is not copied)."""
    record = _get_deal(session, deal)
    qty = parse_quantity("1" if quantity is None else quantity)
    price_cents = _price(price)
    discount_bp = 0 if discount is None else parse_percent(discount)
    tax_bp = None if tax is None else parse_percent(tax, field="tax")
    product = _product(session, product_or_text, free_text_allowed=price_cents is not None)
    same_currency = product is not None and _same_currency(session, product, record, priced=price_cents is not None)
    text = clean_text(description)
    now = clock.utcnow()
    position = session.execute(
        "SELECT coalesce(max(position) + 1, 0) FROM deal_line WHERE deal_id = :deal AND deleted_at IS NULL",
        {"deal": record.id}).scalar()
    line = DealLine(
        deal_id=record.id,
        product_id=product.id if product else None,
        description=text or ((product.description or "") if product else require_text(product_or_text, "line")),
        quantity=quantity_text(qty),
        unit=product.unit if product else None,
        unit_price_cents=price_cents if price_cents is not None else product.price_cents,  # type: ignore[union-attr]
        discount_bp=discount_bp,
        tax_bp=tax_bp if tax_bp is not None else (product.tax_bp if product else 0),
        unit_cost_cents=product.cost_cents if product and same_currency else None,
        position=position,
        created_at=now,
        updated_at=now,
    )
    deal_op = undo.update_op(session, "deal", record.id, _DEAL_COLUMNS)
    _keep_net(line)
    session.add(line)
    _follow_lines(session, record)
    undo.record(session, "add line", [deal_op, {"op": "delete_row", "table": "deal_line", "id": line.id}],
                scope=undo_scope("deal", record.id))
    return line


def set_line_fields(session: Session, line_id: int | str, assignments: Mapping[str, str]) -> DealLine:
    """Change a line's quantity, price, discount, description, tax, unit or cost (as typed;
    `cost=` and `unit=` clear them). All are checked before anything is written."""
    line = get_line(session, line_id)
    if not assignments:
        raise ValidationError(f"nothing to change: give FIELD=VALUE ({', '.join(LINE_FIELDS)})", "field")
    values = {}
    for name, value in assignments.items():
        field = {"qty": "quantity"}.get(name.strip().lower(), name.strip().lower())
        if field not in LINE_FIELDS:
            raise ValidationError(f"lines have no field {name.strip()!r} (fields: {', '.join(LINE_FIELDS)})", "field")
        values[field] = _clean_line_field(field, value)
    ops = [undo.update_op(session, "deal", line.deal_id, _DEAL_COLUMNS),
           undo.update_op(session, "deal_line", line.id, _LINE_COLUMNS)]
    columns = {"quantity": "quantity", "price": "unit_price_cents", "discount": "discount_bp",
               "description": "description", "tax": "tax_bp", "unit": "unit", "cost": "unit_cost_cents"}
    for field, value in values.items():
        setattr(line, columns[field], value)
    line.updated_at = clock.utcnow()
    _keep_net(line)
    session.add(line)
    _follow_lines(session, _deal(session, line.deal_id))
    undo.record(session, "edit line", ops, scope=undo_scope("deal", line.deal_id))
    return line


def remove_line(session: Session, line_id: int | str) -> DealLine:
    """Move a line to the trash; the deal's amount follows the lines left. Removing the last line
    leaves the amount (and cost) as the lines had it: the deal keeps its worth, and takes an amount
    typed by hand again from then on."""
    line = get_line(session, line_id)
    ops = [undo.update_op(session, "deal", line.deal_id, _DEAL_COLUMNS),
           undo.update_op(session, "deal_line", line.id, _LINE_COLUMNS)]
    line.deleted_at = line.updated_at = clock.utcnow()
    session.add(line)
    _follow_lines(session, _deal(session, line.deal_id))
    undo.record(session, "remove line", ops, scope=undo_scope("deal", line.deal_id))
    return line


def move_line(session: Session, line_id: int | str, direction: int) -> bool:
    """Move a line one place up (-1) or down (+1) among its deal's lines; False at either end."""
    line = get_line(session, line_id)
    rows = [dict(r) for r in line_rows(session, line.deal_id)]
    at = next(i for i, r in enumerate(rows) if r["id"] == line.id)
    to = at + (1 if direction > 0 else -1)
    if not 0 <= to < len(rows):
        return False
    rows[at], rows[to] = rows[to], rows[at]
    deal_op = undo.update_op(session, "deal", line.deal_id, ["updated_at"])
    ops = undo.renumber(session, "deal_line", rows)
    session.execute("UPDATE deal SET updated_at = :now WHERE id = :id",
                    {"now": clock.utcnow(), "id": line.deal_id})
    undo.record(session, "move line", [deal_op, *ops], scope=undo_scope("deal", line.deal_id))
    return True


def set_deal_discount(session: Session, deal: int | str, text: str | None) -> Deal:
    """A discount on the whole deal: "5%" (a percentage of the lines' net), "500" (an amount,
    never more than the net), or "0" / "none" to clear it. A deal with lines takes the new net as
    its amount; a deal without lines keeps its amount (the discount applies once it has lines)."""
    record = _get_deal(session, deal)
    discount_bp, discount_cents = parse_deal_discount(text)
    deal_op = undo.update_op(session, "deal", record.id, _DEAL_COLUMNS)
    record.discount_bp, record.discount_cents = discount_bp, discount_cents
    record.updated_at = clock.utcnow()
    session.add(record)
    _follow_lines(session, record)
    undo.record(session, "deal discount", [deal_op], scope=undo_scope("deal", record.id))
    return record


def parse_deal_discount(text: str | None) -> tuple[int | None, int | None]:
    """(basis points, cents) of a deal discount as typed: "5%", "500", "0" or "none" (no discount)."""
    raw = (text or "").strip()
    if raw.lower() in ("", "0", "none", "off"):
        return None, None
    if raw.endswith("%"):
        return parse_percent(raw) or None, None
    cents = parse_amount(raw, field="discount")
    if cents is not None and cents < 0:
        raise ValidationError(f"discount: must not be negative, not {raw}", "discount")
    return None, cents or None


def discount_text(discount_bp: int | None, discount_cents: int | None) -> str | None:
    """A deal discount as `deal discount` takes it: "5%", "500", or None."""
    if discount_bp:
        return f"{line_totals.percent_text(discount_bp)}%"
    if discount_cents:
        return plain_decimal(discount_cents)
    return None


def line_dict(row: Any) -> dict[str, Any]:
    """A line as `deal show --json`, exports and scripts print it."""
    net = row["net_cents"]
    cost = line_totals.line_cost(row["quantity"], row["unit_cost_cents"])
    return {
        "id": row["id"], "position": row["position"], "product_id": row["product_id"], "product": row["product"],
        "code": row["code"], "description": row["description"], "quantity": row["quantity"], "unit": row["unit"],
        "unit_price": row["unit_price_cents"] / 100, "unit_price_cents": row["unit_price_cents"],
        "discount": line_totals.percent_text(row["discount_bp"]), "tax": line_totals.percent_text(row["tax_bp"]),
        "net": net / 100, "net_cents": net, "cost": None if cost is None else cost / 100,
    }


def export_figures(conn: Any) -> dict[int, tuple[list[dict[str, Any]], line_totals.Totals]]:  # noqa: ANN401
    """Every live deal's lines (as `line_dict`, money as decimal text) and totals, by deal id: one
    query for all of them (an export of many deals without lines reads no more than that)."""
    rows = conn.execute(
        "SELECT l.id, l.deal_id, l.product_id, p.name AS product, p.code, l.description, l.quantity, l.unit,"
        " l.unit_price_cents, l.discount_bp, l.tax_bp, l.unit_cost_cents, l.position, l.net_cents,"
        " d.discount_bp AS deal_discount_bp, d.discount_cents AS deal_discount_cents"
        " FROM deal_line l JOIN deal d ON d.id = l.deal_id LEFT JOIN product p ON p.id = l.product_id"
        " WHERE l.deleted_at IS NULL AND d.deleted_at IS NULL ORDER BY l.deal_id, l.position, l.id")
    by_deal: dict[int, list[Any]] = {}
    for row in rows:
        by_deal.setdefault(row["deal_id"], []).append(row)
    figures = {}
    for deal_id, deal_rows in by_deal.items():
        items = []
        for row in deal_rows:
            cost = line_totals.line_cost(row["quantity"], row["unit_cost_cents"])
            items.append({**line_dict(row), "unit_price": plain_decimal(row["unit_price_cents"]),
                          "net": plain_decimal(row["net_cents"]), "cost": None if cost is None else plain_decimal(cost)})
        figures[deal_id] = (items, _totals(deal_rows, deal_rows[0]["deal_discount_bp"],
                                           deal_rows[0]["deal_discount_cents"]))
    return figures


def _clean_line_field(field: str, value: str) -> Any:  # noqa: ANN401
    if field == "quantity":
        return quantity_text(parse_quantity(value))
    if field in ("discount", "tax"):
        return parse_percent(value, field=field)
    if field == "description":
        return (value or "").strip()
    if field == "unit":
        return clean_text(value)
    cents = _price(value, field)
    if cents is None and field == "price":
        raise ValidationError("price: required (0 for a line given away)", "price")
    return cents


def _price(text: str | None, field: str = "price") -> int | None:
    cents = parse_amount(text, field=field)
    if cents is not None and cents < 0:
        raise ValidationError(f"{field}: must not be negative, not {str(text).strip()}", field)
    return cents


def _product(session: Session, ref: str, *, free_text_allowed: bool) -> Product | None:
    """The product a line names, or None for a line of free text (which needs a price)."""
    text = " ".join(str(ref).split())
    product = find_product(session, text)
    if product is not None:
        if product.archived_at is not None:
            raise ValidationError(f"product {product.name!r} is archived: restore it, or pick another", "product")
        return product
    if text.startswith("#") and text[1:].isdigit():
        raise NotFound(f"no product {text}")
    if not free_text_allowed:
        raise NotFound(f"no product {text!r} (give its #id, code or name: crmtui products list);"
                       " for a line of free text give --price")
    return None


def _same_currency(session: Session, product: Product, deal: Deal, *, priced: bool) -> bool:
    """Whether the product is priced in the deal's currency; refused when not and no price is given
    (its price and cost mean nothing in the deal's currency)."""
    from crmtui.store.settings import get_setting

    default = get_setting(session, "currency")
    theirs, ours = (product.currency or default).upper(), (deal.currency or default).upper()
    if theirs != ours and not priced:
        raise ValidationError(f"product {product.name!r} is priced in {theirs}, the deal is in {ours}:"
                              f" give the price in {ours} (--price)", "price")
    return theirs == ours


def _keep_net(line: DealLine) -> None:
    line.net_cents = line_totals.line_amounts(line.quantity, line.unit_price_cents, line.discount_bp)[1]


def _get_deal(session: Session, ref: int | str) -> Deal:
    """A live deal by id (`12` or `#12`), read as deals.get_deal reads it (deals imports this module)."""
    try:
        key = int(str(ref).strip().lstrip("#"))
    except ValueError:
        raise ValidationError(f"deal id: {str(ref)!r} is not a number", "id") from None
    return get_record(session, "deal", key)  # type: ignore[return-value]


def _deal(session: Session, deal_id: int) -> Deal:
    return session.get(Deal, deal_id)  # type: ignore[return-value]


def _follow_lines(session: Session, deal: Deal) -> None:
    """The deal takes its amount from its lines (and its cost when a line has one); a deal
    without lines keeps the amount it has."""
    if has_lines(session, deal.id):
        figures = totals_of(session, deal.id)
        deal.amount_cents = figures.net_cents
        if figures.cost_cents is not None:
            deal.cost_cents = figures.cost_cents
    deal.updated_at = clock.utcnow()
    session.add(deal)
