"""A stat card: one figure, big, with its name in the border and a line of context under it.

Focusable; enter or a click posts `StatCard.Chosen` so the screen can open the deals behind it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
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

    def __init__(self, label: str, *, short_label: str = "", drill: Any = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = label
        self.short_label = short_label  # the compact card's label when the full one does not fit
        self.drill = drill  # what the card opens; None: nothing behind it
        self.value = "…"
        self.short = ""
        self.note = ""

    def show(self, value: str, note: str = "", *, short: str = "", warn: bool = False) -> None:
        """`short` is shown instead of `value` when the card is too narrow for it (12.1M)."""
        self.value, self.short, self.note = value, short, note
        self.set_class(warn, "-warn")
        self.refresh()

    def render(self) -> _CardFace:
        return _CardFace(self.value, self.short, self.note, str(self.border_title),
                         compact=self.has_class("-compact"), warn=self.has_class("-warn"), short_label=self.short_label)

    def action_choose(self) -> None:
        if self.drill is not None:
            self.post_message(self.Chosen(self))

    def on_click(self) -> None:
        self.focus()
        self.action_choose()


class _CardFace:
    """What a card shows. Rich hands it the width it is drawn at, so the card picks its short
    value (12.1M) there: asking the widget for its size while drawing costs a layout of the
    whole screen when the layout has just changed (the dashboard's first paint)."""

    def __init__(self, value: str, short: str, note: str, label: str, *, compact: bool, warn: bool,
                 short_label: str = "") -> None:
        self.value, self.short, self.note, self.label = value, short, note, label
        self.compact, self.warn, self.short_label = compact, warn, short_label

    def text(self, width: int) -> Text:
        value = self.short if self.short and len(self.value) > width else self.value
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.compact:
            label = self.short_label if self.short_label and len(self.label) > width else self.label
            text.append(label, style="bold yellow" if self.warn else "dim")
            text.append("\n")
            text.append(value, style="bold")
        else:
            text.append(value, style="bold")
            text.append("\n")
            text.append(self.note, style="dim")
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text(options.max_width)

    def __str__(self) -> str:
        """The card's text with room for its full value."""
        return str(self.text(len(self.value)))
