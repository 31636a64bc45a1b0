"""A yes/no question in a modal: `y`/enter confirms, `n`/esc cancels. Dismisses with a bool. And
undoing a screen's last change, saying why not when it cannot."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask before something that matters (trash a deal, ...). Reusable by any screen."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-box {
        width: 60; max-width: 100%; height: auto;
        border: round $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen #confirm-buttons { height: 3; margin-top: 1; align: center middle; }
    ConfirmScreen #confirm-buttons Button { margin: 0 1; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes_label} (y)", id="confirm-yes", variant="error")
                yield Button(f"{self.no_label} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    def on_key(self, event: events.Key) -> None:
        # Only y and n answer; other letters do nothing here (not the app's one-letter keys).
        if event.is_printable and event.character not in ("y", "n"):
            event.stop()
            event.prevent_default()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def undo_last_in(screen: Screen, scope: str) -> str | None:
    """Undo the newest change in `scope` (a screen's own undo log); its label, or None after
    telling the user why nothing was undone (nothing to undo, or what stands in the way)."""
    from crmtui.store import undo
    from crmtui.store.errors import CrmError

    try:
        with screen.app.database.session() as s:  # type: ignore[attr-defined]
            entry = undo.undo_last(s, scope=scope)
            label = entry.label if entry is not None else None
    except (CrmError, undo.UndoError) as exc:
        screen.notify(getattr(exc, "message", str(exc)), severity="error")
        return None
    if label is None:
        screen.notify("Nothing to undo", timeout=2)
    return label
