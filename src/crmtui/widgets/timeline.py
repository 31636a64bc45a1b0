"""A record's timeline: activities, tasks and stage changes, newest first, one row each.

A timeline is bounded (a record's own history), so a DataTable holding every row is fine.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from crmtui.store.activities import TimelineEntry

ICONS = {"note": "✎ note", "call": "☎ call", "email": "✉ email", "meeting": "◷ meeting", "stage": "→ stage"}


class Timeline(DataTable):
    """Rows keyed `a<id>` (activity/task) or `s<n>` (stage change)."""

    DEFAULT_CSS = """
    Timeline { height: 1fr; min-height: 4; }
    """
    BINDINGS = [Binding("delete", "delete_entry", "Delete entry", id="timeline.delete")]

    class DeleteRequested(Message):
        """The person asked to delete the activity or task under the cursor."""

        def __init__(self, entry: TimelineEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, *, show_deal: bool = False, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.show_deal = show_deal
        self.entries: dict[str, TimelineEntry] = {}

    def on_mount(self) -> None:
        self.add_column("When", key="when", width=16)
        self.add_column("What", key="what", width=12)
        if self.show_deal:
            self.add_column("Deal", key="deal", width=28)
        self.add_column("", key="text")

    def show(self, entries: list[TimelineEntry], today: dt.date) -> None:
        """Replace the rows, keeping the cursor on the same entry when it is still there."""
        keep = self.selected_key()
        self.clear()
        self.entries = {}
        for n, entry in enumerate(entries):
            key = f"a{entry.activity_id}" if entry.activity_id else f"s{n}"
            self.entries[key] = entry
            self.add_row(*self._cells(entry, today), key=key)
        if keep in self.entries:
            self.move_cursor(row=self.get_row_index(keep))

    def _cells(self, entry: TimelineEntry, today: dt.date) -> list:
        when = Text(entry.at.strftime("%Y-%m-%d %H:%M"), style="dim")
        if entry.kind == "task":
            if entry.done:
                what, style = "☑ task", "dim"
            elif entry.due_on and entry.due_on < today:
                what, style = "☐ overdue", "bold red"
            elif entry.due_on == today:
                what, style = "☐ today", "bold yellow"
            else:
                what, style = "☐ task", "bold"
            due = f" (due {entry.due_on.isoformat()})" if entry.due_on else ""
            body = Text(entry.text + due, style="strike dim" if entry.done else "")
            cells = [when, Text(what, style=style)]
        else:
            style = "cyan" if entry.kind == "stage" else ""
            cells = [when, Text(ICONS.get(entry.kind, entry.kind), style=style)]
            body = Text(entry.text.replace("\n", " "), style=style)
        if self.show_deal:
            cells.append(Text(entry.deal_title or "", style="dim", overflow="ellipsis", no_wrap=True))
        cells.append(body)
        return cells

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete_entry":
            entry = self.selected()
            return entry is not None and entry.activity_id is not None
        return True

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()  # "Delete entry" only on activities and tasks

    def action_delete_entry(self) -> None:
        entry = self.selected()
        if entry is not None and entry.activity_id is not None:
            self.post_message(self.DeleteRequested(entry))

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None

    def selected(self) -> TimelineEntry | None:
        key = self.selected_key()
        return self.entries.get(key) if key else None
