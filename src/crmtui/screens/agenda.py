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
from crmtui.widgets.fit_table import Amount, Col, FitTable, Row
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
        yield FitTable(self._columns(), id="agenda-table", cursor_type="row", zebra_stripes=False)
        yield Static(EMPTY_TEXT, id="agenda-empty", classes="empty-state", markup=True)
        yield AppFooter()

    @staticmethod
    def _columns(headings: tuple[str, ...] = ()) -> list[Col]:
        # A section's heading (with its count) is never shortened.
        title_least = max([20, *(len(h) for h in headings)])
        return [Col("", "ref"), Col("Deal or task", "title", shrink_to=title_least),
                Col("Customer", "customer", shrink_to=10), Col("Amount", "amount"), Col("Why", "why", shrink_to=16)]

    def on_mount(self) -> None:
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
        self.query_one("#agenda-summary", Static).update(
            f"Today, {agenda.today.strftime('%a %d %b %Y')} · {agenda.counts['overdue_tasks']:,} overdue tasks, "
            f"{agenda.counts['due_today']:,} due today · {len(agenda.deal_ids):,} deals listed · ! triage"
        )
        self.set_class(agenda.total == 0, "-empty")
        rows: list[Row] = []
        headings: list[str] = []
        for name, title in SECTIONS.items():
            count = agenda.counts[name]
            if not count:
                continue
            headings.append(f"{title} ({count:,})")
            rows.append((f"section:{name}", ("", Text(headings[-1], style="bold underline"), "", "", "")))
            for item in agenda.items[name]:
                ref = f"#{item.deal_id}" if item.deal_id else f"task {item.task_id}"
                rows.append((f"item:{name}:{item.deal_id or ''}:{item.task_id or ''}:{len(rows)}", (
                    Text(ref, style="dim"),
                    item.title,
                    item.customer or "",
                    Amount(item.amount_cents or None, masked=masked),
                    Text(item.reason, style="yellow" if name in ("overdue_tasks", "stale", "aging") else ""),
                )))
            if count > len(agenda.items[name]):
                rows.append((f"more:{name}", ("", Text(f"… and {count - len(agenda.items[name]):,} more", style="dim"),
                                              "", "", "")))
        self.query_one(FitTable).show(rows, self._columns(tuple(headings)))

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
