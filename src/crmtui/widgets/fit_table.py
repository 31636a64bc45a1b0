"""A table whose columns always fit its width: nothing runs off the right edge, no number is cut.

Each column says how it gives way when the table is narrow: text narrows (with an ellipsis) down to
`shrink_to`, an amount column writes its amounts compact (12.5k) rather than in full (12,500), and
a column with a `drop` rank is left out (highest rank first) when even that is not enough. Other
columns (ids, dates, counts) always get the room their content needs. The table keeps its rows and
lays them out again when its width changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from crmtui.store.money import format_money, format_money_short


@dataclass(frozen=True)
class Col:
    label: str
    key: str
    shrink_to: int | None = None  # text that may be shortened, down to this width; None: never shortened
    drop: int = 0  # > 0: may be left out on a narrow table, the highest rank first


@dataclass(frozen=True)
class Amount:
    """A money cell: in full where its column has room for every amount, compact where not."""

    cents: int | None
    currency: str = ""
    masked: bool = False
    style: str = ""

    @property
    def full(self) -> str:
        return format_money(self.cents, self.currency, masked=self.masked)

    @property
    def short(self) -> str:
        return format_money_short(self.cents, self.currency, masked=self.masked)


Row = tuple[str, Sequence[Any]]  # (row key, cells: Text, Amount, or str/int/None shown as plain text)


def _widths(cell: Any) -> tuple[int, int]:  # noqa: ANN401
    """(narrowest, natural) width of a cell."""
    if isinstance(cell, Amount):
        return cell_len(cell.short), cell_len(cell.full)
    width = cell.cell_len if isinstance(cell, Text) else cell_len(_plain(cell))
    return width, width


def fit_widths(least: Sequence[int], natural: Sequence[int], drop: Sequence[int], shrinks: Sequence[bool],
               room: int, padding: int, *, fill: bool = False) -> list[int | None]:
    """The width of each column (None: left out) so that all of them, each with `padding`, fit
    `room` cells. Amounts get their full width before text gets more than its least. With `fill`,
    the first text column takes the cells left over."""
    shown = list(range(len(least)))

    def total(widths: dict[int, int]) -> int:
        return sum(widths[i] + padding for i in shown)

    widths = {i: least[i] for i in shown}
    for i in sorted((i for i in shown if drop[i]), key=lambda i: (-drop[i], -i)):
        if total(widths) <= room:
            break
        shown.remove(i)
        del widths[i]
    spare = room - total(widths)
    for i in shown:  # amounts in full, when there is room for every one of them
        if not shrinks[i] and spare >= natural[i] - widths[i]:
            spare -= natural[i] - widths[i]
            widths[i] = natural[i]
    growing = [i for i in shown if shrinks[i] and natural[i] > widths[i]]
    wanted = sum(natural[i] - widths[i] for i in growing)
    if spare >= wanted:
        widths.update({i: natural[i] for i in growing})
    elif spare > 0:
        shares = {i: spare * (natural[i] - widths[i]) // wanted for i in growing}
        for i in growing:
            widths[i] += shares[i]
        for i in growing[: spare - sum(shares.values())]:
            widths[i] += 1
    texts = [i for i in shown if shrinks[i]]
    if fill and texts and total(widths) < room:
        widths[texts[0]] += room - total(widths)
    while total(widths) > room:  # narrower than the least of everything: text gives up more
        widest = max((i for i in shown if shrinks[i] and widths[i] > 1), key=lambda i: widths[i], default=None)
        if widest is None:
            break
        widths[widest] -= 1
    return [widths.get(i) for i in range(len(least))]


class FitTable(DataTable):
    """A DataTable filled with `show(rows)`; its columns are fitted to its width, never wider."""

    def __init__(self, columns: Sequence[Col], *, fill: bool = False, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(**kwargs)
        self.specs = list(columns)
        self.fill = fill  # the first text column takes the width the others leave
        self._rows: list[Row] = []
        self._least: list[int] = []
        self._natural: list[int] = []
        self._laid_out: list[int | None] | None = None
        self._measure()

    def show(self, rows: Iterable[Row], columns: Sequence[Col] | None = None) -> None:
        """Replace the rows (and, given, the columns), keeping the cursor on the same row number."""
        if columns is not None:
            self.specs = list(columns)
        self._rows = list(rows)
        self._measure()
        self._lay_out(force=True)

    def on_resize(self, _event: events.Resize) -> None:
        self._lay_out()

    def watch_show_vertical_scrollbar(self) -> None:
        self._lay_out()  # the scrollbar takes its cells from the columns

    def _measure(self) -> None:
        least, natural = [], []
        for n, spec in enumerate(self.specs):
            label = cell_len(spec.label)
            cells = [_widths(cells[n]) for _key, cells in self._rows]
            most = max([label, *(w for _, w in cells)])
            natural.append(most)
            if spec.shrink_to is None:
                least.append(max([label, *(w for w, _ in cells)]))
            else:
                least.append(min(spec.shrink_to, most))
        self._least, self._natural = least, natural

    def _lay_out(self, *, force: bool = False) -> None:
        room = self.size.width - self.scrollbar_size_vertical
        if room <= 0:  # not laid out yet: as wide as the content
            widths: list[int | None] = list(self._natural)
        else:
            widths = fit_widths(self._least, self._natural, [c.drop for c in self.specs],
                                [c.shrink_to is not None for c in self.specs], room, 2 * self.cell_padding,
                                fill=self.fill)
        if widths == self._laid_out and not force:
            return
        self._laid_out = widths
        keep = self.cursor_row
        self.clear(columns=True)
        shown = [(n, spec, width) for n, (spec, width) in enumerate(zip(self.specs, widths)) if width is not None]
        for _n, spec, width in shown:
            self.add_column(spec.label, key=spec.key, width=width)
        for key, cells in self._rows:
            self.add_row(*(self._cell(cells[n], width < self._natural[n]) for n, _spec, width in shown), key=key)
        if self.row_count:
            self.move_cursor(row=min(max(keep, 0), self.row_count - 1))

    @staticmethod
    def _cell(cell: Any, narrowed: bool) -> Text:  # noqa: ANN401
        if isinstance(cell, Amount):
            return Text(cell.short if narrowed else cell.full, style=cell.style, justify="right")
        if isinstance(cell, Text):
            if cell.overflow is None:
                cell.overflow = "ellipsis"
            return cell
        return Text(_plain(cell), overflow="ellipsis")


def _plain(cell: Any) -> str:  # noqa: ANN401
    return "" if cell is None else str(cell)
