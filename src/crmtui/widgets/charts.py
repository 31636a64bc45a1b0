"""A horizontal bar chart with labelled values, one bar per row, that can be chosen.

One widget draws every bar (no widget per bar). Up/down (or the mouse) picks a bar; enter or a
click posts `BarChart.Chosen` with the bar's key, and the screen decides what that opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from crmtui.store.money import format_money_short

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar_cells(value: float, maximum: float, width: int) -> str:
    """A bar of at most `width` cells, drawn in eighths of a cell; any value above 0 shows."""
    if maximum <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / maximum * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int  # cents for a money chart, a count otherwise
    key: Any = None  # what choosing the bar opens (e.g. the month)


class BarChart(Widget, can_focus=True):
    """Bars with their values written beside them; money values masked in privacy mode."""

    DEFAULT_CSS = """
    BarChart {
        height: auto;
        border: round $panel-lighten-2;
        border-title-color: $text;
        padding: 0 1;
    }
    BarChart:focus {
        border: round $accent;
    }
    BarChart > .bar-chart--bar {
        color: $secondary;
    }
    BarChart > .bar-chart--cursor {
        background: $accent 40%;
        text-style: bold;
    }
    """
    COMPONENT_CLASSES = {"bar-chart--bar", "bar-chart--cursor"}
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Open deals", id="bar_chart.open"),
    ]

    cursor: reactive[int] = reactive(0)
    masked: reactive[bool] = reactive(False)

    class Chosen(Message):
        """A bar was chosen (enter or click)."""

        def __init__(self, chart: BarChart, bar: Bar) -> None:
            super().__init__()
            self.chart = chart
            self.bar = bar

        @property
        def control(self) -> BarChart:
            return self.chart

    def __init__(self, title: str, *, money: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title
        self.money = money
        self.bars: list[Bar] = []

    def set_bars(self, bars: list[Bar], *, masked: bool = False, summary: str = "") -> None:
        self.bars = list(bars)
        self.masked = masked
        self.border_subtitle = summary
        self.cursor = min(self.cursor, max(0, len(self.bars) - 1))
        self.refresh(layout=True)

    def value_text(self, value: int) -> str:
        if self.money:
            return format_money_short(value, masked=self.masked)
        return f"{value:,}"

    def render(self) -> Text:
        if not self.bars:
            return Text("nothing in this period", style="dim")
        labels = max(len(b.label) for b in self.bars)
        values = [self.value_text(b.value) for b in self.bars]
        value_width = max(len(v) for v in values)
        width = max(1, self.size.width - labels - value_width - 2)
        top = max((b.value for b in self.bars), default=0)
        bar_style = self.get_component_rich_style("bar-chart--bar")
        cursor_style = self.get_component_rich_style("bar-chart--cursor")
        out = Text(no_wrap=True, overflow="crop")
        for i, (bar, value) in enumerate(zip(self.bars, values)):
            line = Text(no_wrap=True)
            line.append(bar.label.ljust(labels) + " ")
            cells = bar_cells(bar.value, top, width)
            line.append(cells.ljust(width), style=bar_style)
            line.append(" " + value.rjust(value_width))
            if self.has_focus and i == self.cursor:
                line.stylize(cursor_style)
            if i:
                out.append("\n")
            out.append_text(line)
        return out

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(1, len(self.bars))

    def watch_cursor(self) -> None:
        self.refresh()

    def watch_masked(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.bars:
            self.cursor = max(0, min(len(self.bars) - 1, self.cursor + step))

    def action_jump(self, index: int) -> None:
        if self.bars:
            self.cursor = index % len(self.bars)

    def action_choose(self) -> None:
        if self.bars:
            self.post_message(self.Chosen(self, self.bars[self.cursor]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not 0 <= offset.y < len(self.bars):
            return
        self.focus()
        self.cursor = offset.y
        self.post_message(self.Chosen(self, self.bars[offset.y]))
