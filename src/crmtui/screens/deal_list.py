"""The deals behind a figure of the dashboard (a bar, a breakdown row, a stat card).

Paged from SQLite (a page of rows in the table at a time, never the whole list), loaded in a
worker; enter opens the deal.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from crmtui.store.errors import CrmError
from crmtui.store.reports import Drill, ReportFilter, drill_count, drill_page
from crmtui.widgets.fit_table import Amount, Col, FitTable
from crmtui.widgets.footer import AppFooter

PAGE_SIZE = 100
# Free text gives way first; on a narrow terminal the created date goes before the close date.
COLUMNS = [
    Col("ID", "id"), Col("Title", "title", shrink_to=12), Col("Customer", "customer", shrink_to=10),
    Col("Stage", "stage", shrink_to=8), Col("Amount", "amount"), Col("Created", "created", drop=1),
    Col("Close", "close"),
]


class DealListScreen(Screen[None]):
    """A page of the deals behind one figure; `]` and `[` turn pages."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="deal_list.back"),
        Binding("right_square_bracket", "page(1)", "Next page", id="deal_list.next_page"),
        Binding("left_square_bracket", "page(-1)", "Previous page", id="deal_list.previous_page"),
        Binding("r", "reload", "Refresh", id="deal_list.refresh"),
    ]

    def __init__(self, filt: ReportFilter, drill: Drill, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self.filt = filt
        self.drill = drill
        self.page_size = page_size
        self.page = 0
        self.total = 0
        self.heading = ""
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="deal-list-title", classes="screen-title")
        yield FitTable(COLUMNS, id="deal-list-table", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = "Deals"
        self.watch(self.app, "privacy", lambda _on: self._fill(), init=False)
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.rows:  # back from a deal: it may have changed
            self.action_reload()

    def action_reload(self) -> None:
        self.query_one(DataTable).loading = not self.rows
        self._load(self.page)

    def action_page(self, step: int) -> None:
        last = max(0, (self.total - 1) // self.page_size)
        target = max(0, min(last, self.page + step))
        if target != self.page:
            self._load(target)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            last = max(0, (self.total - 1) // self.page_size)
            step = int(parameters[0]) if parameters else 0
            return None if not 0 <= self.page + step <= last else True
        return True

    @work(thread=True, exclusive=True, group="deal-list")
    def _load(self, page: int) -> None:
        worker = get_current_worker()
        try:
            with self.app.database.session() as session:
                total, heading = drill_count(session, self.filt, self.drill)
                page = min(page, max(0, (total - 1) // self.page_size))
                rows = drill_page(session, self.filt, self.drill, offset=page * self.page_size, limit=self.page_size)
        except CrmError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, page, total, heading, rows)

    def _failed(self, message: str) -> None:
        self.query_one(DataTable).loading = False
        self.query_one("#deal-list-title", Static).update(Text(message, style="bold red"))

    def _loaded(self, page: int, total: int, heading: str, rows: list[dict[str, Any]]) -> None:
        self.page, self.total, self.heading, self.rows = page, total, heading, rows
        self.query_one(DataTable).loading = False
        self._fill()
        self.refresh_bindings()

    def _fill(self) -> None:
        masked = self.app.privacy
        rows = []
        for r in self.rows:
            close = str(r["close_date"] or "")
            if close and not r["closed"]:
                close += " (exp.)"
            rows.append((str(r["id"]), (
                Text(str(r["id"]), justify="right"),
                r["title"],
                r["customer"],
                r["stage"],
                Amount(r["amount_cents"], r["currency"] or "", masked=masked),
                r["created"],
                close,
            )))
        self.query_one(FitTable).show(rows)
        first = self.page * self.page_size + 1
        last = self.page * self.page_size + len(self.rows)
        span = f"{first:,}–{last:,} of {self.total:,}" if self.total else "no deals"
        pages = max(1, (self.total + self.page_size - 1) // self.page_size)
        where = [self.filt.label(), f"pipeline {self.filt.pipeline}" if self.filt.pipeline else "all pipelines"]
        if self.filt.tag:
            where.append(f"tag {self.filt.tag}")
        title = Text()
        title.append(self.heading, style="bold")
        title.append(f"  ·  {' · '.join(where)}  ·  {span}", style="")
        if pages > 1:
            title.append(f"  ·  page {self.page + 1} of {pages}", style="dim")
        self.query_one("#deal-list-title", Static).update(title)

    @on(DataTable.RowSelected, "#deal-list-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.open_record("deal", int(event.row_key.value))
