"""Why was the deal lost? A reason from the editable list, or typed freely."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.store.board import lost_reasons
from crmtui.store.db import Database


class LostReasonScreen(ModalScreen[str | None]):
    """Pick a reason (enter) or type one and press enter; esc cancels. Dismisses with the text."""

    CSS_PATH = "board.tcss"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="lost_reason.cancel")]

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database

    def compose(self) -> ComposeResult:
        conn = self.database.raw()
        try:
            reasons = lost_reasons(conn)
        finally:
            conn.close()
        with Vertical(id="lost-box"):
            yield Static("[b]Lost: why?[/b]  pick a reason (enter) or type your own · esc cancels", markup=True)
            yield OptionList(*[Option(r, id=f"reason-{i}") for i, r in enumerate(reasons)], id="lost-reasons")
            yield Input(placeholder="or type a reason, then enter", id="lost-other", select_on_focus=False)
            yield Label("", id="lost-error", classes="field-error")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        # Typing over the list writes the reason (and never reaches the app's one-letter keys).
        if event.is_printable and event.character and not isinstance(self.focused, Input):
            event.stop()
            event.prevent_default()
            field = self.query_one("#lost-other", Input)
            field.focus()
            field.insert_text_at_cursor(event.character)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.prompt))

    @on(Input.Submitted, "#lost-other")
    def _typed(self, event: Input.Submitted) -> None:
        reason = " ".join(event.value.split())
        if not reason:
            self.query_one("#lost-error", Label).update("reason: type a reason or pick one above")
            return
        if len(reason) > 200:
            self.query_one("#lost-error", Label).update("reason: at most 200 characters")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
