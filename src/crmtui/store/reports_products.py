"""Sales by product: what the deals won in a period sold, line by line.

Read through the dashboard's `ReportFilter` (period, pipeline, tag): the live line items of the
deals won (a stage of kind "won") and closed in the period, deleted deals left out. A line of a
catalogue product counts under the product (an archived or deleted product keeps its name); a
free-text line under its own text, trimmed, in any case ("Travel" and "travel " are one row), so
a consultant who sells without a catalogue still sees what sold. A product sold in two units
(hours on one deal, days on another) gets a row per unit: hours and days do not add up.

Net is the sum of the lines' net amounts (quantity x unit price less the line's discount),
*before* any discount on the whole deal, so the rows can add up to more than the deals' won
value. As every other money figure of the reports, it adds up the amounts as they are, in the
report's (the database's) currency, whatever currency a deal carries.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from crmtui.store.line_totals import QUANTITY_PLACES, quantity_text
from crmtui.store.reports import (PRODUCT_LINE_TEXT, PRODUCT_LINE_UNIT, Drill, ReportFilter, _all, _in_list, _Scope,
                                  _scope)
from crmtui.store.sql import Session


def sales_by_product(session: Session, filt: ReportFilter | None = None, *,
                     _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Per product (or free text) and unit, over the lines of the deals won in the period:
    `product_id` (None for free text), `product` (its name, or the line's text: "" for none), `unit`,
    `quantity` (exact decimal text, "7.5"), `net_cents` (the lines' net, before any discount on
    the whole deal) and `deals` (how many won deals sold it). Largest net first.

    Nothing is read when no deal has a line. Otherwise the won deals of the period are read as the
    report's other scans of closed deals read them (`_Scope.deals_by`), each with a seek into its
    own lines."""
    if session.execute("SELECT 1 FROM deal_line WHERE deleted_at IS NULL LIMIT 1").fetchone() is None:
        return []
    sc = _sc or _scope(session, filt or ReportFilter())
    scale = 10 ** QUANTITY_PLACES  # quantities have at most this many decimals: summed exactly as integers
    rows = _all(
        session,
        f"""
        SELECT l.product_id, min(coalesce(p.name, trim(l.description))) AS name, {PRODUCT_LINE_UNIT} AS unit,
               sum(CAST(round(CAST(l.quantity AS REAL) * {scale}) AS INTEGER)) AS quantity_scaled,
               sum(l.net_cents) AS net_cents, count(DISTINCT l.deal_id) AS deals
        FROM {sc.deals_by("ix_deal_report_closed")} {sc.join} deal_line l ON l.deal_id = d.id AND l.deleted_at IS NULL
        LEFT JOIN product p ON p.id = l.product_id
        WHERE {sc.base} AND d.stage_id IN ({_in_list(session, sc, "won")}) AND {sc.closed_in}
        GROUP BY l.product_id, {PRODUCT_LINE_TEXT} COLLATE NOCASE, {PRODUCT_LINE_UNIT}
        """,
        sc.params,
    )
    out = [{
        "product_id": r["product_id"],
        "product": r["name"] or (f"product #{r['product_id']}" if r["product_id"] is not None else ""),
        "unit": r["unit"],
        "quantity": quantity_text(Decimal(r["quantity_scaled"]).scaleb(-QUANTITY_PLACES)),
        "net_cents": r["net_cents"],
        "deals": r["deals"],
    } for r in rows]
    return sorted(out, key=lambda r: (-r["net_cents"], r["product"].casefold(), r["unit"]))


def product_drill(row: dict[str, Any]) -> Drill:
    """The won deals behind a row of `sales_by_product`."""
    text = row["product"] if row["product_id"] is None else None
    return Drill("product", json.dumps([row["product_id"], text, row["unit"]]))
