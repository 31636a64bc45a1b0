"""Lists of companies and of contacts: search as you type, sort, and page through them.

Only one page (PAGE_SIZE rows) is ever in the table; pages are read from SQLite with
LIMIT/OFFSET in a worker thread, so 100,000 rows cost the same as 100.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from crmtui.markup import plain
from crmtui.store.search import COMPANY_SORTS, CONTACT_SORTS, company_page, contact_page
from crmtui.widgets.fit_table import Amount, Col, FitTable, Row
from crmtui.widgets.footer import AppFooter

PAGE_SIZE = 100


class RecordListScreen(Screen[None]):
    """Shared by the companies and contacts lists."""

    kind = "company"
    title_text = "Companies"
    SORTS: dict[str, str] = COMPANY_SORTS
    COLUMNS: list[Col] = []
    CSS_PATH = "detail.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="list.back"),
        Binding("slash", "focus_search", "Search", id="list.search"),
        Binding("o", "cycle_sort", "Sort", id="list.sort"),
        Binding("right_square_bracket", "page(1)", "Next page", id="list.next_page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="list.prev_page"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_key = "name"
        self.page_offset = 0
        self.total = 0
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.title_text, id="list-title", classes="crumbs")
        yield Input(placeholder=f"Search {self.title_text.lower()} (name, email, domain) — / focuses here", id="list-search")
        yield FitTable(self.COLUMNS, id="list-table", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _m: self.load(), init=False)
        self.load()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.load()

    # --- loading ----------------------------------------------------------------------------

    def fetch(self, session: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401  # pragma: no cover
        raise NotImplementedError

    def table_rows(self, rows: list[dict[str, Any]]) -> list[Row]:  # pragma: no cover
        raise NotImplementedError

    def load(self) -> None:
        self._load(self.query_text, self.sort_key, self.page_offset)

    @work(thread=True, exclusive=True, group="record-list")
    def _load(self, search: str, sort: str, offset: int) -> None:
        with self.app.database.session() as s:
            total, rows = self.fetch(s, search=search, sort=sort, offset=offset)
        self.app.call_from_thread(self._show, search, sort, offset, total, rows)

    def _show(self, search: str, sort: str, offset: int, total: int, rows: list[dict[str, Any]]) -> None:
        if (search, sort, offset) != (self.query_text, self.sort_key, self.page_offset):
            return  # an older request finished after a newer one was made
        self.total = total
        self.query_one(FitTable).show(self.table_rows(rows))
        last = min(offset + PAGE_SIZE, total)
        what = f"matching {plain(repr(search))}" if search else "in all"
        page = f"{offset + 1:,}–{last:,} of {total:,} {what}" if total else f"none {what}"
        self.query_one("#list-title", Static).update(
            f"[b]{self.title_text}[/]  {page}  ·  sorted by [b]{sort}[/] (o)  ·  [ ] pages  ·  enter opens"
        )

    # --- keys -------------------------------------------------------------------------------

    @on(Input.Changed, "#list-search")
    def _search(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.page_offset = 0
        self.load()

    @on(Input.Submitted, "#list-search")
    def _to_table(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        kind, _, raw = (event.row_key.value or "").partition(":")
        if raw.isdigit():
            self.app.open_record(kind, int(raw))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_search(self) -> None:
        self.query_one(Input).focus()

    def action_cycle_sort(self) -> None:
        names = list(self.SORTS)
        self.sort_key = names[(names.index(self.sort_key) + 1) % len(names)]
        self.page_offset = 0
        self.load()

    def action_page(self, step: int) -> None:
        offset = self.page_offset + step * PAGE_SIZE
        if offset < 0 or offset >= max(self.total, 1):
            self.notify("No more pages that way", timeout=2)
            return
        self.page_offset = offset
        self.load()


class CompaniesScreen(RecordListScreen):
    kind = "company"
    title_text = "Companies"
    SORTS = COMPANY_SORTS
    COLUMNS = [
        Col("#", "id"), Col("Name", "name", shrink_to=14), Col("Domain", "domain", shrink_to=12),
        Col("Size", "size", shrink_to=6, drop=1), Col("Open", "open"), Col("Lifetime value", "won"),
    ]

    def fetch(self, session: Any, **kw: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401
        return company_page(session, limit=PAGE_SIZE, **kw)

    def table_rows(self, rows: list[dict[str, Any]]) -> list[Row]:
        masked = self.app.privacy
        return [(f"company:{r['id']}", (
            Text(str(r["id"]), style="dim"), r["name"], r["domain"], r["size"],
            Text(str(r["open_deals"]), justify="right"), Amount(r["won_cents"], masked=masked),
        )) for r in rows]


class ContactsScreen(RecordListScreen):
    kind = "contact"
    title_text = "Contacts"
    SORTS = CONTACT_SORTS
    COLUMNS = [
        Col("#", "id"), Col("Name", "name", shrink_to=14), Col("Email", "email", shrink_to=14),
        Col("Title", "title", shrink_to=6, drop=1), Col("Company", "company", shrink_to=10),
    ]

    def fetch(self, session: Any, **kw: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401
        return contact_page(session, limit=PAGE_SIZE, **kw)

    def table_rows(self, rows: list[dict[str, Any]]) -> list[Row]:
        return [(f"contact:{r['id']}", (Text(str(r["id"]), style="dim"), r["name"], r["email"], r["title"], r["company"]))
                for r in rows]
