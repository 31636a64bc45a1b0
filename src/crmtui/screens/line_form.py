"""The small forms of the deal page's Products section: a line's quantity, price, discount and
description, and a new quote. Enter in a field saves (ctrl+s too): they are edited in passing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual import on
from textual.widgets import Input

from crmtui.markup import plain
from crmtui.screens.edit_forms import FormField, FormScreen
from crmtui.store.line_totals import percent_text
from crmtui.store.money import format_money_input

QUOTE_FORMATS = ("pdf", "html", "md")
QUOTE_VALID_DAYS = 30


class QuickForm(FormScreen):
    """A form whose fields save on enter."""

    @on(Input.Submitted)
    def _enter_saves(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()


def line_form(line: Any, save: Callable[[dict[str, str]], None]) -> QuickForm:  # noqa: ANN401
    """Edit a line (a row of `lines.line_rows`): `save` gets only the fields that changed."""
    start = {
        "quantity": line["quantity"],
        "price": format_money_input(line["unit_price_cents"]),
        "discount": percent_text(line["discount_bp"]) if line["discount_bp"] else "",
        "description": line["description"] or "",
    }

    def changed(values: dict[str, str]) -> None:
        edits = {name: value for name, value in values.items() if value.strip() != start[name].strip()}
        if "discount" in edits and not edits["discount"].strip():
            edits["discount"] = "0"
        if edits:
            save(edits)

    name = line["product"] or line["description"] or "line"
    return QuickForm(
        f"Line: {plain(name)}",
        [
            FormField("quantity", "Quantity", start["quantity"], placeholder="2 or 1.5"),
            FormField("price", "Unit price", start["price"], placeholder="1200 or 99.50"),
            FormField("discount", "Discount %", start["discount"], placeholder="10 (a percentage)"),
            FormField("description", "Description", start["description"]),
        ],
        changed,
    )


def quote_form(deal_title: str, today: dt.date, save: Callable[[dict[str, str]], None]) -> QuickForm:
    """A new quote from the deal's lines: how long it is valid, and the file's format."""
    valid = (today + dt.timedelta(days=QUOTE_VALID_DAYS)).isoformat()
    return QuickForm(
        f"Quote for {plain(deal_title)}",
        [
            FormField("valid_until", "Valid until", valid, placeholder="2026-12-31 or +30d"),
            FormField("format", "Format", "pdf", choices=[(f, f) for f in QUOTE_FORMATS]),
        ],
        save,
    )
