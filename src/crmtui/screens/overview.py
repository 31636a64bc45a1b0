"""The opening screen until the board lands: open deals by stage, read from the store."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from crmtui.store.money import format_money
from crmtui.store.reports_basic import stage_totals

EMPTY_TEXT = """[b]No deals yet.[/b]

Add one from the shell:      [b]crmtui add deal "Website relaunch" --company Acme --amount 12500[/b]
Import a CSV:                [b]crmtui import deals.csv[/b]
Or try it with sample data:  [b]crmtui demo[/b]

Then press [b]r[/b] here to refresh."""


class OverviewScreen(Screen[None]):
    """Every stage of the default pipeline with its deal count, total and weighted total."""

    BINDINGS = [Binding("r", "refresh_data", "Refresh", id="overview.refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="overview-summary", classes="screen-title")
        yield DataTable(id="overview-table", cursor_type="row", zebra_stripes=True)
        yield Static(EMPTY_TEXT, id="overview-empty", classes="empty-state", markup=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Stage", key="stage")
        table.add_column("Kind", key="kind")
        table.add_column("Deals", key="deals")
        table.add_column("Amount", key="amount")
        table.add_column("Weighted", key="weighted")
        self.action_refresh_data()
        self.watch(self.app, "privacy", lambda _masked: self.action_refresh_data(), init=False)

    def action_refresh_data(self) -> None:
        with self.app.database.session() as session:
            pipeline, rows = stage_totals(session)
        masked = self.app.privacy
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(
                r["stage"],
                r["kind"],
                Text(f"{r['deals']:,}", justify="right"),
                Text(format_money(r["amount_cents"], masked=masked), justify="right"),
                Text(format_money(r["weighted_cents"], masked=masked), justify="right"),
                key=str(r["stage_id"]),
            )
        open_rows = [r for r in rows if r["kind"] == "open"]
        total = sum(r["deals"] for r in rows)
        summary = (
            f"{pipeline.name}: {sum(r['deals'] for r in open_rows):,} open deals, "
            f"pipeline {format_money(sum(r['amount_cents'] for r in open_rows), masked=masked)}, "
            f"weighted {format_money(sum(r['weighted_cents'] for r in open_rows), masked=masked)}"
        )
        self.query_one("#overview-summary", Static).update(summary)
        self.query_one("#overview-empty").display = total == 0
        table.display = total > 0
