"""A company's page: its fields (custom ones too, but the hidden ones), what refers to it (every
deal — open pipeline, lifetime value, lost — and every contact), its activities; `n` starts a new
deal for it."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Static

from crmtui.screens.record_screen import RecordScreen, add_custom, links_of
from crmtui.store.activities import get_record, next_open_task, timeline
from crmtui.store.custom_fields import custom_rows
from crmtui.store.errors import NotFound
from crmtui.store.field_setup import hidden_fields
from crmtui.store.money import format_money
from crmtui.store.tags import tags_of
from crmtui.widgets.fit_table import Amount, Col, FitTable
from crmtui.widgets.footer import AppFooter
from crmtui.widgets.timeline import Timeline


def company_deals(session: Any, company_id: int) -> list[dict[str, Any]]:  # noqa: ANN401
    rows = session.execute(
        "SELECT d.id, d.title, s.name AS stage, s.kind, d.amount_cents, d.currency, d.expected_close, d.closed_on"
            " FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.company_id = :id AND d.deleted_at IS NULL"
            " ORDER BY s.kind != 'open', d.created_at DESC, d.id DESC",
        {"id": company_id},
    )
    return [dict(r) for r in rows]


def deal_totals(deals: list[dict[str, Any]]) -> dict[str, int]:
    out = {"open": 0, "open_cents": 0, "won": 0, "won_cents": 0, "lost": 0, "lost_cents": 0, "closed": 0}
    for d in deals:
        out[d["kind"]] = out.get(d["kind"], 0) + 1
        if d["kind"] in ("open", "won", "lost"):
            out[f"{d['kind']}_cents"] += d["amount_cents"]
    return out


# A record page's deals, beside its fields: on a narrow terminal the close date goes, then the stage.
DEAL_COLUMNS = [Col("#", "id"), Col("Deal", "title", shrink_to=10),
                Col("Stage", "stage", shrink_to=8, drop=1), Col("Amount", "amount"),
                Col("Close", "close", drop=2)]


def deals_table() -> FitTable:
    return FitTable(DEAL_COLUMNS, id="deals", cursor_type="row", zebra_stripes=True)


def fill_deals_table(table: FitTable, deals: list[dict[str, Any]], *, masked: bool) -> None:
    rows = []
    for d in deals:
        style = {"won": "green", "lost": "red", "closed": "dim"}.get(d["kind"], "")
        rows.append((f"deal:{d['id']}", (
            Text(str(d["id"]), style="dim"), Text(d["title"], style=style), Text(d["stage"], style=style),
            Amount(d["amount_cents"], d["currency"] or "", masked=masked),
            str(d["closed_on"] or d["expected_close"] or ""),
        )))
    table.show(rows)


def summary_line(totals: dict[str, int], masked: bool) -> str:
    m = lambda c: format_money(c, masked=masked)  # noqa: E731
    return (
        f"[b]Open pipeline[/] {m(totals['open_cents'])} ({totals['open']})   "
        f"[b]Lifetime value[/] [green]{m(totals['won_cents'])}[/] ({totals['won']} won)   "
        f"[b]Lost[/] {m(totals['lost_cents'])} ({totals['lost']})"
    )


class CompanyDetailScreen(RecordScreen):
    """One company and everything that refers to it."""

    kind = "company"
    FIRST_FOCUS = "#deals"
    CSS_PATH = "detail.tcss"
    BINDINGS = [Binding("n", "new_deal", "New deal", tooltip="Start a new deal for this company", id="company.new_deal")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="crumbs", classes="crumbs")
        yield Static("", id="next-task", classes="next-task")
        with Horizontal(id="detail-top"):
            with VerticalScroll(id="company-left"):
                yield Static("", id="facts", classes="facts")
            with Vertical(id="company-right"):
                yield Static("", id="summary", classes="summary")
                yield Static("Deals (enter opens)", classes="section-title")
                yield deals_table()
                yield Static("Contacts", classes="section-title")
                yield DataTable(id="contacts", cursor_type="row", show_header=False)
        yield Static("Activities (this company's and its deals', newest first)", classes="section-title")
        yield Timeline(id="timeline", show_deal=True)
        yield AppFooter()

    def refresh_data(self) -> None:
        try:
            with self.database.session() as s:
                company = get_record(s, "company", self.record_id)
                custom = custom_rows(s, "company", self.record_id)
                hidden = hidden_fields(s, "company")
                tags = tags_of(s, "company", self.record_id)
                deals = company_deals(s, self.record_id)
                contacts = s.execute(
                    "SELECT id, name, email, title FROM contact WHERE company_id = :id AND deleted_at IS NULL"
                         " ORDER BY name COLLATE NOCASE", {"id": self.record_id}).fetchall()
                task = next_open_task(s, "company", self.record_id)
                entries = timeline(s, "company", self.record_id)
        except NotFound:
            self.record_gone(f"Company #{self.record_id} is gone (deleted elsewhere)")
            return
        from crmtui.screens.deal_detail import task_line

        self.company_name = company.name
        self.set_crumb(company.name)
        self.query_one("#facts", Static).update(add_custom(render_company(company, tags, hidden), custom,
                                                           masked=self.masked))
        self.show_links(links_of(custom))
        self.query_one("#summary", Static).update(summary_line(deal_totals(deals), self.masked))
        self.query_one("#next-task", Static).update(task_line(task, self.today))
        fill_deals_table(self.query_one("#deals", FitTable), deals, masked=self.masked)
        table = self.query_one("#contacts", DataTable)
        table.clear(columns=True)
        table.add_column("name", width=22)
        table.add_column("email", width=44)
        for c in contacts:
            table.add_row(c[1], Text(" · ".join(x for x in (c[2], c[3]) if x), style="dim"), key=f"contact:{c[0]}")
        if not contacts:
            table.add_row(Text("no contacts", style="dim"), "", key="none")
        self.query_one(Timeline).show(entries, self.today)

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if event.data_table.id == "timeline":
            entry = self.query_one(Timeline).entries.get(key or "")
            if entry and entry.deal_id:
                self.app.open_record("deal", entry.deal_id)
            return
        self.open_linked(key)

    def action_new_deal(self) -> None:
        from crmtui.screens.edit_forms import new_deal_form

        form = new_deal_form(self.database, company=f"#{self.record_id}")

        def done(saved: bool | None) -> None:
            if saved and form.created_id:
                self.notify(f"Added deal #{form.created_id}", timeout=2)
                self.app.open_record("deal", form.created_id)

        self.app.push_screen(form, done)


def render_company(company: Any, tags: list[str], hidden: set[str] | None = None) -> Table:  # noqa: ANN401
    """The company's own fields, but the hidden ones."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(f"#{company.id}", style="dim"), Text(company.name, style="bold"))
    for field, label, value in (
        ("website", "Website", company.website), ("domain", "Domain", company.domain),
        ("email", "Email", company.email), ("phone", "Phone", company.phone), ("address", "Address", company.address),
        ("source", "Source", company.source), ("category", "Category", company.category),
        ("size", "Size", company.size), ("tags", "Tags", ", ".join(tags)), ("notes", "Notes", company.notes),
    ):
        if field not in (hidden or ()):
            grid.add_row(label, value or "—")
    return grid
