"""A read-only view of one deal (its fields and stage history), opened with enter."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from crmtui.store.deals import deal_detail
from crmtui.store.money import format_money


class DealViewScreen(ModalScreen[None]):
    """The facts of a deal, looked up live (customer from its company and contact)."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="deal_view.close")]

    def __init__(self, deal_id: int, *, masked: bool = False) -> None:
        super().__init__()
        self.deal_id = deal_id
        self.masked = masked

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="deal-view-box"):
            yield Static(id="deal-view-body")
            yield Static("[dim]esc closes[/]", markup=True)

    def on_mount(self) -> None:
        with self.app.database.session() as session:
            row = deal_detail(session, self.deal_id)
        self.query_one("#deal-view-body", Static).update(render_deal(row, masked=self.masked))


def render_deal(row: dict, *, masked: bool = False) -> Table:
    def money(cents: int | None) -> str:
        return "—" if cents is None else format_money(cents, row["currency"] or "", masked=masked)

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row(Text(f"#{row['id']}", style="dim"), Text(row["title"], style="bold"))
    contact = row["contact"] or ""
    if row["contact_email"]:
        contact += f" <{row['contact_email']}>"
    profit = None if row["cost_cents"] is None else row["amount_cents"] - row["cost_cents"]
    for label, value in (
        ("Customer", row["company"] or row["contact"] or "—"),
        ("Contact", contact or "—"),
        ("Stage", f"{row['stage']} · {row['pipeline']} · {row['probability']}%"),
        ("Amount", money(row["amount_cents"])),
        ("Cost", money(row["cost_cents"])),
        ("Profit", money(profit)),
        ("Confidence", "★" * (row["confidence"] or 0) + "☆" * (5 - (row["confidence"] or 0)) if row["confidence"] else "—"),
        ("Expected close", str(row["expected_close"] or "—")),
        ("Closed", str(row["closed_on"] or "—")),
        ("Lost reason", row["lost_reason"] or "—"),
        ("Source", row["source"] or "—"),
        ("Tags", ", ".join(row["tags"]) or "—"),
        ("Proposal", row["proposal_url"] or "—"),
    ):
        grid.add_row(label, value)
    grid.add_row("", "")
    grid.add_row("History", "")
    for h in row["stage_history"]:
        grid.add_row(Text(h["at"][:10], style="dim"), f"{h['from'] + ' → ' if h['from'] else 'created in '}{h['to']}")
    return grid
