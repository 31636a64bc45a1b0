"""The pipeline board, the home screen: every deal of a pipeline by stage, triaged from the keys.

Nothing here mounts a widget per deal: one `StageColumn` per stage draws the cards on screen from
`BoardData` (ordered ids in memory, card details paged from SQLite by id). A change (move, won,
lost, new, trash, undo) is written through `store.board_actions` and then re-placed in memory,
so column totals are never recounted per key. Filter, sort, pipeline, refresh and changes made by
another process reload the board in a worker thread.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Header, Input, Static

from crmtui.markup import plain
from crmtui.store.board import (
    CLOSED_DAYS,
    SORT_ORDER,
    BoardData,
    BoardFilter,
    BoardSnapshot,
    find_sort,
    load_board,
    sort_spec,
)
from crmtui.store.board_fields import cycle_sorts
from crmtui.store.errors import DatabaseError, NotFound, ValidationError
from crmtui.store.money import format_money
from crmtui.widgets.footer import AppFooter
from crmtui.widgets.stage_column import StageColumn

EMPTY_TEXT = """[b]No deals yet.[/b]

Add one here:                press [b]n[/b]
Import a CSV file:           press [b]I[/b], or from the shell [b]crmtui import FILE[/b]
Or try it with sample data:  [b]crmtui demo[/b]  (then [b]r[/b] here)"""

MIN_COLUMN_WIDTH = 26
EXTERNAL_CHECK_SECONDS = 3.0
FILTER_DELAY = 0.15
NOTICE_SECONDS = 4.0


def _actions():  # noqa: ANN202 - the module
    """The board's writes (`store.board_actions`), imported on the first one: they bring the
    models and most of the store (~20 ms of imports here), which the board's first paint does
    without. The app imports them in the background once it is up."""
    from crmtui.store import board_actions

    return board_actions


class BoardView(Widget, can_focus=True):
    """The row of stage columns; scrolls sideways. Holds the keys that act on the focused card."""

    BINDINGS = [
        Binding("enter", "screen.open_deal", "Open", show=False, id="board.open"),
        Binding("greater_than_sign,shift+right", "screen.step(1)", "Next", tooltip="Next stage", id="board.next_stage"),
        Binding("less_than_sign,shift+left", "screen.step(-1)", "Back", tooltip="Previous stage", id="board.prev_stage"),
        Binding("w", "screen.win", "Won", id="board.won"),
        Binding("x", "screen.lose", "Lost", id="board.lost"),
        Binding("delete", "screen.trash", "Trash", show=False, id="board.trash"),
        Binding("down,j", "screen.cursor(1)", "Next card", show=False, id="board.down"),
        Binding("up,k", "screen.cursor(-1)", "Previous card", show=False, id="board.up"),
        Binding("right,l", "screen.column(1)", "Next column", show=False, id="board.right"),
        Binding("left,h", "screen.column(-1)", "Previous column", show=False, id="board.left"),
        Binding("g,home", "screen.first", "First card", show=False, id="board.first"),
        Binding("G,end", "screen.last", "Last card", show=False, id="board.last"),
        Binding("pagedown", "screen.page(1)", "Page down", show=False, id="board.page_down"),
        Binding("pageup", "screen.page(-1)", "Page up", show=False, id="board.page_up"),
    ]

    DEFAULT_CSS = """
    BoardView {
        layout: horizontal;
        overflow-x: auto;
        overflow-y: hidden;
        height: 1fr;
        scrollbar-size-horizontal: 1;
    }
    """

    class Resized(Message):
        """The view changed size (the screen keeps the active column in sight)."""

    def on_resize(self, _event: Resize) -> None:
        self.size_columns()
        self.post_message(self.Resized())

    def size_columns(self) -> None:
        """As many whole columns as fit side by side share the width; the rest scroll sideways.
        The cells left over (80 // 3 = 26, two over) are padding: there the next column would show
        the first characters of its name and total."""
        width = self.size.width + self.styles.padding.right
        visible = [c for c in self.query_children(StageColumn) if c.display]
        if not width or not visible:
            return
        fit = max(1, min(len(visible), width // MIN_COLUMN_WIDTH))
        column_width = width // fit
        spare = width - fit * column_width if len(visible) > fit else 0
        if self.styles.padding.right != spare:
            self.styles.padding = (0, spare, 0, 0)
        for column in visible:
            if column.styles.width is None or column.styles.width.value != column_width:
                column.styles.width = column_width


class SummaryLine(Static):
    """The pipeline's totals, and at the right end what the last quick action did: a line the
    screen has anyway. A toast per key costs more than the move it confirms (a widget made, laid
    out and animated)."""

    notice = ""

    def render(self) -> Content:
        totals = self.visual
        if not self.notice:
            return totals
        # The totals give way (an ellipsis) on a narrow screen; the notice keeps its place.
        notice = Content(self.notice)
        room = max(0, self.content_size.width - notice.cell_length - 2)
        return totals.truncate(room, ellipsis=True, pad=True) + "  " + notice


class BoardScreen(Screen[None]):
    """Columns per stage of the current pipeline, and the keys that triage and move deals on them."""

    CSS_PATH = "board.tcss"
    BINDINGS = [
        Binding("n", "new_deal", "New", id="board.new"),
        Binding("u", "undo", "Undo", id="board.undo"),
        Binding("slash", "filter", "Filter", id="board.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="board.clear_filter"),
        Binding("s", "sort", "Sort", id="board.sort"),  # close, amount, age, updated, then the fields
        Binding("S", "sort_by", "Sort by…", show=False, tooltip="Sort by a field you name", id="board.sort_by"),
        Binding("c", "toggle_closed", "Closed", id="board.closed"),
        Binding("p", "pipeline", "Pipeline", id="board.pipeline"),
        Binding("r", "refresh_data", "Refresh", show=False, id="board.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: BoardData | None = None
        self.columns: list[StageColumn] = []
        self.active = 0  # index into self.columns
        self.show_closed = True
        self._conn: sqlite3.Connection | None = None
        self._data_version = 0
        self._writes = 0  # own writes: a reload that started before one is stale
        self._filter_timer: Timer | None = None
        self._pending_focus: int | None = None
        self._had_card = True
        self._notice_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SummaryLine("", id="board-summary", classes="screen-title")
        yield Input(
            placeholder="filter: words (title, company, contact, tag), #tag, field:value, field>N; esc clears",
            id="board-filter",
            compact=True,
        )
        yield Static("", id="board-filter-error", markup=False)
        yield BoardView(id="board-view")
        yield Static(EMPTY_TEXT, id="board-empty", classes="empty-state", markup=True)
        yield AppFooter(compact=True)

    # --- loading -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._conn = self.app.database.raw()
        self._data_version = self._read_data_version()
        # The first load is inline: the first paint shows the cards (tens of ms at 10,000 deals).
        snapshot = load_board(self._conn)
        self.board = BoardData(self._conn, snapshot)
        self._apply(snapshot, self._writes)
        self.query_one(BoardView).focus()
        self.watch(self.app, "privacy", self._privacy_changed, init=False)
        self.watch(self.app, "app_focus", self._app_focus_changed, init=False)
        self.set_interval(EXTERNAL_CHECK_SECONDS, self.check_external_change)

    def on_unmount(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _write(self):  # noqa: ANN202 - a session
        """A transaction on the board's own connection: PRAGMA data_version read on it changes
        only for other programs' commits, so the board's own moves do not reload it (a reload of
        100,000 deals is 0.1 s of CPU, and moves made meanwhile start another)."""
        return self.app.database.session(conn=self._conn)

    def _read_data_version(self) -> int:
        # Our own connection: PRAGMA data_version is per connection, so comparing its values is
        # only meaningful on one that stays the same (a pooled one may not).
        assert self._conn is not None
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def reload(self, *, focus_deal: int | None = None, **changes: Any) -> None:
        """Load the board again in a worker (filter, sort, pipeline, refresh, external change)."""
        snap = self.board.snapshot if self.board else None
        params = {
            "pipeline_id": snap.pipeline_id if snap else None,
            "sort": snap.sort if snap else "close",
            "flt": snap.filter if snap else BoardFilter(),
        }
        params.update(changes)
        self._pending_focus = focus_deal if focus_deal is not None else self.focused_deal_id()
        self._load(params, self._writes)

    @work(thread=True, exclusive=True, group="board-load")
    def _load(self, params: dict[str, Any], writes: int) -> None:
        conn = self.app.database.raw()
        try:
            snapshot = load_board(conn, **params)
        finally:
            conn.close()
        self.app.call_from_thread(self._apply, snapshot, writes)

    def _apply(self, snapshot: BoardSnapshot, writes: int) -> None:
        if self.board is None or self._conn is None:
            return
        if writes != self._writes:  # a change was made while this loaded: load again
            self.reload(pipeline_id=snapshot.pipeline_id, sort=snapshot.sort, flt=snapshot.filter)
            return
        focus = self._pending_focus if self._pending_focus is not None else self.focused_deal_id()
        self._pending_focus = None
        old_stages = [c.stage for c in self.columns]
        self.board.replace(snapshot)
        if old_stages != snapshot.stages:
            self._mount_columns(snapshot)
        self._closed_visibility()
        for column in self.columns:
            column.redraw(drop_cache=True)
        if (focus is None or not self.focus_deal(focus)) and self.active_column and not self.active_column.count:
            # The filter emptied the column: go to the first one with cards.
            first = next((i for i, c in enumerate(self.columns) if c.display and c.count), None)
            if first is not None:
                self._activate(first)
        self._show_empty_state()
        self._update_summary()
        self._card_keys_follow()

    def _mount_columns(self, snapshot: BoardSnapshot) -> None:
        view = self.query_one(BoardView)
        for column in self.columns:
            column.remove()
        # No ids: the old columns are still being removed while the new ones mount.
        self.columns = [StageColumn(self.board, stage) for stage in snapshot.stages]
        for column in self.columns:
            column.masked = self.app.privacy
            column.closed_label = f"last {CLOSED_DAYS} days"
        view.mount(*self.columns)
        self.active = 0
        self._size_columns()

    def _show_empty_state(self) -> None:
        empty = not self.board.snapshot.has_deals
        view = self.query_one(BoardView)
        self.query_one("#board-empty").display = empty
        view.display = not empty
        if not empty and self.focused is None:
            view.focus()
        self.refresh_bindings()

    def _update_summary(self, notice: str | None = None) -> None:
        """The totals; `notice` (what a quick action did) shows at their right until the next
        one or for a few seconds. Warnings and errors stay toasts, to be seen."""
        line = self.query_one("#board-summary", SummaryLine)
        if notice is not None:
            line.notice = notice
            if self._notice_timer is not None:
                self._notice_timer.stop()
            if notice:
                self._notice_timer = self.set_timer(NOTICE_SECONDS, lambda: self._update_summary(notice=""))
        snap = self.board.snapshot
        masked = self.app.privacy
        deals, amount, weighted = snap.open_totals()
        parts = [
            f"[b]{plain(snap.pipeline_name)}[/b]",
            f"{deals:,} open",
            f"pipeline {format_money(amount, masked=masked)}",
            f"weighted {format_money(weighted, masked=masked)}",
        ]
        if snap.filter:
            parts.append(f"filter [b]{plain(snap.filter.text)}[/b]")
        parts.append(f"sort: {plain(snap.sort_label)}")
        if not self.show_closed:
            parts.append("closed hidden")
        # One line of a fixed size: no layout of the screen for it.
        line.update(" · ".join(parts), layout=False)

    # --- external changes --------------------------------------------------------------------

    def check_external_change(self) -> None:
        """Reload when another process committed to the database (a cheap pragma)."""
        if self._conn is None or self.app.screen is not self:
            return
        version = self._read_data_version()
        if version != self._data_version:
            self._data_version = version
            self.reload()

    def _app_focus_changed(self, focused: bool) -> None:
        if focused:
            self.check_external_change()

    def on_screen_resume(self) -> None:
        if self.board is not None:
            self.check_external_change()

    def _after_write(self) -> None:
        # A reload that started before this write shows the board without it: `_apply` loads again.
        self._writes += 1

    # --- layout ------------------------------------------------------------------------------

    def visible_columns(self) -> list[StageColumn]:
        return [c for c in self.columns if c.display]

    def _closed_visibility(self) -> None:
        for column in self.columns:
            column.display = column.stage.is_open or self.show_closed
        if self.columns and not self.columns[self.active].display:
            self.active = max(i for i, c in enumerate(self.columns) if c.display) if self.visible_columns() else 0
        self._size_columns()
        self._mark_active()

    @on(BoardView.Resized)
    def _on_view_resize(self) -> None:
        self.call_after_refresh(self._scroll_to_active)

    def _size_columns(self) -> None:
        self.query_one(BoardView).size_columns()
        self.call_after_refresh(self._scroll_to_active)

    def _scroll_to_active(self) -> None:
        """Scroll sideways by whole columns so that the active one shows."""
        visible = self.visible_columns()
        column = self.active_column
        if column is None or column not in visible or not column.size.width:
            return
        view = self.query_one(BoardView)
        width = column.size.width
        fit = max(1, view.scrollable_content_region.width // width)
        first = round(view.scroll_x / width)
        position = visible.index(column)
        if position < first:
            first = position
        elif position >= first + fit:
            first = position - fit + 1
        first = max(0, min(first, len(visible) - fit))
        if view.scroll_x != first * width:
            view.scroll_to(x=first * width, animate=False, immediate=True)

    def _mark_active(self) -> None:
        for i, column in enumerate(self.columns):
            column.set_active(i == self.active)

    # --- focus -------------------------------------------------------------------------------

    @property
    def active_column(self) -> StageColumn | None:
        return self.columns[self.active] if self.columns else None

    def focused_deal_id(self) -> int | None:
        column = self.active_column
        return column.focused_deal_id() if column else None

    def focus_deal(self, deal_id: int) -> bool:
        """Make a deal's card the focused one (switching column); False when it is not shown."""
        for i, column in enumerate(self.columns):
            index = self.board.column(column.stage.id).index_of(deal_id) if column.display else None
            if index is not None:
                self._activate(i)
                column.set_cursor(index)
                return True
        return False

    def _activate(self, index: int) -> None:
        if index != self.active:
            self.active = index
            self._mark_active()
        self._scroll_to_active()
        self._card_keys_follow()

    def _card_keys_follow(self) -> None:
        """Grey the card keys in the Footer when no card is focused (only when that flips)."""
        has_card = self.focused_deal_id() is not None
        if has_card != self._had_card:
            self._had_card = has_card
            self.refresh_bindings()

    # --- navigation --------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        column = self.active_column
        if column is not None:
            column.set_cursor(column.cursor + delta)

    def action_page(self, delta: int) -> None:
        column = self.active_column
        if column is not None:
            column.page(delta)

    def action_first(self) -> None:
        if (column := self.active_column) is not None:
            column.set_cursor(0)

    def action_last(self) -> None:
        if (column := self.active_column) is not None:
            column.set_cursor(column.count - 1)

    def action_column(self, delta: int) -> None:
        visible = [i for i, c in enumerate(self.columns) if c.display]
        if self.active not in visible:
            return
        position = visible.index(self.active) + delta
        if 0 <= position < len(visible):
            self._activate(visible[position])

    @on(StageColumn.CardClicked)
    def _card_clicked(self, message: StageColumn.CardClicked) -> None:
        self.query_one(BoardView).focus()
        self._activate(self.columns.index(message.column))
        message.column.set_cursor(message.index)

    @on(StageColumn.Scrolled)
    def _column_scrolled(self, message: StageColumn.Scrolled) -> None:
        message.column.set_cursor(message.column.cursor + message.delta)

    # --- changes -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pipeline":
            return self.board is not None and len(self.board.snapshot.pipelines) > 1
        if action == "clear_filter":
            return True
        if action in {"step", "win", "lose", "trash", "open_deal", "cursor", "column", "first", "last", "page"}:
            if self.board is None or not self.board.snapshot.has_deals:
                return False  # the empty board: only what helps to start
            if action in {"step", "win", "lose", "trash", "open_deal"}:
                return True if self.focused_deal_id() is not None else None
        return True

    def _change(self, change, *args: Any, success: str) -> None:  # noqa: ANN001
        """Apply a board change to the focused deal, then put the deal where it now belongs."""
        column = self.active_column
        deal_id = self.focused_deal_id()
        if column is None or deal_id is None:
            self.notify("No deal here", severity="warning", timeout=2)
            return
        try:
            with self._write() as session:
                result = change(session, deal_id, *args)
        except (ValidationError, NotFound, DatabaseError) as exc:
            self.notify(str(exc), severity="warning", timeout=3, markup=False)
            if isinstance(exc, NotFound):  # gone meanwhile (another process): take it off the board
                self.board.resync([deal_id])
                column.redraw()
                self._update_summary()
            return
        self._after_write()
        if not result.changed:
            self._update_summary(notice=f"Already in {result.to_stage.name}")
            return
        placed = self.board.resync([deal_id], {deal_id: (column.stage.id, column.cursor)})
        for c in self.columns:
            if c.stage.id in (result.from_stage.id, result.to_stage.id):
                c.redraw()
        if deal_id in placed:
            self.focus_deal(deal_id)
        self._update_summary(notice=success.format(stage=result.to_stage.name) + " · u undoes")
        self._card_keys_follow()

    def action_step(self, direction: int) -> None:
        self._change(_actions().step, direction, success="Moved to {stage}")

    def action_win(self) -> None:
        self._change(_actions().win, success="Won")

    def action_lose(self) -> None:
        deal_id = self.focused_deal_id()
        if deal_id is None:
            return
        from crmtui.screens.lost_reason import LostReasonScreen

        def chosen(reason: str | None) -> None:
            if reason and self.focused_deal_id() == deal_id:
                self._change(_actions().lose, reason, success="Lost: " + reason.replace("{", "{{").replace("}", "}}"))

        self.app.push_screen(LostReasonScreen(self.app.database), chosen)

    def action_trash(self) -> None:
        deal_id = self.focused_deal_id()
        if deal_id is None:
            return
        from crmtui.screens.confirm import ConfirmScreen

        (card,) = self.board.cards(self.active_column.stage.id, self.active_column.cursor, 1)

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                with self._write() as session:
                    _actions().trash(session, deal_id)
            except (ValidationError, NotFound, DatabaseError) as exc:
                self.notify(str(exc), severity="warning", timeout=3, markup=False)
                return
            self._after_write()
            self.board.resync([deal_id])
            for column in self.columns:
                column.redraw()
            self._update_summary(notice="Moved to the trash · u undoes")
            self._card_keys_follow()

        self.app.push_screen(ConfirmScreen(f"Move “{card.title}” to the trash?", yes="Trash"), confirmed)

    def action_open_deal(self) -> None:
        deal_id = self.focused_deal_id()
        if deal_id is not None:
            self.app.open_record("deal", deal_id)

    def action_new_deal(self) -> None:
        from crmtui.screens.quick_add import QuickAddScreen

        column = self.active_column
        stage_id = column.stage.id if column is not None and column.stage.is_open else None

        def added(deal_id: int | None) -> None:
            if deal_id is None:
                return
            self._after_write()
            self.board.resync([deal_id])
            for c in self.columns:
                c.redraw()
            self._show_empty_state()
            shown = self.focus_deal(deal_id)
            self._update_summary(notice="Added · u undoes" if shown else "Added (hidden by the filter)")

        self.app.push_screen(
            QuickAddScreen(self.app.database, self.board.snapshot.stages, stage_id=stage_id), added
        )

    def action_undo(self) -> None:
        try:
            with self._write() as session:
                undone = _actions().undo_last(session)
        except DatabaseError as exc:
            self.notify(str(exc), severity="error", timeout=4, markup=False)
            return
        if undone is None:
            self._update_summary(notice="Nothing to undo")
            return
        self._after_write()
        focus = self.focused_deal_id()
        self.board.resync(undone.deal_ids)
        for column in self.columns:
            column.redraw()
        self._show_empty_state()
        if not (undone.deal_ids and self.focus_deal(undone.deal_ids[0])) and focus is not None:
            self.focus_deal(focus)
        self._update_summary(notice=f"Undone: {undone.label}")
        self._card_keys_follow()

    # --- filter, sort, closed, pipeline ------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#board-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#board-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        text = event.value
        self._filter_timer = self.set_timer(FILTER_DELAY, lambda: self._apply_filter(text))

    def _apply_filter(self, text: str) -> None:
        """Reload with the filter typed; a wrong field or value is shown under the filter, and
        the board stays as it was."""
        if self.board is None or self._conn is None:
            return
        message = self.query_one("#board-filter-error", Static)
        try:
            flt = BoardFilter.parse(text, self._conn)
        except ValidationError as exc:
            message.update(exc.message)
            message.display = True
            return
        message.display = False
        if flt != self.board.snapshot.filter:
            self.reload(flt=flt)

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._apply_filter(event.value)
        if self.query_one("#board-filter-error", Static).display:
            return  # stay in the filter to put it right
        event.input.display = bool(event.value.strip())
        self.query_one(BoardView).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#board-filter", Input)
        if self._filter_timer is not None:
            self._filter_timer.stop()
        had_filter = bool(field.value) or bool(self.board and self.board.snapshot.filter)
        field.value = ""
        field.display = False
        self.query_one("#board-filter-error", Static).display = False
        self.query_one(BoardView).focus()
        if had_filter:
            self._apply_filter("")

    def action_sort(self) -> None:
        """The next sort: the built-in ones, then the number, money, date and rating fields."""
        current = self.board.snapshot.sort
        order = [*SORT_ORDER, *cycle_sorts(self._conn)]
        following = order[(order.index(current) + 1) % len(order)] if current in order else order[0]
        self.reload(sort=following)
        self.notify(f"Sort: {sort_spec(self._conn, following).label}", timeout=2, markup=False)

    def action_sort_by(self) -> None:
        """Sort by a field named in a prompt (any deal field, built-in or custom)."""
        from crmtui.screens.prompt import PromptScreen

        def check(name: str) -> str | None:
            try:
                find_sort(self._conn, name)
            except ValidationError as exc:
                return exc.message
            return None

        def chosen(name: str | None) -> None:
            if name and self._conn is not None:
                sort = find_sort(self._conn, name)
                self.reload(sort=sort)
                self.notify(f"Sort: {sort_spec(self._conn, sort).label}", timeout=2, markup=False)

        self.app.push_screen(PromptScreen("Sort the columns by", placeholder="close, amount, age, updated, or a field",
                                          check=check), chosen)

    def action_toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        self._closed_visibility()
        if self.active_column is not None:
            self.active_column.redraw()
        self._update_summary()

    def action_pipeline(self) -> None:
        pipelines = self.board.snapshot.pipelines
        ids = [p[0] for p in pipelines]
        current = ids.index(self.board.snapshot.pipeline_id) if self.board.snapshot.pipeline_id in ids else 0
        following = pipelines[(current + 1) % len(pipelines)]
        self.reload(pipeline_id=following[0])
        self.notify(f"Pipeline: {following[1]}", timeout=2, markup=False)

    def action_refresh_data(self) -> None:
        if self._conn is not None:
            self._data_version = self._read_data_version()
        self.reload()

    # --- privacy -----------------------------------------------------------------------------

    def _privacy_changed(self, masked: bool) -> None:
        for column in self.columns:
            column.set_masked(masked)
        self._update_summary()


