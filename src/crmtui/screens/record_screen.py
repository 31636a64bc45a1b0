"""What the deal, company and contact pages share: the breadcrumb, back with esc, the keys that
work on any record (edit, log an activity, add/complete/reschedule a task, open a link, mail the
customer, copy their phone or email, undo, delete), and how a custom field's value reads on a page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.markup import plain
from crmtui.store import clock
from crmtui.store.custom_fields import custom_text
from crmtui.store.errors import CrmError, ValidationError
from crmtui.widgets import opener
from crmtui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from crmtui.store.models import Activity


class RecordScreen(Screen[None]):
    """A page about one record. Subclasses set `kind` and fill the page in `refresh_data`."""

    kind = "deal"
    FIRST_FOCUS = "#related"  # the widget focused when the page opens (the first shown of them)
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to where you came from", id="record.back"),
        Binding("e", "edit", "Edit", tooltip="Edit the fields (ctrl+s saves)", id="record.edit"),
        Binding("a", "log_activity", "Log activity", tooltip="Log a note, call, email or meeting", id="record.log"),
        Binding("t", "add_task", "Task", tooltip="Add a task with a due date", id="record.task"),
        Binding("space", "complete_task", "Done", tooltip="Complete the task under the cursor, else the next open task", id="record.done"),
        Binding("D", "reschedule_task", "Due date", tooltip="Give the task under the cursor, else the next open task, a new due date", id="record.reschedule"),
        Binding("u", "undo", "Undo", tooltip="Undo this page's last change", id="record.undo"),
        Binding("delete", "trash", "Delete", tooltip="Move this record to the trash (asks first)", id="record.delete"),
        Binding("w", "open_link", "Open link", tooltip="Open a URL field of this record (pick one when there are"
                " several)", id="record.open_link"),
        Binding("m", "mail", "Mail", tooltip="Write to the customer in your mail client, then log the email (asks"
                " first)", id="record.mail", show=False),
        Binding("c", "copy_reach", "Copy", tooltip="Copy the customer's phone number or email (pick one when there"
                " are both)", id="record.copy", show=False),
        Binding("r", "refresh_data", "Refresh", tooltip="Read the record again from the database", id="record.refresh", show=False),
    ]

    def __init__(self, record_id: int) -> None:
        super().__init__()
        self.record_id = record_id
        self.crumb = f"{self.kind} #{record_id}"
        self.web_links: list[tuple[str, str]] = []  # (field name, URL): what `w` opens; set by refresh_data

    @property
    def database(self):  # noqa: ANN201
        return self.app.database

    def on_mount(self) -> None:
        self.app.sub_title = self.app.sub_title  # keep whatever the app shows
        self.watch(self.app, "privacy", lambda _masked: self.refresh_data(), init=False)
        self.refresh_data()
        # Start on the linked records, so enter goes straight to the company / contact / deal.
        linked = next((widget for widget in self.query(self.FIRST_FOCUS) if widget.display), None)
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_link":
            return bool(self.web_links)  # no link on this record: the key leaves the footer
        return True

    def show_links(self, links: list[tuple[str, str]]) -> None:
        """Give `w` the record's links (and show or hide it in the footer)."""
        if links != self.web_links:
            self.web_links = links
            self.refresh_bindings()

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

        def save(value: str) -> None:  # (a refusal stays in the prompt, with the date typed)
            with self.database.session() as s:
                due = reschedule_task(s, task_id, value, scope=undo_scope(self.kind, self.record_id)).due_on
            self.notify(f"{body}: due {due.isoformat()} (u undoes)", timeout=3)
            self.refresh_data()

        self.app.push_screen(
            PromptScreen(plain(f"New due date for {body!r} (due {due_on.isoformat() if due_on else 'never'})"), value="+1d",
                         hint="+1d, +1w, fri or 2026-12-01 · esc to cancel", check=check, save=save)
        )

    def action_open_link(self) -> None:
        """Open the record's URL field; a list to pick from when there are several."""
        if len(self.web_links) > 1:
            self.app.push_screen(LinkPicker(self.web_links), lambda url: self.open_target(url) if url else None)
        elif self.web_links:
            self.open_target(self.web_links[0][1])
        else:
            self.notify("No link on this record (a URL field: e edits it)", severity="warning", timeout=3)

    def open_target(self, target: str) -> None:
        """Open a URL or file with the system's opener; say so, or why not."""
        try:
            opener.open_target(target)
        except OSError as exc:
            self.notify(f"Cannot open {target}: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.notify(f"Opened {target}", timeout=2, markup=False)

    def _reach(self) -> Reach | None:
        try:
            with self.database.session(write=False) as s:
                return reach_of(s, self.kind, self.record_id)
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return None

    def action_mail(self) -> None:
        """A new mail to the customer in the mail client; then, asked, an email logged here."""
        from crmtui.screens.confirm import ConfirmScreen

        reach = self._reach()
        if reach is None:
            return
        if not reach.email:
            self.notify(f"No email address to write to: {NO_EMAIL[self.kind]}", severity="warning", timeout=4)
            return
        self.app.open_url(mailto_url(reach.email, reach.subject))
        to = f"{reach.email_name} <{reach.email}>" if reach.email_name else reach.email

        def answered(yes: bool | None) -> None:
            if yes:
                self._log_email(to)

        self.app.push_screen(ConfirmScreen(f"Opened a new mail to {to}.\n\nLog an email to {reach.email_name or reach.email}?",
                                           yes="Log it", no="Not now"), answered)

    def _log_email(self, to: str) -> None:
        from crmtui.store.activities import log_activity

        try:
            with self.database.session() as s:
                log_activity(s, "email", self.kind, self.record_id, f"Emailed {to}")
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify("Logged the email (u undoes)", timeout=3)
        self.refresh_data()

    def action_copy_reach(self) -> None:
        """Copy the phone number or the email; a choice when the record has both."""
        reach = self._reach()
        if reach is None:
            return
        found = [(what, value, name) for what, value, name in
                 (("phone", reach.phone, reach.phone_name), ("email", reach.email, reach.email_name)) if value]
        if not found:
            self.notify(f"Nothing to copy: no phone or email ({NO_EMAIL[self.kind]})", severity="warning", timeout=4)
        elif len(found) == 1:
            self._copy(*found[0])
        else:
            self.app.push_screen(CopyPicker([(what.capitalize(), value) for what, value, _name in found]),
                                 lambda value: self._copy(*next(f for f in found if f[1] == value)) if value else None)

    def _copy(self, what: str, value: str, name: str) -> None:
        self.app.copy_to_clipboard(value)
        whose = f"{name}'s " if name else ""
        self.notify(f"Copied {whose}{what} {value}", timeout=3, markup=False)

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


class LinkPicker(ModalScreen[str | None]):
    """Which link to open: enter opens the highlighted one, esc cancels. Dismisses with its URL."""

    QUESTION = "Open which link?"
    HINT = "enter opens · esc cancels"

    DEFAULT_CSS = """
    LinkPicker { align: center middle; }
    LinkPicker > #link-box {
        width: 72; max-width: 100%; height: auto; padding: 0 1;
        border: round $primary; background: $surface;
    }
    LinkPicker #link-list { height: auto; max-height: 12; }
    LinkPicker #link-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="link_picker.cancel")]

    def __init__(self, links: list[tuple[str, str]]) -> None:
        super().__init__()
        self.links = links

    def compose(self) -> ComposeResult:
        width = max(len(name) for name, _url in self.links)
        with Vertical(id="link-box"):
            yield Static(f"[b]{self.QUESTION}[/]", markup=True)
            yield OptionList(*[Option(Text.assemble((name.ljust(width), "bold"), "  ", url), id=str(i))
                               for i, (name, url) in enumerate(self.links)], id="link-list")
            yield Static(self.HINT, id="link-hint")

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.links[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class CopyPicker(LinkPicker):
    """Copy the phone or the email: `p` or `e`, or enter on the highlighted one. Dismisses with
    the value to copy."""

    QUESTION = "Copy which?"
    HINT = "p phone · e email · enter copies the highlighted one · esc cancels"
    BINDINGS = [
        Binding("p", "pick('Phone')", "Phone", id="copy_picker.phone"),
        Binding("e", "pick('Email')", "Email", id="copy_picker.email"),
    ]

    def action_pick(self, what: str) -> None:
        self.dismiss(next(value for name, value in self.links if name == what))


# --- mail and phone --------------------------------------------------------------------------------


# Where `m` and `c` looked, for the notice when there is nothing there.
NO_EMAIL = {"deal": "the deal's contact and company have none",
            "company": "the company and its contacts have none",
            "contact": "e adds one"}


@dataclass(frozen=True)
class Reach:
    """How to reach a record's customer: an email and a phone, each with whose it is."""

    email: str = ""
    email_name: str = ""
    phone: str = ""
    phone_name: str = ""
    subject: str = ""  # a deal's title, for a new mail


# The people to try, best first (rank, name, email, phone): a deal's contact, then its company (as
# the deal page shows them); a company, then its contacts by name; a contact alone.
_REACH_SQL = {
    "deal": "SELECT 0 AS rank, p.name, p.email, p.phone FROM deal d JOIN contact p ON p.id = d.contact_id"
            " WHERE d.id = :id UNION ALL"
            " SELECT 1, c.name, c.email, c.phone FROM deal d JOIN company c ON c.id = d.company_id WHERE d.id = :id"
            " ORDER BY rank",
    "company": "SELECT 0 AS rank, name, email, phone FROM company WHERE id = :id UNION ALL"
               " SELECT 1, name, email, phone FROM contact WHERE company_id = :id AND deleted_at IS NULL"
               " ORDER BY rank, name COLLATE NOCASE",
    "contact": "SELECT 0 AS rank, name, email, phone FROM contact WHERE id = :id",
}


def reach_of(session: Any, kind: str, record_id: int) -> Reach:  # noqa: ANN401 - a store Session
    """Whom `m` writes to and what `c` copies: the first email and the first phone of the people
    to try (see `_REACH_SQL`)."""
    people = session.execute(_REACH_SQL[kind], {"id": record_id}).fetchall()
    email = next(((p["name"], p["email"].strip()) for p in people if (p["email"] or "").strip()), ("", ""))
    phone = next(((p["name"], p["phone"].strip()) for p in people if (p["phone"] or "").strip()), ("", ""))
    subject = ""
    if kind == "deal":
        row = session.execute("SELECT title FROM deal WHERE id = :id", {"id": record_id}).fetchone()
        subject = row["title"] if row else ""
    return Reach(email=email[1], email_name=email[0], phone=phone[1], phone_name=phone[0], subject=subject)


def mailto_url(address: str, subject: str = "") -> str:
    """A `mailto:` URL (RFC 6068) for a new mail: the address and subject percent-encoded, so a
    `?` or `&` in either cannot add headers."""
    url = "mailto:" + quote(address, safe="@+")
    return url + ("?subject=" + quote(subject, safe="") if subject else "")


# --- custom fields on a page -----------------------------------------------------------------------


def field_label(name: str, width: int = 16) -> str:
    """A field's name cut to fit the label column."""
    return name if len(name) <= width else name[: width - 1] + "…"


def custom_value(field: dict[str, Any], stored: str | None, *, masked: bool) -> Text:
    """A custom field's value as a page shows it: money masked in privacy mode, a rating as stars,
    multichoice as a list; a looked-up value says where it comes from."""
    shown = Text(custom_text(field, stored, masked=masked))
    if field["kind"] == "lookup":
        source = (field["source"] or field["lookup"] or "its customer").partition(".")[0]
        shown.append(f"  from {source}", style="dim")
    return shown


def add_custom(grid: Table, custom: list[tuple[dict[str, Any], str | None]], *, masked: bool) -> Table:
    """A record's custom fields, as rows of its facts."""
    for field, stored in custom:
        grid.add_row(field_label(field["name"]), custom_value(field, stored, masked=masked))
    return grid


def links_of(custom: list[tuple[dict[str, Any], str | None]]) -> list[tuple[str, str]]:
    """A record's URL fields that have a value (looked-up ones too): what `w` opens."""
    return [(field["name"], stored) for field, stored in custom if field["value_kind"] == "url" and stored]
