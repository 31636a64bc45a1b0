"""Add a line to a deal: a product found as you type, or a line of free text with its price."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.store.errors import ValidationError
from crmtui.store.line_totals import percent_text
from crmtui.store.money import format_money, parse_amount
from crmtui.store.products import search_products

FREE_TEXT = "free"  # the option id of "a line of its own"


@dataclass(frozen=True)
class PickedLine:
    """What to add: a product (`#12`) or free text with the price typed for it."""

    ref: str
    name: str  # what the user picked, for the notice
    price: str | None = None


class ProductPicker(ModalScreen[PickedLine | None]):
    """Type part of a product's name or code: the list follows; enter adds the highlighted product.
    Text that no product matches is offered as a line of its own, which asks for a price."""

    DEFAULT_CSS = """
    ProductPicker { align: center middle; }
    ProductPicker > #picker-box {
        width: 76; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
        border: round $primary; background: $surface;
    }
    ProductPicker #picker-list { height: auto; max-height: 10; }
    ProductPicker #picker-price { display: none; }
    ProductPicker #picker-hint { color: $text-muted; }
    ProductPicker #picker-error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="product_picker.cancel"),
        Binding("down", "cursor(1)", "Next", show=False, id="product_picker.down"),
        Binding("up", "cursor(-1)", "Previous", show=False, id="product_picker.up"),
    ]

    def __init__(self, database, title: str, *, masked: bool = False) -> None:  # noqa: ANN001
        super().__init__()
        self.database = database
        self.title_text = title
        self.masked = masked
        self.free_text = ""  # the text of a line of its own, once chosen: then the price is asked
        self.names: dict[str, str] = {}  # option id -> product name

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield Input(placeholder="type part of a product's name or code", id="picker-text")
            yield OptionList(id="picker-list")
            yield Input(placeholder="price, e.g. 1200 or 99.50", id="picker-price")
            yield Static("", id="picker-error", markup=False)
            yield Static("enter adds the highlighted one · ↑↓ choose · esc cancels", id="picker-hint", markup=False)

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#picker-text", Input).focus()

    @on(Input.Changed, "#picker-text")
    def _typed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        with self.database.session(write=False) as s:
            found = search_products(s, text, limit=20)
        self.names = {str(row["id"]): row["name"] for row in found}
        options = [Option(self._label(row), id=str(row["id"])) for row in found]
        typed = " ".join(text.split())
        if typed and not any(typed.lower() in (row["name"].lower(), (row["code"] or "").lower()) for row in found):
            options.append(Option(Text.assemble(("+ ", "bold"), f"“{typed}” as a line of its own ",
                                                ("(asks for a price)", "dim")), id=FREE_TEXT))
        listing = self.query_one("#picker-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        listing.display = bool(options)
        if options:
            listing.highlighted = 0

    def _label(self, row) -> Text:  # noqa: ANN001
        price = format_money(row["price_cents"], row["currency"] or "", masked=self.masked)
        label = Text.assemble((row["name"], "bold"))
        if row["code"]:
            label.append(f"  {row['code']}", style="dim")
        label.append(f"  {price} / {row['unit']}")
        if row["tax_bp"]:
            label.append(f"  tax {percent_text(row['tax_bp'])} %", style="dim")
        return label

    def action_cursor(self, step: int) -> None:
        listing = self.query_one("#picker-list", OptionList)
        if self.free_text or not listing.option_count:
            return
        current = listing.highlighted if listing.highlighted is not None else -step
        listing.highlighted = max(0, min(listing.option_count - 1, current + step))

    @on(OptionList.OptionSelected, "#picker-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    @on(Input.Submitted, "#picker-text")
    def _entered(self, event: Input.Submitted) -> None:
        listing = self.query_one("#picker-list", OptionList)
        if listing.highlighted is None or not listing.option_count:
            self.query_one("#picker-error", Static).update("type part of a product's name, or a line of your own")
            return
        self._choose(listing.get_option_at_index(listing.highlighted).id)

    def _choose(self, option_id: str | None) -> None:
        if option_id != FREE_TEXT:
            self.dismiss(PickedLine(f"#{option_id}", self.names[option_id]))
            return
        self.free_text = " ".join(self.query_one("#picker-text", Input).value.split())
        self.query_one("#picker-list", OptionList).display = False
        self.query_one("#picker-text", Input).disabled = True
        price = self.query_one("#picker-price", Input)
        price.display = True
        price.focus()
        self.query_one("#picker-hint", Static).update(f"the price of “{self.free_text}”, then enter · esc cancels")

    @on(Input.Submitted, "#picker-price")
    def _priced(self, event: Input.Submitted) -> None:
        try:
            cents = parse_amount(event.value, field="price")
        except ValidationError as exc:
            self.query_one("#picker-error", Static).update(exc.message)
            return
        if cents is None:
            self.query_one("#picker-error", Static).update("price: required for a line of its own")
            return
        self.dismiss(PickedLine(self.free_text, self.free_text, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
