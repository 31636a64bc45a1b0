"""The agenda: what needs doing today (overdue and due tasks, stale, aging, no next step, closes)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from crmtui.store.errors import CrmError
from crmtui.store.followups import SECTIONS, Agenda, compute_agenda
from crmtui.store.money import format_money_short
from crmtui.widgets.footer import AppFooter

ROWS_PER_SECTION = 50

EMPTY_TEXT = """[b]Nothing needs you today.[/b]

No overdue tasks, no stale or aging deals, every open deal has a next step.
Rules: [b]crmtui rules show[/b]; change one with [b]crmtui rules set stale-days 21[/b]."""


class AgendaScreen(Screen[None]):
    """Sections of rows, each saying why it is there; enter opens the deal, ! starts triage."""

    CSS_PATH = "agenda.tcss"
    BINDINGS = [
        Binding("enter", "open", "Open", id="agenda.open"),
        Binding("exclamation_mark", "triage", "Triage", id="agenda.triage"),
        Binding("r", "reload", "Refresh", id="agenda.refresh"),
        Binding("escape", "back", "Back", id="agenda.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.agenda: Agenda | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the agenda…", id="agenda-summary")
        yield DataTable(id="agenda-table", cursor_type="row", zebra_stripes=False)
        yield Static(EMPTY_TEXT, id="agenda-empty", classes="empty-state", markup=True)
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="ref", width=8)
        table.add_column("Deal or task", key="title")
        table.add_column("Customer", key="customer")
        table.add_column("Amount", key="amount")
        table.add_column("Why", key="why")
        self.watch(self.app, "privacy", lambda _on: self._render_agenda(), init=False)
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.agenda is not None:
            self.action_reload()

    @work(thread=True, exclusive=True, group="agenda")
    def action_reload(self) -> None:
        try:
            with self.app.database.session() as session:
                agenda = compute_agenda(session, limit=ROWS_PER_SECTION)
        except CrmError as exc:  # a damaged or vanished file: say so, keep the app
            self.app.call_from_thread(self.notify, exc.message, severity="error")
            return
        self.app.call_from_thread(self._show, agenda)

    def _show(self, agenda: Agenda) -> None:
        self.agenda = agenda
        self._render_agenda()

    def _render_agenda(self) -> None:
        agenda = self.agenda
        if agenda is None:
            return
        masked = self.app.privacy
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.query_one("#agenda-summary", Static).update(
            f"Today, {agenda.today.strftime('%a %d %b %Y')} · {agenda.counts['overdue_tasks']:,} overdue tasks, "
            f"{agenda.counts['due_today']:,} due today · {len(agenda.deal_ids):,} deals listed · ! triage"
        )
        self.set_class(agenda.total == 0, "-empty")
        for name, title in SECTIONS.items():
            count = agenda.counts[name]
            if not count:
                continue
            table.add_row("", Text(f"{title} ({count:,})", style="bold underline"), "", "", "", key=f"section:{name}")
            for item in agenda.items[name]:
                ref = f"#{item.deal_id}" if item.deal_id else f"task {item.task_id}"
                table.add_row(
                    Text(ref, style="dim"),
                    item.title,
                    item.customer or "",
                    Text(format_money_short(item.amount_cents, masked=masked) if item.amount_cents else "",
                         justify="right"),
                    Text(item.reason, style="yellow" if name in ("overdue_tasks", "stale", "aging") else ""),
                    key=f"item:{name}:{item.deal_id or ''}:{item.task_id or ''}:{len(table.rows)}",
                )
            if count > len(agenda.items[name]):
                table.add_row("", Text(f"… and {count - len(agenda.items[name]):,} more", style="dim"), "", "", "",
                              key=f"more:{name}")
        if table.row_count:
            table.move_cursor(row=min(max(keep, 0), table.row_count - 1))

    def _current_deal(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value or ""
        parts = key.split(":")
        if parts[0] == "item" and parts[2]:
            return int(parts[2])
        return None

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        deal_id = self._current_deal()
        if deal_id is not None:
            self.app.open_record("deal", deal_id)

    def action_triage(self) -> None:
        self.app.action_triage()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
