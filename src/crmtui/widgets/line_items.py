"""A deal's Products section: its line items in a table (enter edits a line, ctrl+up/down moves it,
delete removes it) and the totals under them; and its quotes, with keys to record the customer's
answer. The tables post what the user asks for; the deal page does the writing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from crmtui.store.line_totals import Totals, percent_text
from crmtui.store.money import format_money

EMPTY_LINES = "No line items — + adds one; the deal keeps its typed amount"


class LineTable(DataTable):
    """The deal's lines, one row each, keyed `line:<id>`."""

    DEFAULT_CSS = "LineTable { height: auto; max-height: 9; }"
    BINDINGS = [
        Binding("enter", "edit_line", "Edit line", tooltip="Edit the line's quantity, price, discount and"
                " description", id="lines.edit", show=False),
        Binding("ctrl+up", "move_line(-1)", "Move up", tooltip="Move the line up", id="lines.up", show=False),
        Binding("ctrl+down", "move_line(1)", "Move down", tooltip="Move the line down", id="lines.down", show=False),
        Binding("delete", "remove_line", "Remove line", tooltip="Remove the line (u undoes)", id="lines.remove",
                show=False),
    ]

    class LineAction(Message):
        """The user asked to edit (`step` 0), move (-1/+1) or remove (`remove`) a line."""

        def __init__(self, line_id: int, *, step: int = 0, remove: bool = False) -> None:
            super().__init__()
            self.line_id = line_id
            self.step = step
            self.remove = remove

    def __init__(self, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def _add_columns(self) -> None:
        # The product's name takes what the figures leave of the screen's width.
        self.add_column("#", key="pos", width=2)
        self.add_column("Product", key="product", width=max(16, min(40, self.app.size.width - 54)))
        for label, key in (("Qty", "qty"), ("Unit", "unit"), ("Price", "price"), ("Disc.", "disc"),
                           ("Tax", "tax"), ("Net", "net")):
            self.add_column(Text(label, justify="left" if key == "unit" else "right"), key=key)

    def show(self, rows: Sequence[Any], *, masked: bool) -> None:  # noqa: ANN401
        """Fill the table with the deal's lines, keeping the cursor on the same line."""
        keep = self.cursor_row
        selected = self.selected_id()
        self.clear(columns=True)
        self._add_columns()
        for n, row in enumerate(rows, 1):
            self.add_row(*line_cells(n, row, masked=masked), key=f"line:{row['id']}")
        ids = [row["id"] for row in rows]
        if selected in ids:
            self.move_cursor(row=ids.index(selected))
        elif rows:
            self.move_cursor(row=min(keep, len(rows) - 1))

    def select_line(self, line_id: int) -> None:
        try:
            self.move_cursor(row=self.get_row_index(f"line:{line_id}"))
        except Exception:  # noqa: BLE001 - no such row (gone meanwhile)
            pass

    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return int(key.removeprefix("line:")) if key else None

    def _post(self, **kwargs: Any) -> None:  # noqa: ANN401
        line_id = self.selected_id()
        if line_id is not None:
            self.post_message(self.LineAction(line_id, **kwargs))

    def action_edit_line(self) -> None:
        self._post()

    def action_move_line(self, step: int) -> None:
        self._post(step=step)

    def action_remove_line(self) -> None:
        self._post(remove=True)


def line_cells(n: int, row: Any, *, masked: bool) -> list[Text]:  # noqa: ANN401
    """A line as the table shows it: the product's name (or the description), with the
    description beside a product's name."""
    name = row["product"] or row["description"] or "—"
    product = Text(name)
    if row["product"] and row["description"] and row["description"] != row["product"]:
        product.append(f"  {row['description']}", style="dim")
    discount = f"{percent_text(row['discount_bp'])} %" if row["discount_bp"] else ""
    return [
        Text(str(n), style="dim"),
        product,
        Text(row["quantity"], justify="right"),
        Text(row["unit"] or ""),
        Text(format_money(row["unit_price_cents"], masked=masked), justify="right"),
        Text(discount, justify="right"),
        Text(f"{percent_text(row['tax_bp'])} %", justify="right"),
        Text(format_money(row["net_cents"], masked=masked), justify="right", style="bold"),
    ]


def render_totals(totals: Totals, currency: str, *, masked: bool) -> Text:
    """Subtotal, discounts, net, tax per rate and total, on one line (wrapping on a narrow screen)."""
    def money(cents: int) -> str:
        return format_money(cents, currency, masked=masked)

    parts: list[tuple[str, str]] = [("Subtotal", money(totals.subtotal_cents))]
    discounts = totals.line_discount_cents + totals.deal_discount_cents
    if discounts:
        parts.append(("Discounts", "−" + money(discounts) if not masked else money(discounts)))
    parts.append(("Net", money(totals.net_cents)))
    for rate in totals.taxes:
        if rate.rate_bp:
            parts.append((f"Tax {percent_text(rate.rate_bp)} %", money(rate.tax_cents)))
    parts.append(("Total", money(totals.total_cents)))
    line = Text(justify="right")
    for i, (label, value) in enumerate(parts):
        if i:
            line.append("  ·  ", style="dim")
        line.append(f"{label} ", style="dim")
        line.append(value, style="bold" if label in ("Net", "Total") else "")
    return line


class QuoteTable(DataTable):
    """The deal's quotes, newest first, keyed `quote:<id>`: s sent, y accepted, x declined; enter
    (the table's own) opens the file."""

    DEFAULT_CSS = "QuoteTable { height: auto; max-height: 5; }"
    BINDINGS = [
        Binding("s", "answer('sent')", "Sent", tooltip="Mark the quote under the cursor sent", id="quotes.sent",
                show=False),
        Binding("y", "answer('accepted')", "Accepted", tooltip="The customer accepted the quote under the cursor"
                " (may move the deal: settings)", id="quotes.accept", show=False),
        Binding("x", "answer('declined')", "Declined", tooltip="The customer declined the quote under the cursor"
                " (asks whether the deal is lost)", id="quotes.decline", show=False),
    ]

    class StatusRequested(Message):
        def __init__(self, quote_id: int, status: str) -> None:
            super().__init__()
            self.quote_id = quote_id
            self.status = status

    def __init__(self, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(cursor_type="row", show_header=False, **kwargs)

    def on_mount(self) -> None:
        for label, key in (("Number", "number"), ("Status", "status"), ("Total", "total"), ("Valid until", "valid")):
            self.add_column(label, key=key)

    def show(self, quotes: Sequence[dict[str, Any]], *, masked: bool) -> None:
        keep = self.cursor_row
        self.clear()
        for quote in quotes:
            valid = quote["valid_until"]
            self.add_row(
                Text(quote["number"], style="bold"),
                Text(quote["status"], style=STATUS_STYLE.get(quote["status"], "")),
                Text(format_money(quote["total_cents"], quote.get("currency") or "", masked=masked), justify="right"),
                Text(f"until {valid}" if valid else "", style="dim"),
                key=f"quote:{quote['id']}",
            )
        if quotes:
            self.move_cursor(row=min(keep, len(quotes) - 1))

    def action_answer(self, status: str) -> None:
        if not self.row_count:
            return
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        if key:
            self.post_message(self.StatusRequested(int(key.removeprefix("quote:")), status))


STATUS_STYLE = {"accepted": "bold green", "declined": "red", "expired": "dim", "sent": "cyan"}
