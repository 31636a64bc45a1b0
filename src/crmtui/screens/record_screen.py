"""What the deal, company and contact pages share: the breadcrumb, back with esc, and the keys
that work on any record (edit, log an activity, add/complete/reschedule a task, undo, delete)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from crmtui.markup import plain
from crmtui.store import clock
from crmtui.store.errors import CrmError, ValidationError
from crmtui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from crmtui.store.models import Activity


class RecordScreen(Screen[None]):
    """A page about one record. Subclasses set `kind` and fill the page in `refresh_data`."""

    kind = "deal"
    FIRST_FOCUS = "#related"  # the widget focused when the page opens
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to where you came from", id="record.back"),
        Binding("e", "edit", "Edit", tooltip="Edit the fields (ctrl+s saves)", id="record.edit"),
        Binding("a", "log_activity", "Log activity", tooltip="Log a note, call, email or meeting", id="record.log"),
        Binding("t", "add_task", "Task", tooltip="Add a task with a due date", id="record.task"),
        Binding("space", "complete_task", "Done", tooltip="Complete the task under the cursor, else the next open task", id="record.done"),
        Binding("D", "reschedule_task", "Due date", tooltip="Give the task under the cursor, else the next open task, a new due date", id="record.reschedule"),
        Binding("u", "undo", "Undo", tooltip="Undo this page's last change", id="record.undo"),
        Binding("delete", "trash", "Delete", tooltip="Move this record to the trash (asks first)", id="record.delete"),
        Binding("r", "refresh_data", "Refresh", tooltip="Read the record again from the database", id="record.refresh", show=False),
    ]

    def __init__(self, record_id: int) -> None:
        super().__init__()
        self.record_id = record_id
        self.crumb = f"{self.kind} #{record_id}"

    @property
    def database(self):  # noqa: ANN201
        return self.app.database

    def on_mount(self) -> None:
        self.app.sub_title = self.app.sub_title  # keep whatever the app shows
        self.watch(self.app, "privacy", lambda _masked: self.refresh_data(), init=False)
        self.refresh_data()
        # Start on the linked records, so enter goes straight to the company / contact / deal.
        linked = self.query(self.FIRST_FOCUS).first() if self.query(self.FIRST_FOCUS) else None
        if linked is not None:
            linked.focus()

    def on_screen_resume(self) -> None:
        # Back from a linked record or a form: what we show may have changed there.
        if self.is_mounted:
            self.refresh_data()

    # --- subclass hooks ---------------------------------------------------------------------

    def refresh_data(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def action_refresh_data(self) -> None:
        self.refresh_data()

    def record_gone(self, warning: str | None = None) -> None:
        """Close this page: its record is in the trash or no longer exists. Only while the page is
        the one shown: a refresh that finds the record gone after the page was closed must not
        close the screen beneath it."""
        if not self.is_current:
            return
        if warning:
            self.notify(warning, severity="warning")
        self.app.pop_screen()

    def set_crumb(self, label: str) -> None:
        """Name this page in the breadcrumb and redraw it."""
        self.crumb = label
        trail = [s.crumb for s in self.app.screen_stack if isinstance(s, RecordScreen)]
        if self not in self.app.screen_stack:
            trail.append(label)
        text = "  ›  ".join(trail)
        crumbs = f"[dim]{plain(text[:-len(label)])}[/][b]{plain(label)}[/]" if text.endswith(label) else plain(text)
        self.query_one("#crumbs", Static).update(crumbs)

    @property
    def masked(self) -> bool:
        return bool(self.app.privacy)

    @property
    def today(self) -> dt.date:
        return clock.today()

    # --- keys -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def _after_form(self, saved: bool | None, message: str) -> None:
        if saved:
            self.notify(message, timeout=2)
        self.refresh_data()

    def action_edit(self) -> None:
        from crmtui.screens.edit_forms import record_form

        self.app.push_screen(
            record_form(self.database, self.kind, self.record_id), lambda ok: self._after_form(ok, "Saved (u undoes)")
        )

    def action_log_activity(self) -> None:
        from crmtui.screens.activity_form import activity_form

        self.app.push_screen(
            activity_form(self.database, self.kind, self.record_id), lambda ok: self._after_form(ok, "Logged")
        )

    def action_add_task(self) -> None:
        from crmtui.screens.task_form import task_form

        self.app.push_screen(task_form(self.database, self.kind, self.record_id), lambda ok: self._after_form(ok, "Task added"))

    def _target_task(self, session: Any) -> Activity | None:
        """The open task under the timeline's cursor, else the record's next open task (None,
        with a notification, when there is none)."""
        from crmtui.store.activities import get_task, next_open_task

        timeline = self.query(Timeline).first()
        entry = timeline.selected() if timeline is not None and timeline.has_focus else None
        if entry is not None and entry.kind == "task" and not entry.done:
            return get_task(session, entry.activity_id)
        task = next_open_task(session, self.kind, self.record_id)
        if task is None:
            self.notify("No open task here. Add one with t.", timeout=3)
        return task

    def action_complete_task(self) -> None:
        """Complete the task under the timeline's cursor, else the next open task."""
        from crmtui.store.activities import complete_task, undo_scope

        try:
            with self.database.session() as s:
                task = self._target_task(s)
                if task is None:
                    return
                body = complete_task(s, task.id, scope=undo_scope(self.kind, self.record_id)).body
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify(f"Done: {body} (u undoes)", timeout=3)
        self.refresh_data()

    def action_reschedule_task(self) -> None:
        """A new due date for the task under the timeline's cursor, else the next open task."""
        from crmtui.screens.prompt import PromptScreen
        from crmtui.store.activities import reschedule_task, undo_scope
        from crmtui.store.dates import parse_date

        try:
            with self.database.session() as s:
                task = self._target_task(s)
                if task is None:
                    return
                task_id, body, due_on = task.id, task.body, task.due_on
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return

        def check(value: str) -> str | None:
            try:
                return None if parse_date(value, field="due date") else "due date: required (+1d, +1w, fri, 2026-12-01)"
            except ValidationError as exc:
                return exc.message

        def chosen(value: str | None) -> None:
            if not value:
                return
            try:
                with self.database.session() as s:
                    due = reschedule_task(s, task_id, value, scope=undo_scope(self.kind, self.record_id)).due_on
            except CrmError as exc:
                self.notify(exc.message, severity="error")
                return
            self.notify(f"{body}: due {due.isoformat()} (u undoes)", timeout=3)
            self.refresh_data()

        self.app.push_screen(
            PromptScreen(plain(f"New due date for {body!r} (due {due_on.isoformat() if due_on else 'never'})"), value="+1d",
                         hint="+1d, +1w, fri or 2026-12-01 · esc to cancel", check=check),
            chosen,
        )

    def action_undo(self) -> None:
        from crmtui.store.editing import undo_last_edit

        try:
            with self.database.session() as s:
                label = undo_last_edit(s, self.kind, self.record_id)
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify(f"Undone: {label}" if label else "Nothing to undo on this page", timeout=3)
        self.refresh_data()

    def action_trash(self) -> None:
        from crmtui.screens.edit_forms import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            from crmtui.store import board_actions
            from crmtui.store.editing import trash_record

            try:
                with self.database.session() as s:
                    if self.kind == "deal":  # its page closes: `u` on the board brings it back
                        board_actions.trash(s, self.record_id)
                    else:
                        trash_record(s, self.kind, self.record_id)
            except CrmError as exc:
                self.notify(exc.message, severity="error")
                return
            letter = {"deal": "D", "company": "C", "contact": "P"}[self.kind]
            self.record_gone()
            undo_hint = "u on the board, T" if self.kind == "deal" else "T"
            self.app.notify(
                f"Moved {self.kind} {self.crumb!r} to the trash ({undo_hint}, or crmtui trash restore "
                f"{letter}{self.record_id})",
                timeout=5,
            )

        self.app.push_screen(ConfirmScreen(f"Move {self.kind} {self.crumb!r} to the trash?"), answered)

    def on_timeline_delete_requested(self, message: Timeline.DeleteRequested) -> None:
        """delete on an activity or task in the timeline: that entry goes to the trash (asks first)."""
        from crmtui.screens.edit_forms import ConfirmScreen
        from crmtui.store.activities import delete_activity, undo_scope

        entry = message.entry
        what = "task" if entry.kind == "task" else entry.kind

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                with self.database.session() as s:
                    delete_activity(s, entry.activity_id, scope=undo_scope(self.kind, self.record_id))
            except CrmError as exc:
                self.notify(exc.message, severity="error")
                return
            self.notify(f"Moved the {what} to the trash (u undoes)", timeout=3)
            self.refresh_data()

        self.app.push_screen(ConfirmScreen(f"Move this {what} to the trash?\n\n{entry.text[:120]}"), answered)

    # --- helpers ----------------------------------------------------------------------------

    def open_linked(self, key: str | None) -> bool:
        """Open `deal:12` / `company:3` / `contact:5` keys (rows of the related tables)."""
        if not key or ":" not in key:
            return False
        kind, _, raw = key.partition(":")
        if kind in ("deal", "company", "contact") and raw.isdigit():
            self.app.open_record(kind, int(raw))
            return True
        return False

    @staticmethod
    def row_key(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
