"""The trash: deleted deals, companies, contacts and activities; `r` (or enter) restores one.
At start-up the app offers to erase what has been there longer than the `trash-days` setting."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from crmtui.store.errors import CrmError
from crmtui.store.settings import get_setting
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
        from crmtui.store.trash import trash_count, trash_list

        with self.app.database.session() as s:
            rows = trash_list(s, limit=SHOWN)
            total = trash_count(s)
            days = get_setting(s, "trash-days")
        table = self.query_one(FitTable)
        table.show((r["ref"], (r["ref"], r["kind"], r["label"], Text(r["deleted_at"][:16].replace("T", " "), style="dim")))
                   for r in rows)
        shown = f" (the newest {SHOWN:,} of {total:,})" if total > SHOWN else f" ({total:,})"
        kept = f"kept {days} day{'s' if days != 1 else ''}, then erased" if days else "kept until emptied"
        self.query_one("#trash-title", Static).update(f"[b]Trash[/]{shown}  ·  {kept}  ·  r or enter restores")
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


# --- the offer at start-up ---------------------------------------------------------------------


def offer_to_empty(app: Any) -> None:  # noqa: ANN401 - the CrmApp (which imports this module)
    """In a worker thread at start-up: when the trash holds records deleted longer ago than the
    `trash-days` setting, ask once whether to erase them for good. No keeps them until tomorrow."""
    from crmtui.store.erasure import trash_offer

    try:
        offer = trash_offer(app.database)
    except CrmError:
        return  # the board reports database trouble itself
    if offer is not None:
        app.call_from_thread(_ask, app, *offer)


def _ask(app: Any, counts: dict[str, int], days: int) -> None:
    from crmtui.screens.confirm import ConfirmScreen
    from crmtui.store.erasure import counts_text

    what = counts_text(counts)
    if sum(1 for n in counts.values() if n) > 1:
        what = f"{sum(counts.values()):,} records ({what})"
    question = (f"Empty the trash of {what} deleted more than {days} days ago?\n\nWhat goes is erased for good,"
                " with its activities and history; a backup is taken first. (The trash-days setting says how"
                " long the trash keeps records.)")

    def answered(yes: bool | None) -> None:
        app.run_worker(lambda: _answer(app, bool(yes), days), thread=True, group="trash-empty")

    app.push_screen(ConfirmScreen(question, yes="Empty", no="Not today"), answered)


def _answer(app: Any, yes: bool, days: int) -> None:
    """In a worker thread: empty the trash, or remember that the user said no today."""
    from crmtui.store.erasure import counts_text, empty_trash, keep_for_today

    database = app.database
    try:
        if not yes:
            keep_for_today(database)
            return
        emptied = empty_trash(database, days)
    except CrmError as exc:
        app.call_from_thread(app.notify, exc.message, severity="error")
        return
    if emptied.backup is not None:
        app.call_from_thread(_emptied, app, f"Emptied the trash: erased {counts_text(emptied.counts)}"
                                            " (a backup from before is in backups/)")


def _emptied(app: Any, message: str) -> None:
    app.notify(message, timeout=5)
    for screen in app.screen_stack:
        if isinstance(screen, TrashScreen):
            screen.refresh_data()
