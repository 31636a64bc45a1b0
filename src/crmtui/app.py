"""The Textual app. `make_app` is what `crmtui` and the tests call; nothing opens at import."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from crmtui.store.db import Database


class CrmApp(App[None]):
    """crmtui: one database, screens over it."""

    CSS_PATH = "app.tcss"
    TITLE = "crmtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("dollar_sign", "toggle_privacy", "Privacy", id="app.privacy"),
    ]

    # Masks every amount on every screen (screen sharing with a client). Screens watch it.
    privacy: reactive[bool] = reactive(False)

    def __init__(self, database: Database, settings: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.database = database
        self.settings = dict(settings or {})
        self.sub_title = str(database.path)
        self.privacy = bool(self.settings.get("privacy", False))

    def on_mount(self) -> None:
        from crmtui.screens.overview import OverviewScreen

        self.push_screen(OverviewScreen())

    # --- opening records (the detail screens replace the read-only view) ---------------------

    def open_record(self, kind: str, record_id: int) -> None:
        """Open a deal, company or contact. Screens call this instead of importing each other."""
        if kind == "deal":
            from crmtui.screens.deal_view import DealViewScreen

            self.push_screen(DealViewScreen(record_id, masked=self.privacy))

    # --- global screens ---------------------------------------------------------------------

    def action_toggle_privacy(self) -> None:
        self.privacy = not self.privacy
        self.notify("Amounts hidden" if self.privacy else "Amounts shown", timeout=2)

    def action_help(self) -> None:
        from crmtui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def make_app(database: Database, settings: dict[str, Any] | None = None) -> CrmApp:
    """Build the app over an open database."""
    return CrmApp(database, settings)
