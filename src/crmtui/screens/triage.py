"""Triage: step through every deal that needs attention, one at a time, acting with single keys."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from crmtui.store import undo
from crmtui.store.errors import CrmError
from crmtui.widgets.footer import AppFooter

DONE_TEXT = """[b]All done.[/b] Every deal that needed attention has been seen.

esc goes back; the agenda ([b]A[/b]) shows what is left."""

NOTHING_TEXT = """[b]Nothing needs attention.[/b] No overdue tasks, no stale or aging deals, every open
deal has a next step.

esc goes back."""

# Actions that need a deal on screen; hidden from the Footer when the queue is done.
DEAL_ACTIONS = {"step", "log", "task", "snooze", "won", "lost", "open", "skip"}


class TriageScreen(Screen[None]):
    """One flagged deal at a time: its card, last activity and why it is flagged."""

    CSS_PATH = "agenda.tcss"
    BINDINGS = [
        Binding("greater_than_sign,l", "step(1)", "Next stage", id="triage.advance"),
        Binding("less_than_sign,h", "step(-1)", "Prev stage", id="triage.back_stage"),
        Binding("n", "log('note')", "Note", id="triage.note"),
        Binding("c", "log('call')", "Call", id="triage.call"),
        Binding("t", "task", "Next task", id="triage.task"),
        Binding("z", "snooze", "Snooze", id="triage.snooze"),
        Binding("w", "won", "Won", id="triage.won"),
        Binding("x", "lost", "Lost", id="triage.lost"),
        Binding("enter", "open", "Detail", id="triage.open"),
        Binding("space,j", "skip", "Skip", id="triage.skip"),
        Binding("k", "previous", "Previous", show=False, id="triage.previous"),
        Binding("u", "undo", "Undo", id="triage.undo"),
        Binding("escape", "leave", "Leave", id="triage.leave"),
    ]

    def __init__(self, queue: list[int] | None = None) -> None:
        super().__init__()
        self.queue: list[int] = list(queue or [])
        self.loaded = queue is not None
        self.index = 0
        self.undo_ids: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Finding the deals that need attention…", id="triage-progress")
        yield Static(id="triage-card")
        yield Static(id="triage-why")
        yield Static(id="triage-activity")
        yield Static(DONE_TEXT, id="triage-done", markup=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _on: self.show_current(), init=False)
        if self.loaded:
            self.show_current()
        else:
            self.load_queue()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.show_current()

    @work(thread=True, exclusive=True, group="triage")
    def load_queue(self) -> None:
        from crmtui.store.followups import attention_queue

        try:
            with self.app.database.session() as session:
                queue = attention_queue(session)
        except CrmError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error")
            queue = []
        self.app.call_from_thread(self._loaded, queue)

    def _loaded(self, queue: list[int]) -> None:
        self.queue, self.loaded, self.index = queue, True, 0
        self.show_current()

    # --- showing -------------------------------------------------------------------------------

    @property
    def current(self) -> int | None:
        return self.queue[self.index] if 0 <= self.index < len(self.queue) else None

    @property
    def left(self) -> int:
        return max(0, len(self.queue) - self.index)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DEAL_ACTIONS and self.current is None:
            return False
        return True

    def show_current(self) -> None:
        deal_id = self.current
        done = deal_id is None
        self.refresh_bindings()
        self.query_one("#triage-done", Static).update(DONE_TEXT if self.queue else NOTHING_TEXT)
        self.query_one("#triage-done").display = done
        for part in ("#triage-card", "#triage-why", "#triage-activity"):
            self.query_one(part).display = not done
        progress = self.query_one("#triage-progress", Static)
        if done:
            progress.update(f"Triage · nothing left ({len(self.queue):,} seen)")
            return
        progress.update(
            f"Triage · {self.left:,} left · deal {self.index + 1:,} of {len(self.queue):,}"
        )
        try:
            with self.app.database.session() as session:
                card, why, activity = self._facts(session, deal_id)
        except CrmError:  # deleted elsewhere meanwhile: move on
            self.queue.pop(self.index)
            self.show_current()
            return
        self.query_one("#triage-card", Static).update(card)
        self.query_one("#triage-why", Static).update(why)
        self.query_one("#triage-activity", Static).update(activity)

    def _facts(self, session, deal_id: int):  # noqa: ANN001, ANN202
        from crmtui.store.deals import deal_detail
        from crmtui.store.followups import deal_flags
        from crmtui.store.money import format_money

        row = deal_detail(session, deal_id)
        masked = self.app.privacy
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row(Text(f"#{row['id']}", style="dim"), Text(row["title"], style="bold"))
        grid.add_row("Customer", row["company"] or row["contact"] or "—")
        grid.add_row("Stage", f"{row['stage']} ({row['probability']}%)")
        grid.add_row("Amount", format_money(row["amount_cents"], row["currency"] or "", masked=masked))
        if row["confidence"]:
            grid.add_row("Confidence", "★" * row["confidence"] + "☆" * (5 - row["confidence"]))
        grid.add_row("Expected close", str(row["expected_close"] or "—"))
        if row["next_task_due"]:
            grid.add_row("Next task due", str(row["next_task_due"]))
        if row["snoozed_until"]:
            grid.add_row("Snoozed until", str(row["snoozed_until"]))
        reasons = deal_flags(session, deal_id)
        why = Text("Why: " + ("; ".join(reasons) if reasons else "nothing any more — press space for the next"),
                   style="yellow" if reasons else "green")
        last = session.execute(
            "SELECT kind, body, occurred_at FROM activity WHERE deal_id = :id AND deleted_at IS NULL"
                " AND kind != 'task' ORDER BY occurred_at DESC, id DESC LIMIT 1",
            {"id": deal_id},
        ).fetchone()
        if last is None:
            activity = Text("Last activity: none logged", style="dim")
        else:
            activity = Text(f"Last activity: {last.kind} on {str(last.occurred_at)[:10]} — {last.body}")
        return grid, why, activity

    # --- acting --------------------------------------------------------------------------------

    def _act(self, change, *, advance: bool = False, typed: bool = False) -> bool:  # noqa: ANN001
        """Run a store change in one transaction; remember its undo entry; report errors (raise
        them when the change is what was `typed` in a prompt: it shows them and keeps the text)."""
        deal_id = self.current
        if deal_id is None:
            return False
        try:
            with self.app.database.session() as session:
                before = undo.latest_id(session)
                message = change(session, deal_id)
                after = undo.latest_id(session)
        except CrmError as exc:
            if typed:
                raise
            self.notify(exc.message, severity="error")
            return False
        if after is not None and after != before:
            self.undo_ids.append(after)
        if message:
            self.notify(message, timeout=2)
        if advance:
            self.index += 1
        self.show_current()
        return True

    def action_step(self, direction: int) -> None:
        from crmtui.store import board_actions

        def change(session, deal_id):  # noqa: ANN001, ANN202
            result = board_actions.step(session, deal_id, direction)
            added = len(result.added_tasks)
            return f"Moved to {result.to_stage.name}" + (f" · {added} playbook task{'s' * (added != 1)} added"
                                                          if added else "")

        self._act(change)

    def action_log(self, kind: str) -> None:
        from crmtui.screens.prompt import PromptScreen
        from crmtui.store.activities import log_activity

        def save(body: str) -> None:
            self._act(lambda s, d: log_activity(s, kind, "deal", d, body) and f"Logged a {kind}", typed=True)

        self.app.push_screen(PromptScreen(f"Log a {kind}", placeholder="What happened?",
                                          check=lambda v: None if v else "text: required", save=save))

    def action_task(self) -> None:
        from crmtui.screens.prompt import PromptScreen
        from crmtui.store.dates import parse_date
        from crmtui.store.errors import ValidationError

        def check(value: str) -> str | None:
            due = value.split(" ", 1)[0] if value else ""
            try:
                parse_date(due, field="due date")
            except ValidationError as exc:
                return exc.message
            return None if due else "due date: required (+1d, +1w, fri, 2026-12-01)"

        def save(value: str) -> None:
            due, _, body = value.partition(" ")
            self._act(lambda s, d: _next_task(s, d, due, body.strip()), typed=True)

        self.app.push_screen(
            PromptScreen(
                "Next task: due date, then optional text",
                value="+1d ",
                hint="+1d, +1w, fri or 2026-12-01, then what to do · reschedules the open task if there is one",
                check=check,
                save=save,
            )
        )

    def action_snooze(self) -> None:
        from crmtui.screens.prompt import PromptScreen
        from crmtui.store.deals import snooze_deal

        def save(value: str) -> None:
            if value:
                self._act(lambda s, d: f"Snoozed until {snooze_deal(s, d, value)[1]}", advance=True, typed=True)

        self.app.push_screen(PromptScreen("Snooze until", value="+1w", hint="+3d, +1w, mon, 2026-12-01", save=save))

    def action_won(self) -> None:
        from crmtui.store import board_actions

        self._act(lambda s, d: board_actions.win(s, d) and "Marked won", advance=True)

    def action_lost(self) -> None:
        from crmtui.screens.prompt import PromptScreen
        from crmtui.store import board_actions

        from crmtui.store.choices import values

        with self.app.database.session() as session:
            reasons = values(session, "lost_reason")

        def save(reason: str) -> None:
            self._act(lambda s, d: board_actions.lose(s, d, reason) and f"Marked lost: {reason}", advance=True,
                      typed=True)

        self.app.push_screen(
            PromptScreen("Lost: why?", placeholder=reasons[0] if reasons else "", hint="e.g. " + ", ".join(reasons[:4]),
                         check=lambda v: None if v else "reason: required", save=save)
        )

    def action_open(self) -> None:
        if self.current is not None:
            self.app.open_record("deal", self.current)

    def action_skip(self) -> None:
        if self.current is not None:
            self.index += 1
            self.show_current()

    def action_previous(self) -> None:
        if self.index > 0:
            self.index -= 1
            self.show_current()

    def action_undo(self) -> None:
        if not self.undo_ids:
            self.notify("Nothing to undo in this triage", timeout=2)
            return
        entry_id = self.undo_ids.pop()
        try:
            with self.app.database.session() as session:
                entry = undo.undo_entry(session, entry_id)
        except (CrmError, undo.UndoError) as exc:
            self.notify(str(exc), severity="error")
            return
        if entry is None:
            self.notify("Already undone", timeout=2)
            return
        # A won/lost/snooze moved on to the next deal: go back to the one it changed.
        payload = entry.payload
        for i in range(self.index, -1, -1):
            if i < len(self.queue) and f'"id": {self.queue[i]}' in payload:
                self.index = i
                break
        self.notify(f"Undid: {entry.label}", timeout=2)
        self.show_current()

    def action_leave(self) -> None:
        self.app.pop_screen()


def _next_task(session, deal_id: int, due: str, body: str) -> str:  # noqa: ANN001
    """Reschedule the deal's earliest open task, or add one when there is none."""
    from crmtui.store.activities import add_task, reschedule_task

    task_id = session.execute(
        "SELECT id FROM activity WHERE deal_id = :id AND kind = 'task' AND done_at IS NULL AND deleted_at IS NULL"
            " ORDER BY due_on, id LIMIT 1",
        {"id": deal_id},
    ).scalar()
    if task_id is not None and not body:
        task = reschedule_task(session, task_id, due)
        return f"Rescheduled “{task.body}” to {task.due_on}"
    task = add_task(session, "deal", deal_id, body or "Follow up", due)
    return f"Added “{task.body}” due {task.due_on}"
