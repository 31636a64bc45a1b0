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
from crmtui.store.money import format_money
from crmtui.store.search import COMPANY_SORTS, CONTACT_SORTS, company_page, contact_page
from crmtui.widgets.footer import AppFooter

PAGE_SIZE = 100


class RecordListScreen(Screen[None]):
    """Shared by the companies and contacts lists."""

    kind = "company"
    title_text = "Companies"
    SORTS: dict[str, str] = COMPANY_SORTS
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
        yield DataTable(id="list-table", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.setup_columns(self.query_one(DataTable))
        self.watch(self.app, "privacy", lambda _m: self.load(), init=False)
        self.load()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.load()

    # --- loading ----------------------------------------------------------------------------

    def setup_columns(self, table: DataTable) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def fetch(self, session: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401  # pragma: no cover
        raise NotImplementedError

    def add_rows(self, table: DataTable, rows: list[dict[str, Any]]) -> None:  # pragma: no cover
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
        table = self.query_one(DataTable)
        table.clear()
        self.add_rows(table, rows)
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

    def setup_columns(self, table: DataTable) -> None:
        table.add_column("#", key="id", width=7)
        table.add_column("Name", key="name", width=32)
        table.add_column("Domain", key="domain", width=26)
        table.add_column("Size", key="size", width=10)
        table.add_column("Open", key="open", width=5)
        table.add_column("Lifetime value", key="won", width=14)

    def fetch(self, session: Any, **kw: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401
        return company_page(session, limit=PAGE_SIZE, **kw)

    def add_rows(self, table: DataTable, rows: list[dict[str, Any]]) -> None:
        masked = self.app.privacy
        for r in rows:
            table.add_row(
                Text(str(r["id"]), style="dim"), r["name"], r["domain"] or "", r["size"] or "",
                Text(str(r["open_deals"]), justify="right"),
                Text(format_money(r["won_cents"], masked=masked), justify="right"),
                key=f"company:{r['id']}",
            )


class ContactsScreen(RecordListScreen):
    kind = "contact"
    title_text = "Contacts"
    SORTS = CONTACT_SORTS

    def setup_columns(self, table: DataTable) -> None:
        table.add_column("#", key="id", width=7)
        table.add_column("Name", key="name", width=26)
        table.add_column("Email", key="email", width=34)
        table.add_column("Title", key="title", width=16)
        table.add_column("Company", key="company", width=26)

    def fetch(self, session: Any, **kw: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401
        return contact_page(session, limit=PAGE_SIZE, **kw)

    def add_rows(self, table: DataTable, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            table.add_row(
                Text(str(r["id"]), style="dim"), r["name"], r["email"] or "", r["title"] or "", r["company"] or "",
                key=f"contact:{r['id']}",
            )
