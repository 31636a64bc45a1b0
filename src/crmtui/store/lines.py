"""A deal's line items: what it sells, at what quantity, price, discount and tax.

A deal with line items takes its amount from them (the net total, after the lines' and the deal's
discounts, before tax) and its cost from the lines' costs when any line has one; a deal without
lines keeps the amount typed by hand. The arithmetic is in `line_totals`.
"""

from __future__ import annotations

from typing import Any

from crmtui.store import line_totals
from crmtui.store.sql import Session


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
    return line_totals.totals(
        (line_totals.Line(r["quantity"], r["unit_price_cents"], r["discount_bp"], r["tax_bp"], r["unit_cost_cents"])
         for r in rows),
        discount_bp=discount["discount_bp"] if discount else None,
        discount_cents=discount["discount_cents"] if discount else None,
    )
