"""The trash: deleted deals, companies, contacts and activities; `r` (or enter) restores one."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from crmtui.store.errors import CrmError
from crmtui.store.trash import trash_count, trash_list
from crmtui.widgets.fit_table import Col, FitTable
from crmtui.widgets.footer import AppFooter

SHOWN = 500  # the newest deletions; the CLI lists the same


class TrashScreen(Screen[None]):
    CSS_PATH = "detail.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="trash.back"),
        Binding("r", "restore", "Restore", id="trash.restore"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Trash", id="trash-title", classes="crumbs")
        yield FitTable([Col("ID", "ref"), Col("Kind", "kind"), Col("What", "label", shrink_to=16),
                        Col("Deleted", "deleted")], id="trash-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="trash-empty", classes="empty-state")
        yield AppFooter()

    def on_mount(self) -> None:
        self.refresh_data()
        self.query_one(DataTable).focus()

    def refresh_data(self) -> None:
        with self.app.database.session() as s:
            rows = trash_list(s, limit=SHOWN)
            total = trash_count(s)
        table = self.query_one(FitTable)
        table.show((r["ref"], (r["ref"], r["kind"], r["label"], Text(r["deleted_at"][:16].replace("T", " "), style="dim")))
                   for r in rows)
        shown = f" (the newest {SHOWN:,} of {total:,})" if total > SHOWN else f" ({total:,})"
        self.query_one("#trash-title", Static).update(f"[b]Trash[/]{shown}  ·  r or enter restores")
        empty = self.query_one("#trash-empty", Static)
        empty.update("The trash is empty. Deleting a deal, company or contact (delete key on its page) puts it here.")
        empty.display = total == 0
        table.display = total > 0

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_restore()

    def action_restore(self) -> None:
        from crmtui.store.trash import restore

        table = self.query_one(DataTable)
        if not table.row_count:
            return
        ref = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        try:
            with self.app.database.session() as s:
                done, label = restore(s, ref)
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify(f"Restored {done.kind} {label!r}", timeout=3)
        self.refresh_data()

    def action_back(self) -> None:
        self.app.pop_screen()
