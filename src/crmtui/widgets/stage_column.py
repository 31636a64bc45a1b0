"""One stage of the board: a header (name, count, total, weighted) and the cards on screen.

The column draws itself line by line (Line API) from `BoardData`: only the cards that fit are
read, and their strips are cached, so a column of 50,000 deals costs what a column of 5 does.
It keeps its own cursor and scroll position; the screen tells it which column is active.
"""

from __future__ import annotations

import datetime as dt

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from crmtui.store import clock
from crmtui.store.board import BoardData, BoardStage, Card
from crmtui.store.money import format_money_short
from crmtui.widgets.deal_card import CARD_HEIGHT, CardStyles, card_height, card_strips, truncate

HEADER_HEIGHT = 3


class StageColumn(Widget):
    """A stage's cards, virtualised: `cursor` is an index into the column's deal ids."""

    COMPONENT_CLASSES = {
        "stage-column--header",
        "stage-column--header-active",
        "stage-column--muted",
        "stage-column--card",
        "stage-column--card-focused",
        "stage-column--title",
        "stage-column--stars",
        "stage-column--aging",
        "stage-column--overdue",
        "stage-column--due-today",
    }

    DEFAULT_CSS = """
    StageColumn {
        width: 28;
        height: 1fr;
        background: $background;
    }
    StageColumn > .stage-column--header { background: $boost; color: $text; }
    StageColumn > .stage-column--header-active { background: $primary 40%; color: $text; text-style: bold; }
    StageColumn > .stage-column--muted { color: $text-muted; }
    StageColumn > .stage-column--card { background: $surface; color: $text; }
    StageColumn > .stage-column--card-focused { background: $primary 35%; color: $text; }
    StageColumn > .stage-column--title { text-style: bold; }
    StageColumn > .stage-column--stars { color: $warning; }
    StageColumn > .stage-column--aging { color: $warning; text-style: bold; }
    StageColumn > .stage-column--overdue { color: $error; text-style: bold; }
    StageColumn > .stage-column--due-today { color: $warning; }
    """

    class CardClicked(Message):
        """A card was clicked (or the column, below its cards)."""

        def __init__(self, column: StageColumn, index: int) -> None:
            super().__init__()
            self.column = column
            self.index = index

    class Scrolled(Message):
        """The mouse wheel turned over the column."""

        def __init__(self, column: StageColumn, delta: int) -> None:
            super().__init__()
            self.column = column
            self.delta = delta

    def __init__(self, board: BoardData, stage: BoardStage, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.board = board
        self.stage = stage
        self.cursor = 0
        self.top = 0
        self.active = False
        self.masked = False
        self.closed_label = ""
        self._strips: dict[tuple, list[Strip]] = {}
        self._window: tuple[tuple, list[Card]] | None = None
        self._styles: CardStyles | None = None
        self._header_styles: tuple[Style, Style] = (Style(), Style())
        self._headers: dict[tuple, Strip] = {}
        self._width = 0
        self._capacity = 1
        self._card_height = CARD_HEIGHT  # the board's card layout says (extra lines of fields)

    # --- state -------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self.board.column(self.stage.id).count

    @property
    def capacity(self) -> int:
        """How many cards fit."""
        return self._capacity

    def focused_deal_id(self) -> int | None:
        ids = self.board.column(self.stage.id).ids
        return ids[self.cursor] if 0 <= self.cursor < len(ids) else None

    def set_cursor(self, index: int) -> None:
        """Put the cursor on a card (clamped) and scroll so that it shows. Redraws only the two
        cards concerned unless the column scrolled."""
        old_cursor, old_top = self.cursor, self.top
        self.cursor = max(0, min(index, self.count - 1))
        self._scroll_to_cursor()
        if self.top != old_top:
            self.refresh()
        elif self.cursor != old_cursor and self.active:
            self._refresh_card(old_cursor)
            self._refresh_card(self.cursor)

    def page(self, pages: int) -> None:
        """Scroll by whole pages, the cursor keeping its place on the page."""
        capacity = self._capacity
        self.cursor = max(0, min(self.cursor + pages * capacity, self.count - 1))
        self.top = max(0, min(self.top + pages * capacity, max(0, self.count - capacity)))
        self._scroll_to_cursor()
        self.refresh()

    def set_active(self, active: bool) -> None:
        """Show (or stop showing) this column as the one with the focused card."""
        if active != self.active:
            self.active = active
            self.refresh(Region(0, 0, self._width, HEADER_HEIGHT))
            self._refresh_card(self.cursor)

    def _refresh_card(self, index: int) -> None:
        row = index - self.top
        if 0 <= row < self._capacity:
            self.refresh(Region(0, HEADER_HEIGHT + row * self._card_height, self._width, self._card_height))

    def _scroll_to_cursor(self) -> None:
        capacity = self._capacity
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + capacity:
            self.top = self.cursor - capacity + 1
        self.top = max(0, min(self.top, max(0, self.count - capacity)))

    def redraw(self, *, drop_cache: bool = False) -> None:
        """The column's data changed: clamp the cursor and draw again."""
        if drop_cache:
            self._strips.clear()
        self._window = None
        self._measure()
        self.cursor = max(0, min(self.cursor, self.count - 1))
        self._scroll_to_cursor()
        self.refresh()

    def set_masked(self, masked: bool) -> None:
        if masked != self.masked:
            self.masked = masked
            self.refresh()

    # --- events ------------------------------------------------------------------------------

    def _measure(self) -> None:
        width, height = self.size
        card = card_height(self.board.snapshot.layout)
        capacity = max(1, (height - HEADER_HEIGHT) // card)
        if (width, capacity, card) != (self._width, self._capacity, self._card_height):
            self._width, self._capacity, self._card_height = width, capacity, card
            self._strips.clear()
            self._headers.clear()
            self._window = None
            self._scroll_to_cursor()

    def on_resize(self, _event: events.Resize) -> None:
        self._measure()
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        # The size once per paint, not per line (the size property is not free).
        self._measure()
        return super().render_lines(crop)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()
        self._headers.clear()

    def on_click(self, event: events.Click) -> None:
        if event.y >= HEADER_HEIGHT:
            index = self.top + (event.y - HEADER_HEIGHT) // self._card_height
            self.post_message(self.CardClicked(self, min(index, max(0, self.count - 1))))
        else:
            self.post_message(self.CardClicked(self, self.cursor))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.post_message(self.Scrolled(self, 1))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.post_message(self.Scrolled(self, -1))

    # --- drawing -----------------------------------------------------------------------------

    def _card_styles(self) -> CardStyles:
        if self._styles is None:
            get = self.get_component_rich_style
            base = self.rich_style
            self._styles = CardStyles(
                base=base,
                card=get("stage-column--card"),
                focused=get("stage-column--card-focused"),
                title=get("stage-column--title", partial=True),
                muted=get("stage-column--muted", partial=True),
                stars=get("stage-column--stars", partial=True),
                aging=get("stage-column--aging", partial=True),
                overdue=get("stage-column--overdue", partial=True),
                due_today=get("stage-column--due-today", partial=True),
            )
            self._header_styles = (
                get("stage-column--header"),
                get("stage-column--header-active"),
            )
        return self._styles

    def _visible_cards(self) -> tuple[list[Card], dt.date]:
        today = clock.today()
        key = (self.top, self._capacity, today)
        if self._window is None or self._window[0] != key:
            self._window = (key, self.board.cards(self.stage.id, self.top, self._capacity))
        return self._window[1], today

    def render_line(self, y: int) -> Strip:
        width = self._width
        styles = self._card_styles()
        if y < HEADER_HEIGHT:
            return self._header_line(y, width, styles)
        row, offset = divmod(y - HEADER_HEIGHT, self._card_height)
        cards, today = self._visible_cards()
        if row >= len(cards):
            if row == 0 and offset == 0 and not cards:
                text = "  no deals" if not self.board.snapshot.filter else "  no match"
                return Strip([Segment(text, styles.base + styles.muted)], len(text)).extend_cell_length(width, styles.base)
            return Strip.blank(width, styles.base)
        card = cards[row]
        focused = self.active and self.top + row == self.cursor
        key = (card, width, focused, self.masked, today)
        strips = self._strips.get(key)
        if strips is None:
            if len(self._strips) > 400:
                self._strips.clear()
            strips = card_strips(card, self.stage, width, styles, focused=focused, masked=self.masked, today=today,
                                 layout=self.board.snapshot.layout)
            self._strips[key] = strips
        return strips[offset]

    def _header_line(self, y: int, width: int, styles: CardStyles) -> Strip:
        column = self.board.column(self.stage.id)
        key = (y, width, self.active, column.count, column.amount_cents, self.masked, self.top, self._capacity,
               self.closed_label, self.stage)
        cached = self._headers.get(key)
        if cached is None:
            if len(self._headers) > 60:
                self._headers.clear()
            cached = self._headers[key] = self._draw_header_line(y, width, styles, column)
        return cached

    def _draw_header_line(self, y: int, width: int, styles: CardStyles, column) -> Strip:  # noqa: ANN001
        style = self._header_styles[1 if self.active else 0]
        muted = styles.muted
        accent = Style(color=self.stage.color)  # the stage's own colour, if it has one
        inner = width - 2
        if y == 0:
            count = f"{column.count:,}"
            name = truncate(self.stage.name, inner - len(count) - 1)
            gap = max(1, inner - len(name) - len(count))
            segments = [Segment(" " + name, style + Style(bold=True) + accent), Segment(" " * gap, style), Segment(count + " ", style)]
        elif y == 1:
            total = format_money_short(column.amount_cents, masked=self.masked)
            if self.stage.is_open:
                text = f"{total} · weighted {format_money_short(column.weighted_cents, masked=self.masked)}"
            else:
                text = f"{total} · {self.closed_label}" if self.closed_label else total
            segments = [Segment(" " + truncate(text, inner) + " ", style + muted)]
        else:
            capacity = self._capacity
            if column.count > capacity:
                last = min(column.count, self.top + capacity)
                label = f" {self.top + 1:,}–{last:,} of {column.count:,} "
            else:
                label = ""
            rule = "─" * max(0, (width - len(label)) // 2)
            text = (rule + label + rule).ljust(width, "─")[:width]
            segments = [Segment(text, styles.base + (accent if self.stage.color else muted))]
        return Strip(segments).adjust_cell_length(width, style)
