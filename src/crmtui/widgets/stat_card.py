"""A stat card: one figure, big, with its name in the border and a line of context under it.

Focusable; enter or a click posts `StatCard.Chosen` so the screen can open the deals behind it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget


class StatCard(Widget, can_focus=True):
    DEFAULT_CSS = """
    StatCard {
        height: 4;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatCard:focus {
        border: round $accent;
    }
    StatCard.-warn {
        border-title-color: $warning;
    }
    /* Compact (narrow terminals): no border, the label on the first line, no note. */
    StatCard.-compact {
        height: 2;
        border: none;
        padding: 0 1 0 0;
    }
    StatCard.-compact:focus {
        background: $accent 30%;
    }
    """
    BINDINGS = [Binding("enter", "choose", "Open deals", id="stat_card.open")]

    class Chosen(Message):
        def __init__(self, card: StatCard) -> None:
            super().__init__()
            self.card = card

        @property
        def control(self) -> StatCard:
            return self.card

    def __init__(self, label: str, *, drill: Any = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = label
        self.drill = drill  # what the card opens; None: nothing behind it
        self.value = "…"
        self.short = ""
        self.note = ""

    def show(self, value: str, note: str = "", *, short: str = "", warn: bool = False) -> None:
        """`short` is shown instead of `value` when the card is too narrow for it (12.1M)."""
        self.value, self.short, self.note = value, short, note
        self.set_class(warn, "-warn")
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        value = self.short if self.short and len(self.value) > self.size.width else self.value
        if self.has_class("-compact"):
            text.append(str(self.border_title), style="bold yellow" if self.has_class("-warn") else "dim")
            text.append("\n")
            text.append(value, style="bold")
            return text
        text.append(value, style="bold")
        text.append("\n")
        text.append(self.note, style="dim")
        return text

    def action_choose(self) -> None:
        if self.drill is not None:
            self.post_message(self.Chosen(self))

    def on_click(self) -> None:
        self.focus()
        self.action_choose()
