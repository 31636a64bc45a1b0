"""The Textual app. `make_app` is what `crmtui` and the tests call; nothing opens at import."""

from __future__ import annotations

import gc
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from crmtui.store.db import Database


# Container objects allocated (net) between two young collections when the app owns its process.
GC_YOUNG_THRESHOLD = 10_000
# Seconds after the board's first frame before the write path is imported in the background.
WARM_UP_AFTER_SECONDS = 1.0
# Seconds between looks at the hooks' log while the app runs (hooks finish in the background).
HOOK_LOG_CHECK_SECONDS = 3.0


class CrmApp(App[None]):
    """crmtui: one database, screens over it."""

    CSS_PATH = "app.tcss"
    TITLE = "crmtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("dollar_sign", "toggle_privacy", "Privacy", id="app.privacy"),
        Binding("d", "dashboard", "Dashboard", id="app.dashboard"),
        Binding("b", "board", "Board", id="app.board"),
        Binding("A", "agenda", "Agenda", id="app.agenda"),
        Binding("exclamation_mark", "triage", "Triage", id="app.triage"),
        Binding("ctrl+f", "finder", "Find", id="app.finder"),
        Binding("C", "companies", "Companies", id="app.companies"),
        Binding("P", "contacts", "Contacts", id="app.contacts"),
        Binding("T", "trash", "Trash", id="app.trash"),
        Binding("R", "products", "Products", show=False, id="app.products"),
        Binding("I", "import_file", "Import", show=False, id="app.import"),
        Binding("comma", "settings", "Settings", show=False, id="app.settings"),
    ]
    COMMANDS = App.COMMANDS | {lambda: _record_commands()}

    # Masks every amount on every screen (screen sharing with a client). Screens watch it.
    privacy: reactive[bool] = reactive(False)

    def __init__(self, database: Database, settings: dict[str, Any] | None = None, *,
                 own_process: bool = False) -> None:
        super().__init__()
        self.database = database
        self.own_process = own_process
        if own_process:
            # Textual makes and drops objects by the thousand on every paint; a young collection
            # every 700 of them (the default) runs dozens of times per screen.
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        self.settings = dict(settings or {})
        self.sub_title = str(database.path)
        self.privacy = bool(self.settings.get("privacy", False))
        if self.settings.get("theme", "textual-dark") != "textual-dark":  # else Textual's ($TEXTUAL_THEME)
            self.theme = self.settings["theme"]

    async def on_mount(self) -> None:
        from crmtui.screens.board import BoardScreen

        await self.push_screen(BoardScreen())  # mounted: its cards are loaded
        start = self.settings.get("start-screen")  # opens over the board, the home screen
        if start == "agenda":
            self.action_agenda()
        elif start == "dashboard":
            self.action_dashboard()
        self.call_after_refresh(self._after_first_paint)  # after the frame that shows them

    def _after_first_paint(self) -> None:
        self._open_agenda_if_due()
        self._freeze_startup_objects()
        self.set_timer(WARM_UP_AFTER_SECONDS, self._warm_up)
        self._daily_backup()
        self._offer_to_empty_trash()
        self._hooks_at_start()

    @work(thread=True, exclusive=True, group="hooks")
    def _hooks_at_start(self) -> None:
        """Tasks due today or earlier go to the task-due hook (once each); hook failures not shown
        yet are shown, and while hooks are installed, new ones as they are logged."""
        from crmtui.store import hooks
        from crmtui.store.task_hooks import send_due_tasks

        send_due_tasks(self.database)
        self.call_from_thread(self._show_hook_failures)
        if hooks.installed():
            self.call_from_thread(self.set_interval, HOOK_LOG_CHECK_SECONDS, self._show_hook_failures)

    def _show_hook_failures(self) -> None:
        from crmtui.store.hooks import take_unseen_notice

        notice = take_unseen_notice()  # a stat when nothing was logged since the last look
        if notice:
            self.notify(notice, title="Hooks", severity="error", timeout=15)

    @work(thread=True, exclusive=True, group="trash-offer")
    def _offer_to_empty_trash(self) -> None:
        """When the trash holds records past the `trash-days` setting, ask whether to erase them."""
        from crmtui.screens.trash import offer_to_empty

        offer_to_empty(self)

    @work(thread=True, exclusive=True, group="backup")
    def _daily_backup(self) -> None:
        """The day's first backup (a consistent copy into backups/), taken while the user reads
        the board rather than before it shows (0.4 s for 100,000 deals, once a day). When it cannot
        be written, the user is told once and works on."""
        from crmtui.store import backups
        from crmtui.store.errors import DatabaseError

        if not backups.daily_on_open:
            return
        try:
            backups.daily_backup(self.database.path, self.database.busy_timeout)
        except DatabaseError as exc:
            self.call_from_thread(self.notify, f"No backup today: {exc.message}", severity="warning", timeout=10)

    @work(thread=True, exclusive=True, group="warm-up")
    def _warm_up(self) -> None:
        """What writing and the other screens need is imported in the background once the user
        is reading the board, rather than on the first key that writes. (Started with the
        board's first frame, it held that frame back: both need the GIL.)"""
        from crmtui.store import board_actions, reports  # noqa: F401 - imported for their side effect

        self._freeze_startup_objects()  # gc.freeze needs no event loop: no hop back to it (the app may be quitting)

    def _freeze_startup_objects(self) -> None:
        """The objects made while starting (modules, classes, the board: ~100,000, and as many
        again once warmed up) live as long as the process: move them out of the cyclic
        collector's sight, or every full collection walks them again (one in the middle of
        opening the dashboard: ~0.1 s). Only for an app that owns its process: in a test run it
        would also freeze the garbage of earlier tests."""
        if self.own_process:
            gc.freeze()

    @work(thread=True, exclusive=True, group="start-agenda")
    def _open_agenda_if_due(self) -> None:
        """With the `open-agenda-on-start` rule on, start on the agenda when something is due."""
        import sqlite3

        from crmtui.store.errors import CrmError
        from crmtui.store.settings import settings_from_rows

        try:
            # The rule first, over plain sqlite3: off (the default), nothing else is needed.
            conn = self.database.raw()
            try:
                wanted = settings_from_rows(conn.execute("SELECT key, value FROM setting"))["open-agenda-on-start"]
            finally:
                conn.close()
            if not wanted:
                return
            from crmtui.store.followups import compute_agenda

            with self.database.session() as session:
                due = compute_agenda(session, limit=0).total
        except (CrmError, sqlite3.Error):
            return  # the board, already showing, reports database trouble itself
        if due:
            self.call_from_thread(self.action_agenda)

    def action_board(self) -> None:
        """Back to the board (the home screen) from anywhere."""
        from crmtui.screens.board import BoardScreen

        if isinstance(self.screen, BoardScreen):
            return
        if any(isinstance(s, BoardScreen) for s in self.screen_stack):
            while not isinstance(self.screen, BoardScreen):
                self.pop_screen()
        else:
            self.push_screen(BoardScreen())

    # --- opening records (the detail screens replace the read-only view) ---------------------

    def open_record(self, kind: str, record_id: int) -> None:
        """Open a deal, company or contact. Screens call this instead of importing each other."""
        if kind == "deal":
            from crmtui.screens.deal_detail import DealDetailScreen

            self.push_screen(DealDetailScreen(record_id))
        elif kind == "company":
            from crmtui.screens.company_detail import CompanyDetailScreen

            self.push_screen(CompanyDetailScreen(record_id))
        elif kind == "contact":
            from crmtui.screens.contact_detail import ContactDetailScreen

            self.push_screen(ContactDetailScreen(record_id))

    def action_finder(self) -> None:
        from crmtui.screens.finder import FinderScreen

        if not isinstance(self.screen, FinderScreen):
            self.push_screen(FinderScreen())

    def action_companies(self) -> None:
        from crmtui.screens.record_lists import CompaniesScreen

        if not isinstance(self.screen, CompaniesScreen):
            self.push_screen(CompaniesScreen())

    def action_contacts(self) -> None:
        from crmtui.screens.record_lists import ContactsScreen

        if not isinstance(self.screen, ContactsScreen):
            self.push_screen(ContactsScreen())

    def action_products(self) -> None:
        """The catalogue: what is sold, at what price, tax rate and cost."""
        from crmtui.screens.products import ProductsScreen

        if not isinstance(self.screen, ProductsScreen):
            self.push_screen(ProductsScreen())

    def action_trash(self) -> None:
        from crmtui.screens.trash import TrashScreen

        if not isinstance(self.screen, TrashScreen):
            self.push_screen(TrashScreen())

    def action_import_file(self) -> None:
        """Import a CSV file: choose it, check its columns and stages, see the preview, import."""
        from crmtui.screens.import_screen import ImportScreen

        if not isinstance(self.screen, ImportScreen):
            self.push_screen(ImportScreen())

    def action_settings(self) -> None:
        """Pipelines, stages, fields, choice lists, rules and general settings, from anywhere."""
        from crmtui.screens.settings import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())

    def action_new_deal(self) -> None:
        from crmtui.screens.edit_forms import new_deal_form

        form = new_deal_form(self.database)

        def done(saved: bool | None) -> None:
            if saved and form.created_id:
                self.open_record("deal", form.created_id)

        self.push_screen(form, done)

    # --- global screens ---------------------------------------------------------------------

    def action_agenda(self) -> None:
        from crmtui.screens.agenda import AgendaScreen

        if not isinstance(self.screen, AgendaScreen):
            self.push_screen(AgendaScreen())

    def action_triage(self) -> None:
        """Step through every deal that needs attention (from the board, the agenda, anywhere)."""
        from crmtui.screens.triage import TriageScreen

        if not isinstance(self.screen, TriageScreen):
            self.push_screen(TriageScreen())

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry user data (deal titles, reasons, file names): always plain text, so
        a deal called "[/x" is shown as written instead of failing as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_toggle_privacy(self) -> None:
        self.privacy = not self.privacy
        self.notify("Amounts hidden" if self.privacy else "Amounts shown", timeout=2)

    def action_dashboard(self) -> None:
        """The dashboard, from anywhere; nothing happens when it is already showing."""
        from crmtui.screens.dashboard import DashboardScreen

        if not isinstance(self.screen, DashboardScreen):
            self.push_screen(DashboardScreen())

    def action_help(self) -> None:
        from crmtui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def _record_commands():  # noqa: ANN202 - the palette provider, imported when the palette opens
    from crmtui.commands import RecordCommands

    return RecordCommands


def make_app(database: Database, settings: dict[str, Any] | None = None, *, own_process: bool = False) -> CrmApp:
    """Build the app over an open database. `own_process`: the app is the process's program
    (`crmtui`, the benches), so it may tune the garbage collector for itself. The database's
    settings choose the theme, the start screen and how money and dates are written."""
    from crmtui.store.money import use_locale
    from crmtui.store.settings import read_settings

    stored = read_settings(database)
    use_locale(stored["locale"], stored["currency"])
    chosen = {"theme": stored["theme"], "start-screen": stored["start-screen"], **(settings or {})}
    return CrmApp(database, chosen, own_process=own_process)
