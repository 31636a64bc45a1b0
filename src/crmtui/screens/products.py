"""The catalogue (R): every product with its code, unit, price, tax rate and cost; search as you
type, add (a), edit (e or enter), archive (x, asked first; x again brings an archived one back),
show the archived ones (v), undo (u).

A catalogue is tens to hundreds of products: it is read whole, inline, on each change.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from crmtui.markup import plain
from crmtui.screens.edit_forms import ConfirmScreen, FormField, FormScreen
from crmtui.store.errors import CrmError, ValidationError
from crmtui.widgets.fit_table import Amount, Col, FitTable, Row
from crmtui.widgets.footer import AppFooter

MAX_SHOWN = 5000  # a catalogue is small: more than this is a mistake, not a catalogue

COLUMNS = [
    Col("Name", "name", shrink_to=14), Col("Code", "code", shrink_to=6, drop=2), Col("Unit", "unit", shrink_to=5),
    Col("Price", "price"), Col("Tax", "tax"), Col("Cost", "cost", drop=1), Col("Active", "active", drop=3),
]


class ProductsScreen(Screen[None]):
    """The catalogue of what is sold."""

    CSS_PATH = "products.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="products.back"),
        Binding("slash", "focus_search", "Search", id="products.search"),
        Binding("a", "add", "Add", id="products.add"),
        Binding("e", "edit", "Edit", id="products.edit"),
        Binding("x,delete", "archive", "Archive", tooltip="Archive (or bring back) the product",
                id="products.archive"),
        Binding("v", "toggle_archived", "Archived", tooltip="Show or hide the archived products",
                id="products.archived"),
        Binding("u", "undo", "Undo", id="products.undo"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.show_archived = False
        self.shown: list[Any] = []  # the products in the table, in its order

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Products", id="products-title")
        yield Input(placeholder="Search products (name, code, description) — / focuses here", id="products-search")
        yield FitTable(COLUMNS, id="products-table", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _on: self.load(), init=False)
        self.load()
        self.query_one(FitTable).focus()

    # --- loading ----------------------------------------------------------------------------

    def load(self, select_id: int | None = None) -> None:
        """Read the products matching the search and show them (the cursor on `select_id` when given)."""
        from crmtui.store.products import search_products

        with self.app.database.session(write=False) as s:
            self.shown = [dict(p) for p in search_products(s, self.query_text, limit=MAX_SHOWN,
                                                           include_archived=self.show_archived)]
        table = self.query_one(FitTable)
        table.show(self._rows())
        if select_id is not None:
            at = next((n for n, p in enumerate(self.shown) if p["id"] == select_id), None)
            if at is not None:
                table.move_cursor(row=at)
        what = f"matching {plain(repr(self.query_text))}" if self.query_text else "in the catalogue"
        archived = "archived shown" if self.show_archived else "archived hidden"
        self.query_one("#products-title", Static).update(
            f"[b]Products[/]  {len(self.shown):,} {what}  ·  {archived} (v)  ·  a adds  ·  enter edits"
            "  ·  x archives")

    def _rows(self) -> list[Row]:
        from crmtui.store.line_totals import percent_text

        masked = self.app.privacy
        rows: list[Row] = []
        for p in self.shown:
            style = "dim" if p["archived_at"] else ""
            rows.append((f"product:{p['id']}", (
                Text(p["name"], style=style), p["code"], p["unit"],
                Amount(p["price_cents"], p["currency"] or "", masked=masked, style=style),
                Text(f"{percent_text(p['tax_bp'])} %", justify="right", style=style),
                Amount(p["cost_cents"], p["currency"] or "", masked=masked, style=style),
                Text("archived" if p["archived_at"] else "yes", style=style),
            )))
        return rows

    def current(self) -> Any | None:  # noqa: ANN401 - a product row
        """The product under the cursor, or None when the table is empty."""
        table = self.query_one(FitTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value or ""
        product_id = int(key.partition(":")[2])
        return next((p for p in self.shown if p["id"] == product_id), None)

    # --- keys -------------------------------------------------------------------------------

    @on(Input.Changed, "#products-search")
    def _search(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.load()

    @on(Input.Submitted, "#products-search")
    def _to_table(self) -> None:
        self.query_one(FitTable).focus()

    @on(DataTable.RowSelected, "#products-table")
    def _open(self, _event: DataTable.RowSelected) -> None:
        self.action_edit()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_search(self) -> None:
        self.query_one(Input).focus()

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.load()

    def action_add(self) -> None:
        from crmtui.store.products import add_product

        form = FormScreen("New product", product_fields(None), lambda values: self._write(
            lambda s: add_product(s, values["name"], **{k: v for k, v in values.items() if k != "name"}), form))
        self.app.push_screen(form, lambda saved: self.load(form.created_id) if saved else None)

    def action_edit(self) -> None:
        from crmtui.store.products import set_product_fields

        product = self.current()
        if product is None:
            self.notify("No product to edit: a adds one", timeout=3)
            return
        form = FormScreen(f"Edit {product['name']}", product_fields(product), lambda values: self._write(
            lambda s: set_product_fields(s, f"#{product['id']}", values)[0], form))
        self.app.push_screen(form, lambda saved: self.load(product["id"]) if saved else None)

    def _write(self, change: Any, form: FormScreen) -> None:  # noqa: ANN401
        """Run one store write for a form (its CrmError keeps the form open with the reason)."""
        with self.app.database.session() as s:
            form.created_id = change(s).id

    def action_archive(self) -> None:
        from crmtui.store.products import archive_product, restore_product

        product = self.current()
        if product is None:
            return
        if product["archived_at"]:
            self._run(restore_product, product, f"Brought back {product['name']}")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(archive_product, product, f"Archived {product['name']} (u undoes)")

        self.app.push_screen(ConfirmScreen(
            f"Archive {product['name']!r}? It is no longer offered for new lines; the lines and quotes"
            " that name it keep it.", yes="Archive", no="Keep"), answered)

    def _run(self, write: Any, product: Any, said: str) -> None:  # noqa: ANN401
        try:
            with self.app.database.session() as s:
                write(s, f"#{product['id']}")
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return
        self.load(product["id"])
        self.notify(said, timeout=3)

    def action_undo(self) -> None:
        from crmtui.screens.confirm import undo_last_in

        label = undo_last_in(self, "products")
        if label is None:
            return
        current = self.current()
        self.load(current["id"] if current else None)
        self.notify(f"Undone: {label}", timeout=3)


def _check(field: str) -> Any:  # noqa: ANN401
    """A form check: the store's own check of the field, its reason without the field's name."""
    from crmtui.store.products import clean_value

    def check(text: str) -> str | None:
        try:
            clean_value(field, text)
        except ValidationError as exc:
            return exc.message.removeprefix(f"{field}: ")
        return None

    return check


def product_fields(product: Any | None) -> list[FormField]:  # noqa: ANN401 - a product row, None for a new one
    """The product form's fields, filled from `product`."""
    from crmtui.store.line_totals import percent_text
    from crmtui.store.money import format_money_input

    p = product or {}

    def value(key: str) -> str:
        return "" if p.get(key) is None else str(p[key])

    return [
        FormField("name", "Name", value("name"), _check("name")),
        FormField("code", "Code", value("code"), _check("code"), placeholder="optional, unique (SKU)"),
        FormField("unit", "Unit", value("unit"), _check("unit"), placeholder="piece",
                  suggestions=["hour", "day", "piece", "month", "year", "licence", "project"]),
        FormField("price", "Unit price", format_money_input(p["price_cents"]) if p else "", _check("price"),
                  placeholder="e.g. 1200"),
        FormField("tax", "Tax %", percent_text(p["tax_bp"]) if p else "", _check("tax"), placeholder="e.g. 25"),
        FormField("cost", "Cost per unit", format_money_input(p.get("cost_cents")), _check("cost"),
                  placeholder="optional: what a unit costs you"),
        FormField("currency", "Currency", value("currency"), _check("currency"),
                  placeholder="the database's currency when empty"),
        FormField("description", "Description", value("description"), _check("description")),
    ]
