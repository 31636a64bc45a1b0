"""A deal card drawn as a few lines of segments (Line API): no widget per deal.

`card_strips` turns a `Card` into `CARD_HEIGHT` strips of a given width. A column draws the few
cards on screen with it and caches the strips, so a key that moves the cursor redraws two cards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from crmtui.store.board import BoardStage, Card
from crmtui.store.money import format_money, format_money_short

CARD_LINES = 4  # lines of text on a card
CARD_HEIGHT = CARD_LINES + 1  # plus a blank line between cards


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
                 masked: bool) -> list[Segment]:
    """The amount whole: in full, or compact (12.5k) when that does not fit beside the days in
    stage, which go before the amount is cut; the stars only when they fit whole too."""
    full = format_money(card.amount_cents, card.currency or "", masked=masked)
    short = format_money_short(card.amount_cents, card.currency or "", masked=masked)
    right_len = sum(cell_len(t) for t, _ in right)
    room = width - right_len - (1 if right_len else 0)
    if room < max(4, cell_len(short)):
        right, room = [], width
    amount = full if cell_len(full) <= room else short
    parts = [(amount, Style())]
    rating = stars(card.confidence)
    if rating and cell_len(amount) + 2 + cell_len(rating) <= room:
        parts += [("  ", Style()), (rating, styles.stars)]
    return _line(parts, right, width, bg)


def card_strips(
    card: Card,
    stage: BoardStage,
    width: int,
    styles: CardStyles,
    *,
    focused: bool,
    masked: bool,
    today: dt.date,
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
        if card.closed_on:
            right = [(short_date(card.closed_on, today), styles.muted)]
        if stage.kind == "lost":
            status = [(f"lost: {card.lost_reason}" if card.lost_reason else "lost", styles.muted)]
        else:
            status = [("won" if stage.kind == "won" else "closed", styles.muted)]

    lines = [
        _line([(card.title, styles.title)], [], inner, bg),
        _line([(card.customer or "—", styles.muted)], [], inner, bg),
        _amount_line(card, right, inner, bg, styles, masked=masked),
        _line(status, [], inner, bg),
    ]
    strips = [Strip([marker, pad, *segments, pad, edge], width) for segments in lines]
    strips.append(Strip.blank(width, styles.base))
    return strips
