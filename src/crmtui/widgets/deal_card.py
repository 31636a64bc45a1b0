"""A deal card drawn as a few lines of segments (Line API): no widget per deal.

`card_strips` turns a `Card` into `card_height(layout)` strips of a given width. A column draws the
few cards on screen with it and caches the strips, so a key that moves the cursor redraws two cards.
The board's `CardLayout` (from the settings) says what a card shows beyond the usual lines.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from crmtui.store.board import BoardStage, Card
from crmtui.store.board_fields import DEFAULT_LAYOUT, CardField, CardLayout
from crmtui.store.money import format_money, format_money_short

CARD_LINES = 4  # lines of text on the usual card
CARD_HEIGHT = CARD_LINES + 1  # plus a blank line between cards


def card_height(layout: CardLayout) -> int:
    """Rows a card takes on a board with this layout, the blank line after it included."""
    return layout.lines + 1


@dataclass(frozen=True)
class CardStyles:
    """The Rich styles a card is drawn with (from the column's component classes)."""

    base: Style  # the column behind the cards
    card: Style
    focused: Style
    title: Style
    muted: Style
    stars: Style
    aging: Style
    overdue: Style
    due_today: Style


def short_date(day: dt.date, today: dt.date) -> str:
    """`20 Nov`, or `20 Nov 2025` outside the current year."""
    text = f"{day.day} {day.strftime('%b')}"
    return text if day.year == today.year else f"{text} {day.year}"


def stars(confidence: int | None) -> str:
    return "" if not confidence else "★" * confidence + "☆" * (5 - confidence)


def truncate(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    out = ""
    for ch in text:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def _line(parts: list[tuple[str, Style]], right: list[tuple[str, Style]], width: int, bg: Style) -> list[Segment]:
    """Left parts, right parts flush right, truncated to `width` cells over background `bg`."""
    right_len = sum(cell_len(t) for t, _ in right)
    room = width - right_len - (1 if right_len else 0)
    if room < 4:  # no space for both: drop the right side
        right, right_len, room = [], 0, width
    segments: list[Segment] = []
    used = 0
    for text, style in parts:
        text = truncate(text, room - used)
        if not text:
            break
        segments.append(Segment(text, bg + style))
        used += cell_len(text)
    gap = width - used - right_len
    if gap > 0:
        segments.append(Segment(" " * gap, bg))
    segments.extend(Segment(t, bg + s) for t, s in right)
    return segments


def _amount_line(card: Card, right: list[tuple[str, Style]], width: int, bg: Style, styles: CardStyles, *,
                 masked: bool, layout: CardLayout) -> list[Segment]:
    """The amount whole: in full, or compact (12.5k) when that does not fit beside the days in
    stage, which go before the amount is cut; the stars only when they fit whole too. A hidden
    amount or confidence leaves its place empty."""
    full = format_money(card.amount_cents, card.currency or "", masked=masked) if layout.amount else ""
    short = format_money_short(card.amount_cents, card.currency or "", masked=masked) if layout.amount else ""
    right_len = sum(cell_len(t) for t, _ in right)
    room = width - right_len - (1 if right_len else 0)
    if room < max(4, cell_len(short)):
        right, room = [], width
    amount = full if cell_len(full) <= room else short
    parts = [(amount, Style())] if amount else []
    rating = stars(card.confidence) if layout.confidence else ""
    gap = [("  ", Style())] if amount else []
    if rating and cell_len(amount) + 2 * len(gap) + cell_len(rating) <= room:
        parts += [*gap, (rating, styles.stars)]
    return _line(parts, right, width, bg)


def field_text(card_field: CardField, value: Any, *, masked: bool, today: dt.date) -> str:  # noqa: ANN401
    """A card field's value as a card shows it: amounts compact, ratings as stars, dates short."""
    if value is None or value == "":
        return "—"
    kind = card_field.kind
    try:
        if kind == "money":
            return format_money_short(int(value), masked=masked)
        if kind == "rating":
            return stars(int(value))
        if kind == "date":
            return short_date(dt.date.fromisoformat(str(value)[:10]), today)
        if kind == "multichoice":
            return ", ".join(str(v) for v in json.loads(value))
    except (ValueError, TypeError):
        pass  # edited by hand: as stored
    return str(value)


def _fields_line(pairs: list[tuple[CardField, Any]], width: int, bg: Style, styles: CardStyles, *, masked: bool,
                 today: dt.date) -> list[Segment]:
    """One or two fields, each its label (muted) and value; two share the line, half each. A
    label gives way to its value when both do not fit."""
    rooms = [width] if len(pairs) == 1 else [(width - 1) // 2, width - (width - 1) // 2 - 1]
    halves = []
    for (card_field, value), room in zip(pairs, rooms, strict=True):
        text = field_text(card_field, value, masked=masked, today=today)
        label = f"{card_field.label} "
        parts = [(label, styles.muted), (text, Style())] if cell_len(label + text) <= room else [(text, Style())]
        halves.append(_line(parts, [], room, bg))
    return halves[0] if len(halves) == 1 else [*halves[0], Segment(" ", bg), *halves[1]]


def card_strips(
    card: Card,
    stage: BoardStage,
    width: int,
    styles: CardStyles,
    *,
    focused: bool,
    masked: bool,
    today: dt.date,
    layout: CardLayout = DEFAULT_LAYOUT,
) -> list[Strip]:
    """The lines of one card, `width` cells wide: a one-cell margin each side of the card and
    one cell of padding inside it."""
    bg = styles.focused if focused else styles.card
    inner = max(1, width - 4)
    marker = Segment("▌" if focused else " ", styles.base + Style(color=styles.focused.bgcolor) if focused else styles.base)
    pad = Segment(" ", bg)
    edge = Segment(" ", styles.base)

    right: list[tuple[str, Style]] = []
    if stage.is_open:
        days = card.days_in_stage(today)
        if stage.expected_days is not None and days > stage.expected_days:
            right = [(f"{days}d ⚠", styles.aging)]
        else:
            right = [(f"{days}d", styles.muted)]
        if card.next_due is None:
            status = [("no next step", styles.muted)]
        elif card.next_due < today:
            status = [(f"overdue {short_date(card.next_due, today)}", styles.overdue)]
        elif card.next_due == today:
            status = [("due today", styles.due_today)]
        else:
            status = [(f"next {short_date(card.next_due, today)}", styles.muted)]
    else:
        if card.closed_on and layout.closed_on:
            right = [(short_date(card.closed_on, today), styles.muted)]
        if stage.kind == "lost":
            reason = card.lost_reason if layout.lost_reason else None
            status = [(f"lost: {reason}" if reason else "lost", styles.muted)]
        else:
            status = [("won" if stage.kind == "won" else "closed", styles.muted)]

    lines = [_line([(card.title, styles.title)], [], inner, bg)]
    if layout.customer:
        lines.append(_line([(card.customer or "—", styles.muted)], [], inner, bg))
    lines.append(_amount_line(card, right, inner, bg, styles, masked=masked, layout=layout))
    pairs = list(zip(layout.fields, card.extra, strict=False))
    for start in range(0, len(pairs), 2):
        lines.append(_fields_line(pairs[start:start + 2], inner, bg, styles, masked=masked, today=today))
    lines.append(_line(status, [], inner, bg))
    strips = [Strip([marker, pad, *segments, pad, edge], width) for segments in lines]
    strips.append(Strip.blank(width, styles.base))
    return strips
