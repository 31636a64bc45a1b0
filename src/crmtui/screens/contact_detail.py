"""A contact's page: their fields (custom ones too, but the hidden ones), their company, their deals
and their activities."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Static

from crmtui.screens.company_detail import deal_totals, deals_table, fill_deals_table, summary_line
from crmtui.screens.record_screen import RecordScreen, add_custom, links_of
from crmtui.store.activities import get_record, next_open_task, timeline
from crmtui.store.custom_fields import custom_rows
from crmtui.store.errors import NotFound
from crmtui.store.field_setup import hidden_fields
from crmtui.store.tags import tags_of
from crmtui.widgets.fit_table import FitTable
from crmtui.widgets.footer import AppFooter
from crmtui.widgets.timeline import Timeline


class ContactDetailScreen(RecordScreen):
    """One person, their company and deals."""

    kind = "contact"
    FIRST_FOCUS = "#related, #deals"  # the company, else (its field hidden) the deals
    CSS_PATH = "detail.tcss"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="crumbs", classes="crumbs")
        yield Static("", id="next-task", classes="next-task")
        with Horizontal(id="detail-top"):
            with VerticalScroll(id="contact-left"):
                yield Static("", id="facts", classes="facts")
                yield Static("Company (enter opens)", id="related-title", classes="section-title")
                yield DataTable(id="related", cursor_type="row", show_header=False)
            with Vertical(id="contact-right"):
                yield Static("", id="summary", classes="summary")
                yield Static("Deals (enter opens)", classes="section-title")
                yield deals_table()
        yield Static("Activities (newest first)", classes="section-title")
        yield Timeline(id="timeline", show_deal=True)
        yield AppFooter()

    def refresh_data(self) -> None:
        try:
            with self.database.session() as s:
                contact = get_record(s, "contact", self.record_id)
                custom = custom_rows(s, "contact", self.record_id)
                hidden = hidden_fields(s, "contact")
                tags = tags_of(s, "contact", self.record_id)
                company = s.execute(
                    "SELECT id, name, domain, deleted_at FROM company WHERE id = :id", {"id": contact.company_id}
                ).fetchone() if contact.company_id else None
                deals = [dict(r) for r in s.execute(
                    "SELECT d.id, d.title, s.name AS stage, s.kind, d.amount_cents, d.currency, d.expected_close,"
                         " d.closed_on"
                         " FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.contact_id = :id AND d.deleted_at IS NULL"
                         " ORDER BY s.kind != 'open', d.created_at DESC, d.id DESC", {"id": self.record_id})]
                task = next_open_task(s, "contact", self.record_id)
                entries = timeline(s, "contact", self.record_id)
        except NotFound:
            self.record_gone(f"Contact #{self.record_id} is gone (deleted elsewhere)")
            return
        from crmtui.screens.deal_detail import task_line

        self.set_crumb(contact.name)
        facts = render_contact(contact, tags, company[1] if company else None, hidden)
        self.query_one("#facts", Static).update(add_custom(facts, custom, masked=self.masked))
        self.show_links(links_of(custom))
        for widget in self.query("#related-title, #related"):
            widget.display = "company" not in hidden
        self.query_one("#summary", Static).update(summary_line(deal_totals(deals), self.masked))
        self.query_one("#next-task", Static).update(task_line(task, self.today))
        related = self.query_one("#related", DataTable)
        related.clear(columns=True)
        related.add_column("name")
        if company:
            label = company[1] + (f" · {company[2]}" if company[2] else "") + (" (in trash)" if company[3] else "")
            related.add_row(label, key=f"company:{company[0]}")
        else:
            related.add_row(Text("no company (a private customer) — e sets one", style="dim"), key="none")
        fill_deals_table(self.query_one("#deals", FitTable), deals, masked=self.masked)
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


def render_contact(
    contact: Any, tags: list[str], company: str | None, hidden: set[str] | None = None  # noqa: ANN401
) -> Table:
    """The contact's own fields, but the hidden ones."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(f"#{contact.id}", style="dim"), Text(contact.name, style="bold"))
    for field, label, value in (
        ("title", "Title", contact.title), ("company", "Company", company), ("email", "Email", contact.email),
        ("phone", "Phone", contact.phone), ("tags", "Tags", ", ".join(tags)), ("notes", "Notes", contact.notes),
    ):
        if field not in (hidden or ()):
            grid.add_row(label, value or "—")
    return grid
