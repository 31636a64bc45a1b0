"""A one-line question in a modal: returns the text typed (checked by a validator) or None. With
`save`, what was typed is written before the prompt closes, so a refused write (another crmtui
writing, a full disk) leaves the text in the prompt to try again."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from crmtui.store.errors import CrmError


class PromptScreen(ModalScreen[str | None]):
    """Ask for one value. `check` returns an error message for a bad value, or None; `save(value)`
    writes it (a CrmError it raises is shown, and the prompt stays open)."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > #prompt-box {
        width: 64; max-width: 100%; height: auto; padding: 0 1;
        border: round $primary; background: $surface;
    }
    PromptScreen #prompt-error { color: $error; height: auto; }
    PromptScreen #prompt-hint { color: $text-muted; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        check: Callable[[str], str | None] | None = None,
        save: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.check = check
        self.save = save

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(self.title_text, id="prompt-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static("", id="prompt-error")
            yield Static(self.hint or "enter to confirm · esc to cancel", id="prompt-hint")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#prompt-error", Static).update("")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self.check(value) if self.check else None
        if not problem and self.save is not None:
            try:
                self.save(value)
            except CrmError as exc:
                problem = exc.message
        if problem:
            self.query_one("#prompt-error", Static).update(problem)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
